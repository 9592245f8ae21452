"""`paritybench plot RUN.json --out DIR`: the suite's pictures as PNGs (placeholder while written)."""
from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("plot", help="PNG pictures of a result JSON", description=__doc__)
    p.add_argument("run_file", metavar="RUN.json")
    p.add_argument("--out", required=True, metavar="DIR")
    p.set_defaults(run=run)


def run(args) -> int:
    raise ValueError("plot: got a call; allowed: not yet implemented")
