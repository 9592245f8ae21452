"""How often the gate gives a false verdict across hardware: the same code, natively and on an emulated
other CPU path (not a test: it takes minutes).

    .venv/bin/python -m bench.studies.hw_study --out results/hw-study [--emulate avx2|default]
        [--select "..."] [--profile default]

Runs the CPU throughput matrix (bench/test_throughput.py) three times, back to back: native, then
emulated, then native again. Emulated = every framework on another CPU code path, as on another
machine of this kind: torch ``ATEN_CPU_CAPABILITY``, XLA ``--xla_cpu_max_isa``, numpy
``NPY_DISABLE_CPU_FEATURES`` (``--emulate``: avx2 on an AVX-512 CPU, the AMD EPYC AVX2 machines'
path; default elsewhere, no SIMD). The code is the same in every run, so every 'slower' or
'faster' is false. Then, with ``paritybench compare``'s gate:
  - native -> emulated and emulated -> native with ``--across-machines`` (floor-normalised verdicts):
    the false verdicts, per direction;
  - the same pairs by default: no timing verdict (the runs' hardware fields differ), exit 0;
  - native -> native (A/A on one path): the control, 0 expected.
Every run's JSON and ``study.json`` (the figures) go to ``--out``, a new directory.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from bench.studies.gate_study import bench_run

# What each emulated path sets (numpy: its dispatched features above the baseline, by name).
PATHS = {
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "XLA_FLAGS": "--xla_cpu_max_isa=AVX2",
             "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR"},
    "default": {"ATEN_CPU_CAPABILITY": "default", "XLA_FLAGS": "--xla_cpu_max_isa=SSE4_2",
                "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR"},
}


def native_has_avx512() -> bool:
    try:
        return " avx512f" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def emulated_run(out: Path, name: str, env: dict, select: str | None) -> Path:
    """``bench_run`` with ``env`` added to this process's environment for the child (XLA_FLAGS appended)."""
    saved = dict(os.environ)
    try:
        for k, v in env.items():
            os.environ[k] = (os.environ.get(k, "") + " " + v).strip() if k == "XLA_FLAGS" else v
        return bench_run(out, name, None, select)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def judge(old: Path, new: Path, across: bool) -> dict:
    """The gate's verdicts of ``new`` against ``old`` (``--across-machines`` when ``across``)."""
    from paritybench.gate import compare
    from paritybench.store import resultfile
    d = compare.compare_runs(resultfile.load(str(old), "old"), resultfile.load(str(new), "new"),
                             across_machines=across)
    step = [r for r in d.rows if r.verdict not in ("not gated",)]
    return {"old": old.name, "new": new.name, "across_machines": across, "verdicts_given": d.verdicts,
            "hardware_differences": d.hardware, "cases": len(d.rows), "judged": len(step),
            "slower": sorted(r.case for r in d.rows if r.verdict == "slower"),
            "faster": sorted(r.case for r in d.rows if r.verdict == "faster"),
            "no_verdict": sum(r.verdict == "no verdict" for r in d.rows),
            "regressions": d.regressions, "exit": 1 if d.regressions else 0}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="a new directory for the runs and study.json")
    ap.add_argument("--emulate", choices=sorted(PATHS), default=None,
                    help="the other path (default: avx2 on an AVX-512 CPU, else default)")
    ap.add_argument("--select", default=None, help="pytest -k expression restricting the cases")
    a = ap.parse_args(argv)
    out = Path(a.out)
    if out.exists():
        raise SystemExit(f"hw_study: error: out: got {str(out)!r}, which exists; allowed: a new directory")
    path = a.emulate or ("avx2" if native_has_avx512() else "default")
    out.mkdir(parents=True)
    native0 = bench_run(out, "native0", None, a.select)
    emulated = emulated_run(out, f"emulated-{path}", PATHS[path], a.select)
    native1 = bench_run(out, "native1", None, a.select)
    study = {"emulate": path, "env": PATHS[path],
             "across_machines": [judge(native0, emulated, True), judge(emulated, native1, True)],
             "default": [judge(native0, emulated, False), judge(emulated, native1, False)],
             "control_native_aa": judge(native0, native1, False)}
    (out / "study.json").write_text(json.dumps(study, indent=1))
    for g in study["across_machines"] + study["default"] + [study["control_native_aa"]]:
        print(f"{g['old']} -> {g['new']} ({'--across-machines' if g['across_machines'] else 'default'}): "
              f"{len(g['slower'])} slower, {len(g['faster'])} faster of {g['judged']} judged; "
              f"exit {g['exit']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
