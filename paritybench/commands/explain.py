"""`paritybench explain RUN.json`: each step's time attributed to its ops (paritybench/analyses/explain.py).

    paritybench explain results/RUN.json            # tables in ns per element, then one line per
                                                    # cross-framework ratio naming the op behind it
    paritybench explain results/RUN.json --json     # the same, as JSON on stdout
    paritybench explain results/RUN.json --format markdown

Bad input: one line, exit 2.
"""
from __future__ import annotations

import json

from ..analyses import explain
from ..store import resultfile
from ..text.tables import render


def add_parser(sub) -> None:
    p = sub.add_parser("explain", help="where each step's time goes: ops per framework, and the op "
                       "behind each cross-framework ratio", description=__doc__)
    p.add_argument("run_file", metavar="RUN.json")
    p.add_argument("--json", action="store_true", help="print the attribution as JSON")
    p.add_argument("--format", choices=("terminal", "markdown"), default="terminal")
    p.set_defaults(run=run)


def run(args) -> int:
    r = resultfile.load(args.run_file, "run")
    if args.json:
        print(json.dumps(explain.explain(r), indent=1))
        return 0
    head = [r.partial] if r.partial else []
    print(render(explain.step_table(r), args.format, header=head, footer=explain.lines(r)))
    return 0
