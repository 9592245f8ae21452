"""`paritybench ab`: two Python environments interleaved on this machine, through the command.

The timed test runs the bench for real (2 processes a side, two numpy cases, about a minute): one case
is slowed down for real on side B only (``--plant-b``), the other is an A/A of the same Python.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from paritybench.gate import ab
from paritybench import cli

PY = sys.executable
PLANTED = "reference-numpy-cpu-f32-n1000-sgd-E1"
UNTOUCHED = "reference-numpy-cpu-f32-n1000000-sgd-E1"


def main(args, capsys) -> tuple[int, str, str]:
    rc = cli.main(args)
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory) -> str:
    """A Python without torch, jax or the project's dependencies (a new venv, no pip)."""
    d = tmp_path_factory.mktemp("bare")
    venv.EnvBuilder(with_pip=False).create(d)
    return str(d / "bin" / "python")


def test_bad_input_is_one_line_exit_2_before_anything_is_timed(tmp_path, capsys, bare_python):
    out = tmp_path / "ab"
    cases = [
        (["--a", str(tmp_path / "no-python"), "--b", PY], "a: got", "an existing Python executable"),
        (["--a", PY, "--b", bare_python], "b: got", "cannot import torch"),
        (["--a", PY, "--b", PY, "-k", "no-such-case-anywhere"], "k: got 'no-such-case-anywhere'",
         "selects no bench case"),
        (["--a", PY, "--b", PY, "--processes", "1"], "processes: got '1'", "from 2 to 16"),
        (["--a", PY, "--b", PY, "--profile", "huge"], "profile: got 'huge'", "quick, default, full"),
        (["--a", PY, "--b", PY, "--out", str(tmp_path)], "out: got", "which exists"),
    ]
    for args, field, allowed in cases:
        rc, _, err = main(["ab", *args] + ([] if "--out" in args else ["--out", str(out)]), capsys)
        lines = err.strip().splitlines()
        assert rc == 2 and len(lines) == 1 and field in lines[0] and allowed in lines[0], (args, err)
        assert not out.exists()  # nothing written, nothing timed


def test_an_a_a_gives_no_verdict_and_a_slowdown_planted_on_one_side_is_caught(tmp_path):
    out = tmp_path / "ab"
    # 3 processes a side: the per-case threshold rests on Student's t with 4 degrees of freedom (2 a
    # side would leave 2: a threshold near 2x for a 3% process spread)
    cmd = [PY, "-m", "paritybench", "ab", "--a", PY, "--b", PY, "--processes", "3", "--out", str(out),
           "-k", f"{PLANTED} or {UNTOUCHED}", "--plant-b", f"{PLANTED}=2"]
    p = subprocess.run(cmd, cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=600)
    assert "same machine: CPU, ISA, capability, threads and versions match" in p.stdout, p.stdout + p.stderr
    assert "noise: both sides ran interleaved in one run" in p.stdout and "\nresolution: median " in p.stdout
    saved = json.loads((out / "verdicts.json").read_text())
    assert saved["resolution"]["cases"] == 2 and {r["case"] for r in saved["rows"]} == {PLANTED, UNTOUCHED}
    rows = {r["case"]: r for r in saved["rows"]}
    assert all(r["resolution"] > 0 for r in rows.values())
    # the A/A half (same Python) never reads slower or faster, on any load
    assert rows[UNTOUCHED]["verdict"] in ("same", "too noisy"), rows[UNTOUCHED]
    # the planted 2x is caught wherever the machine let the case resolve it; on a machine so loaded
    # that it cannot (measured: a 45% process spread beside other jobs), 'too noisy', never 'same'
    if rows[PLANTED]["resolution"] < 1.0:
        assert p.returncode == 1 and rows[PLANTED]["verdict"] == "slower", p.stdout
        assert "B against A: 2 cases, 1 verdicts (slower or faster); REGRESSION (1):" in p.stdout, p.stdout
        assert f"  {PLANTED}: slower" in p.stdout
    else:
        assert rows[PLANTED]["verdict"] in ("slower", "too noisy"), rows[PLANTED]
    for side in ("a", "b"):
        doc = json.loads((out / f"{side}.json").read_text())
        ab = doc["paritybench"]["ab"]
        assert ab["side"] == side.upper() and ab["processes"] == 3 and len(ab["raw"]) == 3
        assert ab["planted"] == (f"{PLANTED}=2" if side == "b" else None)
        case = next(b for b in doc["benchmarks"] if b["extra_info"].get("kind") == "throughput"
                    and b["extra_info"]["n"] == 1000)
        assert len(case["extra_info"]["process_round_seconds"]) == 3  # one list per process
        assert doc["machine_info"]["jax"] and doc["machine_info"]["torch"]  # each side's own versions
    logs = sorted(p.name for p in (out / "raw").iterdir())
    assert logs == sorted(f"{s}{i}.{x}" for s in "ab" for i in range(3) for x in ("json", "log"))


def test_merge_keeps_one_list_per_process_and_the_median_per_step_when_k_differs(tmp_path):
    # two processes of one side: the same case timed with K = 128 and K = 64 steps per call
    def doc(k: int, per_step: float, ratio: float) -> dict:
        return {"benchmarks": [{"fullname": "bench/test_throughput.py::test_step[x]", "name": "test_step[x]",
                                "stats": {"median": per_step * k},
                                "extra_info": {"kind": "throughput", "steps_per_call": k,
                                               "round_seconds": [per_step] * 12, "paired_ratios": [ratio] * 12,
                                               "compile_seconds": 0.1, "memory": {"peak_rss_increase_bytes": 1}}}]}
    paths = []
    for i, (k, s, r) in enumerate(((128, 10e-6, 2.0), (64, 30e-6, 3.0))):
        paths.append(tmp_path / f"a{i}.json")
        paths[-1].write_text(json.dumps(doc(k, s, r)))
    e = ab.merge(paths)["benchmarks"][0]
    assert e["extra_info"]["processes"] == 2
    assert e["extra_info"]["process_round_seconds"] == [[10e-6] * 12, [30e-6] * 12]
    assert e["extra_info"]["floor_ratio_processes"] == [2.0, 3.0] and e["extra_info"]["floor_ratio"] == 2.5
    assert math.isclose(e["stats"]["median"] / 128, 20e-6)  # per step: 10 and 30 us, not per call


def test_ab_power_splits_the_processes_into_groups_and_counts_a_planted_change(tmp_path):
    # #31's ab study on the committed A/A ab (4 processes a side): side B's copy gets one case 30%
    # slower in every process and the plant recorded; groups of 4 and of 2 are judged by compare's rule
    from bench.studies import ab_power as P
    src = Path(__file__).resolve().parents[1] / "results" / "ab-aa-quick-20261205T001244"
    a, b = (json.loads((src / f"{s}.json").read_text()) for s in "ab")
    case = "torch-compiled-cpu-f32-n1000000-sgd-E1"
    for bench in b["benchmarks"]:
        if bench["name"].endswith(f"[{case}]"):
            ei = bench["extra_info"]
            ei["process_paired_ratios"] = [[1.3 * x for x in p] for p in ei["process_paired_ratios"]]
    planted = {case: 1.3}
    got = {p: P.judge(a, b, planted, p) for p in (4, 2)}
    assert got[4]["groups"] == 1 and got[2]["groups"] == 2
    assert got[4]["planted"]["1.3x large"] == {"tries": 1, "slower": 1, "too noisy": 0, "faster": 0}
    assert got[2]["planted"]["1.3x large"]["tries"] == 2
    u = got[4]["unplanted"]
    assert u["comparisons"] == 9 and u["slower"] + u["faster"] == 0, u  # the A/A cases: no verdict
    assert len(got[4]["resolve"]["large"]) == 1 and len(got[2]["resolve"]["small"]) == 2
    # a group is the processes side by side: a case's lists cut alike, other fields untouched
    g = P.group(b, 2, 4)
    one = next(x for x in g["benchmarks"] if x["name"].endswith(f"[{case}]"))["extra_info"]
    whole = next(x for x in b["benchmarks"] if x["name"].endswith(f"[{case}]"))["extra_info"]
    assert one["process_paired_ratios"] == whole["process_paired_ratios"][2:4]
    assert one["process_round_seconds"] == whole["process_round_seconds"][2:4]
    assert len(whole["process_paired_ratios"]) == 4 and one["paired_ratios"] == whole["paired_ratios"]
