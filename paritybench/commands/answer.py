"""`paritybench answer RUN.json`: the headline of a bench run (paritybench/analyses/answer.py).

    paritybench answer results/RUN.json                       # the verdict block, the seed's run
    paritybench answer results/RUN.json --n 1e6 --steps 10000  # time to train for your run
    paritybench answer results/RUN.json --json                # the same, as JSON on stdout

Time to train (paritybench/analyses/time_to_train.py) is for a run of --steps steps at size --n, fresh
process, cold and warm compile caches; default the seed's run (n = 1e3, 100 steps). A result file
recorded before the startup cases (#21) still answers the rest and says what it lacks; asked for
time to train with --n or --steps, it is bad input. Bad input: one line, exit 2.
"""
from __future__ import annotations

import json
import math

from ..analyses import answer
from ..store import resultfile


def add_parser(sub) -> None:
    p = sub.add_parser("answer", help="which framework is faster here, by how much, and do they agree",
                       description=__doc__)
    p.add_argument("run_file", metavar="RUN.json")
    p.add_argument("--n", metavar="N", help="training set size of your run (default 1000; 1e6 is accepted)")
    p.add_argument("--steps", metavar="S", help="steps of your run (default 100)")
    p.add_argument("--json", action="store_true", help="print the verdict block as JSON")
    p.set_defaults(run=run)


def integer(name: str, text: str | None) -> int | None:
    """'1000', '1e6' -> int; None stays None; ValueError (one line) for anything else."""
    if text is None:
        return None
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not (math.isfinite(v) and v >= 1 and v == int(v)):  # NaN, inf, < 1, fractional
        raise ValueError(f"{name}: got {text!r}; allowed: an integer >= 1 (1e6 is accepted)")
    return int(v)


def run(args) -> int:
    n, steps = integer("n", args.n), integer("steps", args.steps)
    ans = answer.answer(resultfile.load(args.run_file, "run"), n, steps)
    lacks = ans["time_to_train"].get("lacks")
    if lacks and (n is not None or steps is not None):
        raise ValueError(f"run_file: got {args.run_file!r} ({lacks}); allowed: a result file with "
                         "startup cases for --n and --steps")
    print(json.dumps(ans, indent=1) if args.json else "\n".join(answer.lines(ans)))
    return 0
