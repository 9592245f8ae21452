"""Between-process noise of the paired floor ratio: the part of A/A drift no single run can see.

    .venv/bin/python -m bench.studies.process_noise [--runs 4] [-k "eager-cpu-f32-n100000-sgd-E1 or compiled-cpu-f32-n100000-sgd-E1"]

Times the selected throughput cases in ``--runs`` fresh processes, back to back (seconds apart),
and prints each process's floor_ratio with its 95% CI. Where the processes' intervals do not
overlap, the spread between processes (allocator state, memory placement, what the neighbours do)
is larger than anything the rounds of one run measure: the gate's threshold must cover it.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("-k", dest="select",
                    default="eager-cpu-f32-n100000-sgd-E1 or compiled-cpu-f32-n100000-sgd-E1")
    a = ap.parse_args(argv)
    rows: dict[str, list] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(a.runs):
            out = Path(tmp) / f"p{i}.json"
            subprocess.run([sys.executable, "-m", "pytest", "bench/test_throughput.py", "--benchmark-only",
                            "-q", "-p", "no:cacheprovider", "--device", "cpu", "--processes", "1", "-k",
                            f"test_step and ({a.select})", "--benchmark-json", str(out)],
                           cwd=ROOT, check=True, stdout=subprocess.DEVNULL, timeout=900)
            for b in json.loads(out.read_text())["benchmarks"]:
                e = b["extra_info"]
                rows.setdefault(b["name"], []).append((e["floor_ratio"], *e["floor_ratio_ci95"]))
    for name, vals in rows.items():
        lo = min(v[0] for v in vals)
        print(f"{name}: " + "  ".join(f"{r:.2f} [{a_:.2f}, {b_:.2f}]" for r, a_, b_ in vals)
              + f"  spread {max(v[0] for v in vals) / lo - 1:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
