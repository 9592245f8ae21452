"""`paritybench compare RUN.json` tables one run; `paritybench compare OLD.json NEW.json` gates on two.

Exit status: 0 = no regression (or one run shown), 1 = a regression (a case slower: its paired
step/floor ratios moved by more than the threshold with a Mann-Whitney p < alpha; or a changed
outcome), 2 = bad input (one line on stderr). Different hardware (CPU, ISA, torch's CPU path,
numpy's SIMD, threads): the ratios are shown and NO timing verdict is given (exit 0 unless an
outcome changed) unless --across-machines. Same hardware with other framework versions: the
changed framework's cases on absolute times over an unchanged drift control. Rules:
paritybench/gate/rules.py and docs/compare.md. Input files are only read.
"""
from __future__ import annotations

import argparse
import os
import sys

from ..gate import compare
from ..render import one_run
from ..text import tables as render
from ..store import resultfile
from ..gate import rules as V


def add_parser(sub) -> None:
    p = sub.add_parser("compare", help="tables of one result JSON, or a before/after regression gate",
                       description=__doc__)
    p.add_argument("files", nargs="+", metavar="RUN.json",
                   help="one result file (tables per group of cases) or two (OLD.json NEW.json)")
    p.add_argument("--baseline", metavar="BACKEND-VARIANT",
                   help="ratio column relative to this case in each group, e.g. jax-scan "
                        "(default: the group's fastest)")
    p.add_argument("--threshold", default=V.MIN_EFFECT, type=_fraction, metavar="PCT",
                   help=f"the floor of every case's threshold (which follows from its noise), e.g. 5%% "
                        f"or 0.05 (default {100 * V.MIN_EFFECT:.0f}%%)")
    p.add_argument("--alpha", default=V.ALPHA, type=_alpha, metavar="P",
                   help=f"false verdicts per case-comparison, both directions (default {V.ALPHA:g})")
    p.add_argument("--noise", default="auto", metavar="PROFILE.json",
                   help="a noise profile (bench/studies/noise_profile.py), or 'none'; default: the newest "
                        "results/noise-profile-*.json of this machine kind")
    p.add_argument("--absolute", action="store_true",
                   help="also gate absolute times per step (only when both runs' machines match)")
    p.add_argument("--across-machines", action="store_true",
                   help="give floor-normalised verdicts between different hardware too (false verdicts: "
                        "docs/compare.md 'Across hardware')")
    p.add_argument("--across-devices", action="store_true",
                   help="match cases whose ids differ only in the device (a CPU run against a GPU run)")
    p.add_argument("--format", default="terminal", choices=render.FORMATS,
                   help="terminal (<= 100 columns), markdown, csv or json")
    p.set_defaults(run=run)


def _fraction(text: str) -> float:
    try:
        v = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}; allowed: a percentage like 10% or a fraction like 0.1") from None
    if not 0 < v < 10:  # also rejects nan
        raise argparse.ArgumentTypeError(f"got {text!r}; allowed: a percentage > 0% and < 1000%")
    return v


def _alpha(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(f"got {text!r}; allowed: a probability > 0 and < 1, e.g. 0.001")
    return v


def run(args) -> int:
    if len(args.files) > 2:
        raise ValueError(f"files: got {len(args.files)} files; allowed: RUN.json, or OLD.json NEW.json")
    if len(args.files) == 1:
        r = resultfile.load(args.files[0], "run")
        tables = one_run.run_tables(r, args.baseline)
        _emit(render.render(tables, args.format, [r.partial] if r.partial else ()))
        return 0
    if args.baseline is not None:
        raise ValueError(f"baseline: got {args.baseline!r}; allowed: only with one file (the ratio "
                         "column of a single run's tables)")
    old = resultfile.load(args.files[0], "old")
    new = resultfile.load(args.files[1], "new")
    rules = V.Rules(alpha=args.alpha, min_effect=args.threshold, absolute=args.absolute)
    d = compare.compare_runs(old, new, rules, args.across_devices, args.across_machines, load_noise(args.noise))
    n_common = len(d.table.rows)
    verdict = (f"REGRESSION ({len(d.regressions)}):" if d.regressions else
               "no regression" if d.verdicts else "no timing verdict (hardware differs); no outcome changed")
    footer = resolution_lines(d)
    footer += [f"{n_common} cases compared, {len(d.only_old)} only in old, {len(d.only_new)} only in new; "
               + verdict]
    footer += [f"  {line}" for line in d.regressions]
    _emit(with_resolution(render.render(compare.diff_tables(d), args.format, d.header, footer), args.format, d))
    return 1 if d.regressions else 0


def load_noise(text: str):
    """--noise: 'auto' (compare_runs finds one), 'none', or a profile file (ValueError if unreadable)."""
    import json
    if text in ("auto", "none"):
        return "auto" if text == "auto" else None
    try:
        doc = json.loads(open(text).read())
    except (OSError, ValueError) as e:
        raise ValueError(f"noise: got {text!r} ({type(e).__name__}); allowed: a noise profile JSON, auto or none") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("cases"), dict):
        raise ValueError(f"noise: got {text!r} (no 'cases'); allowed: a noise profile JSON "
                         "(python -m bench.studies.noise_profile), auto or none")
    return {**doc, "path": text}


def resolution_lines(d) -> list[str]:
    """The run's resolution summary and every case it cannot resolve below verdict.MAX_RESOLUTION."""
    r = d.resolution
    if not r:
        return []
    out = [r["line"]]
    out += [f"  {w['case']}: too noisy to judge a change under {100 * V.MAX_RESOLUTION:.0f}%: {w['why']}"
            for w in r.get("wider_than_max", [])]
    return out


def with_resolution(text: str, fmt: str, d) -> str:
    """JSON output: the resolution summary as its own key beside the tables."""
    if fmt != "json":
        return text
    import json
    doc = json.loads(text)
    doc["resolution"] = d.resolution
    doc["noise_profile"] = d.profile
    return json.dumps(doc, indent=1)


def _emit(text: str) -> None:
    """Print; a reader that closes the pipe early (``| head``) is not an error."""
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
