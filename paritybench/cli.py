"""`paritybench` command line: one module per subcommand, each with ``add_parser`` and ``run``.

Every bad input is one line on stderr, ``paritybench <command>: error: <field>: ...``, exit 2,
and no traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# subcommand name -> module with add_parser(subparsers) and run(args) -> int
COMMANDS = {
    "answer": "paritybench.commands.answer",
    "train": "paritybench.commands.train",
    "horizon": "paritybench.commands.horizon",
    "compare": "paritybench.commands.compare",
    "ab": "paritybench.commands.ab",
    "explain": "paritybench.commands.explain",
    "plot": "paritybench.commands.plot",
    "report": "paritybench.commands.report",
}


class OneLineParser(argparse.ArgumentParser):
    """argparse whose errors are one line (no usage block), exit status 2."""

    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="paritybench", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for name, module in COMMANDS.items():
        importlib.import_module(module).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except ValueError as e:  # the contract's one-line errors
        sys.stderr.write(f"paritybench {args.command}: error: {e}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write(f"paritybench {args.command}: interrupted; no result file was written\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
