"""`paritybench ab --a PYTHON_A --b PYTHON_B`: one bench selection in two Python environments on this
machine, processes interleaved A, B, A, B, ...; one result JSON per side and compare's verdicts of
B against A (paritybench/gate/ab.py; docs/compare.md "Two environments on one machine").

Exit status: 0 = no regression, 1 = a regression of B against A, 2 = bad input (one line, before
anything is timed), 130 = interrupted (the processes' JSONs so far stay under OUT/raw).
"""
from __future__ import annotations

from ..gate import ab, compare
from ..text import tables as render
from ..store import resultfile
from ..gate import rules as V
from .compare import _alpha, _emit, _fraction, resolution_lines

PROFILES = ("quick", "default", "full")


def add_parser(sub) -> None:
    p = sub.add_parser("ab", help="an interleaved A/B of two Python environments on this machine",
                       description=__doc__)
    p.add_argument("--a", required=True, metavar="PYTHON_A", help="the Python of side A (the old one)")
    p.add_argument("--b", required=True, metavar="PYTHON_B", help="the Python of side B (the new one)")
    p.add_argument("--profile", default="quick", help="bench profile: quick (default), default or full")
    p.add_argument("-k", dest="expr", default=None, metavar="EXPR",
                   help=f"pytest -k selection of bench cases (default {ab.DEFAULT_SELECTION!r}); numpy's "
                        "steps are always added as the drift control")
    p.add_argument("--out", default=None, metavar="DIR", help="a new directory (default results/ab-<time>)")
    p.add_argument("--processes", default="4", metavar="N",
                   help="processes per side, 2 to 16 (default 4: the gate's process test needs >= 4)")
    p.add_argument("--device", default=None, help="cpu or gpu (default: the profile's)")
    p.add_argument("--plant-b", default=None, metavar="CASE_ID=FACTOR",
                   help="slow those cases down for real on side B only (to test the gate)")
    p.add_argument("--threshold", default=V.MIN_EFFECT, type=_fraction, metavar="PCT",
                   help=f"the floor of every case's threshold, which follows from its noise (default "
                        f"{100 * V.MIN_EFFECT:.0f}%%)")
    p.add_argument("--alpha", default=V.ALPHA, type=_alpha, metavar="P",
                   help=f"false verdicts per case-comparison, both directions (default {V.ALPHA:g})")
    p.set_defaults(run=run)


def run(args) -> int:
    if args.profile not in PROFILES:
        raise ValueError(f"profile: got {args.profile!r}; allowed: one of {', '.join(PROFILES)}")
    if not (args.processes.isdigit() and 2 <= int(args.processes) <= 16):
        raise ValueError(f"processes: got {args.processes!r}; allowed: an integer from 2 to 16")
    if args.device not in (None, "cpu", "gpu", "cuda"):
        raise ValueError(f"device: got {args.device!r}; allowed: cpu or gpu")
    out = ab.out_dir(args.out)
    va, vb = ab.probe("a", args.a), ab.probe("b", args.b)
    print(f"ab: A {args.a}: torch {va['torch']}, jax {va['jax']}, numpy {va['numpy']}")
    print(f"ab: B {args.b}: torch {vb['torch']}, jax {vb['jax']}, numpy {vb['numpy']}")
    ids = ab.collect(args.a, args.profile, args.expr or ab.DEFAULT_SELECTION, args.device)
    n = int(args.processes)
    print(f"ab: {len(ids)} cases (+ numpy's steps as the drift control), {n} processes per side, "
          f"alternating A, B; results in {out}", flush=True)
    try:
        pa, pb = ab.run(args.a, args.b, args.profile, args.expr, out, n, args.device, args.plant_b,
                        say=lambda line: print(line, flush=True))
    except KeyboardInterrupt:
        print(f"paritybench ab: interrupted; the processes' JSONs so far are under {out / 'raw'}")
        return 130
    except RuntimeError as e:
        print(f"paritybench ab: {e}")
        return 1
    rules = V.Rules(alpha=args.alpha, min_effect=args.threshold)
    d = compare.compare_runs(resultfile.load(str(pa), "A"), resultfile.load(str(pb), "B"), rules)
    verdicts = [r for r in d.rows if r.verdict in ("slower", "faster")]
    saved = ab.save_verdicts(out, d)
    footer = resolution_lines(d)
    footer += [f"B against A: {len(d.rows)} cases, {len(verdicts)} verdicts (slower or faster); "
               + (f"REGRESSION ({len(d.regressions)}):" if d.regressions else "no regression")]
    footer += [f"  {line}" for line in d.regressions] + [f"A: {pa}", f"B: {pb}", f"verdicts: {saved}"]
    _emit(render.render(compare.diff_tables(d), "terminal", d.header, footer))
    return 1 if d.regressions else 0
