"""A noise profile of one machine kind from A/A runs (issue #31): per gated case, the between-process
sd of its paired ratio's process medians and its run-to-run sd, which ``paritybench compare`` uses
for the case's threshold and resolution on that machine kind (``gate.noise.find_profile``: the newest
results/noise-profile-*.json whose hardware fields match the new run's).

    .venv/bin/python -m bench.studies.noise_profile RUN.json RUN.json ... [--out results/noise-profile-<time>.json]

The runs: several runs of one commit (A/A) on the machine kind, with 4 processes per case (the
default); a run with more processes counts as one run. Each case's figures (``gate.noise.profile_entry``):
  sd_process, df_process   the pooled sd of log process medians within runs
  sd_run, df_run           the sd of the runs' means beyond what sd_process explains (at least
                           verdict.MIN_RUN_SD), R - 1 degrees of freedom
A profile measured on the same runs a comparison then judges is fit to them: judge other runs
(the resolution study does, docs/compare.md).
"""
from __future__ import annotations

import sys

from bench.studies import study


def main(argv=None) -> int:
    ap = study.parser(__doc__, "noise-profile")
    ap.add_argument("runs", nargs="+", metavar="RUN.json", help="A/A runs of one machine kind (>= 2)")
    a = ap.parse_args(argv)
    from paritybench.store import resultfile
    from paritybench.gate import noise as verdict  # the noise profiles (were verdict.py's)
    if len(a.runs) < 2:
        ap.error(f"runs: got {len(a.runs)}; allowed: at least 2 result files")
    out = study.out_path(a.out, "noise-profile")
    try:
        runs = [resultfile.load(p, "run") for p in a.runs]
        doc = verdict.build_profile(runs)
    except ValueError as e:
        ap.error(str(e))
    wide = sorted(doc["cases"].items(), key=lambda kv: -kv[1]["sd_run"])[:5]
    print(f"{len(doc['cases'])} cases from {len(runs)} runs; largest run-to-run sd: "
          + ", ".join(f"{k.split('[')[-1][:-1]} {100 * e['sd_run']:.1f}%" for k, e in wide))
    study.save(out, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
