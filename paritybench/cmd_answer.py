"""`paritybench answer RUN.json`: the headline of a bench run (paritybench/answer.py).

    paritybench answer results/RUN.json          # the verdict block, at most ~12 lines
    paritybench answer results/RUN.json --json   # the same, as JSON on stdout

Bad input: one line, exit 2.
"""
from __future__ import annotations

import json

from . import answer, resultfile


def add_parser(sub) -> None:
    p = sub.add_parser("answer", help="which framework is faster here, by how much, and do they agree",
                       description=__doc__)
    p.add_argument("run_file", metavar="RUN.json")
    p.add_argument("--json", action="store_true", help="print the verdict block as JSON")
    p.set_defaults(run=run)


def run(args) -> int:
    ans = answer.answer(resultfile.load(args.run_file, "run"))
    print(json.dumps(ans, indent=1) if args.json else "\n".join(answer.lines(ans)))
    return 0
