"""What more processes would buy the gate (issue #31), computed, not measured: each default-tier
step case's resolution by compare's own rule (``gate.rules.noise``: Student's t at alpha = 0.001, 80%
power, the 3% floor) from a noise profile's between-process and run-to-run sds, with P processes a
side, between separate runs and interleaved in one run (``paritybench ab``: no run-to-run term).

    .venv/bin/python -m bench.studies.resolution_whatif [results/noise-profile-*.json] [--processes 4,8,16]

It assumes the profile's sds hold at any P (they were measured at 4) and prints, per size band,
the median resolution and how many cases resolve 5% and 10%; then the bound that no number of
processes passes between separate runs, the run-to-run sd alone (``bound``).
"""
from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

from bench.studies import study


def resolution(sd_process: float, df_process: float, sd_run: float, df_run: float, p: int) -> float:
    """The change detected with 80% power, P against P processes, by ``gate.rules.resolve`` (the
    profile's between-process sd pooled with the processes' own degrees of freedom, as compare does)."""
    from paritybench.gate import rules as V
    return V.resolve(sd_process, df_process + 2 * p - 2, sd_run, df_run, p, p, V.ALPHA, V.MIN_EFFECT).resolution


def unlimited(sd_run: float, df_run: float) -> float:
    """The resolution between separate runs with unlimited processes a side: the between-process term
    gone, SE = sqrt(2) sd_run with the run-to-run sd's degrees of freedom (compare's threshold and power)."""
    from paritybench.gate import rules as V
    return V.resolve(0.0, 1.0, sd_run, df_run, 1, 1, V.ALPHA, V.MIN_EFFECT).resolution  # no between-process part


def bound(profile: dict, known: bool = False) -> list[str]:
    """Per size band, how many cases could resolve 5% (n >= 1e5) or 10% (n = 1e3) between separate
    runs even with unlimited processes, and the ones that could not (``known``: the run-to-run sds
    taken as known, normal quantiles, instead of their degrees of freedom)."""
    out = []
    for label, keep, lim in (("n >= 1e5", lambda n: n >= 100_000, 0.05), ("n = 1e3", lambda n: n < 100_000, 0.10)):
        rows = []
        for k, e in profile["cases"].items():
            m = re.search(r"\[(.*)\]", k)
            name = m.group(1) if m else k
            if "tuned" in name or "-n" not in name or not keep(int(re.search(r"-n(\d+)-", name).group(1))):
                continue
            rows.append((name, unlimited(e["sd_run"], math.inf if known else e["df_run"] or math.inf), e["sd_run"]))
        over = [f"{n} (run-to-run sd {100 * sd:.1f}%: {100 * r:.0f}%)" for n, r, sd in sorted(rows, key=lambda x: -x[1])
                if r > lim]
        out.append(f"unlimited processes, separate runs{', sds known' if known else ''}, {label}: "
                   f"{len(rows) - len(over)} of {len(rows)} resolve "
                   f"{100 * lim:.0f}%" + ("; not: " + ", ".join(over) if over else ""))
    return out


def table(profile: dict, processes: list[int]) -> list[str]:
    rows = []
    for k, e in profile["cases"].items():
        m = re.search(r"\[(.*)\]", k)
        name = m.group(1) if m else k
        if "tuned" in name or "-n" not in name:
            continue
        n = int(re.search(r"-n(\d+)-", name).group(1))
        dfr = e["df_run"] or math.inf
        rows.append((n, {p: (resolution(e["sd_process"], e["df_process"], e["sd_run"], dfr, p),
                             resolution(e["sd_process"], e["df_process"], 0.0, math.inf, p)) for p in processes}))
    out = ["| cases | P a side | separate runs: median / resolve 5% / 10% | interleaved (ab): median / resolve 5% / 10% |",
           "|---|---|---|---|"]
    for label, keep in (("n >= 1e5", lambda n: n >= 100_000), ("n = 1e3", lambda n: n < 100_000)):
        sel = [r for n, r in rows if keep(n)]
        for p in processes:
            cells = []
            for j in (0, 1):
                xs = sorted(r[p][j] for r in sel)
                cells.append(f"{100 * xs[len(xs) // 2]:.1f}% / {sum(x <= 0.05 for x in xs)} / "
                             f"{sum(x <= 0.10 for x in xs)}")
            out.append(f"| {label} ({len(sel)}) | {p} | {cells[0]} | {cells[1]} |")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("profile", nargs="?", default=None, help="a noise profile (default: the newest in results/)")
    ap.add_argument("--processes", type=study.positive_ints, default=[4, 8, 16])
    a = ap.parse_args(argv)
    found = sorted((study.ROOT / "results").glob("noise-profile-*.json"))
    if not a.profile and not found:
        ap.error("profile: none given and none in results/; allowed: a noise profile JSON "
                 "(python -m bench.studies.noise_profile)")
    path = Path(a.profile) if a.profile else found[-1]
    try:
        profile = json.loads(path.read_text())
        assert isinstance(profile.get("cases"), dict)
    except (OSError, ValueError, AttributeError, AssertionError) as e:
        ap.error(f"profile: got {path} ({e or 'no cases'}); allowed: a noise profile JSON")
    print(f"{path.name}: resolution by compare's rule from its sds (computed)")
    print("\n".join(table(profile, a.processes)))
    print("\n".join(bound(profile) + bound(profile, known=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
