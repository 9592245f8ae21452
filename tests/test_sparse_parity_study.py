"""bench/studies/sparse_parity_study.py: bad input is one line and exit 2 before anything trains; a
tiny run writes a well-formed JSON that paritybench/report/sparse_parity.py renders and
paritybench/render/sparse_parity.py draws."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CMD = [sys.executable, "-m", "bench.studies.sparse_parity_study"]


@pytest.mark.parametrize("args,field", [
    (["--ns", "8,0"], "--ns"),
    (["--seeds", "x"], "--seeds"),
    (["--ns", "8,12", "--k", "9"], "--k"),
    (["--backends", "torch,mxnet"], "--backends"),
    (["--eval-every", "100", "--budget", "50"], "--eval-every"),
    (["--torch-variant", "graphed"], "--torch-variant"),
])
def test_bad_input_is_one_line_and_exit_2(args, field, tmp_path):
    out = tmp_path / "out.json"
    p = subprocess.run(CMD + args + ["--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(lines) == 1, p.stderr
    assert lines[0].startswith("sparse-parity-study: error: argument " + field), p.stderr
    assert not out.exists()


def test_a_tiny_run_writes_a_well_formed_json(tmp_path):
    from impls.models import get, get_backend
    try:  # torch eager: no compile, so the run takes seconds (jax's per-run compiles would not)
        get_backend(get("sparse-parity"), "torch")
    except ValueError:
        pytest.skip("torch is not installed")
    backends = ["torch"]
    out = tmp_path / "sp.json"
    p = subprocess.run(CMD + ["--ns", "8,10", "--k", "2", "--seeds", "2", "--width", "64", "--budget", "3000",
                              "--eval-every", "32", "--jump-n", "8", "--jump-steps", "256",
                              "--torch-variant", "eager",
                              "--backends", ",".join(backends), "--out", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    d = json.loads(out.read_text())
    assert d["kind"] == "sparse-parity-study" and d["budget"] == 3000 and d["seeds"] == 2
    assert d["versions"]["python"] and set(d["variants"]) == set(backends)
    assert len(d["scaling"]) == 2 * 2 * len(backends)
    for r in d["scaling"]:
        assert r["stopped"] in ("solved", "budget")
        assert (r["steps_to_solve"] is None) == (r["stopped"] == "budget")
        if r["steps_to_solve"] is not None:
            assert r["steps_to_solve"] % 32 == 0 and r["steps_to_solve"] == r["steps_run"]
    assert {j["backend"] for j in d["jump"]} == set(backends)
    for j in d["jump"]:
        assert j["steps"] == list(range(0, 257, 32)) and j["steps_run"] == 256
        assert len(j["accuracy"]) == len(j["train_loss"]) == len(j["w1_movement"]) == len(j["steps"])
        assert j["w1_movement"][0] == 0 and len(j["secret"]) == 2
    for b in backends:
        assert set(d["fit"][b]) >= {"slope", "slope_ci95", "ns", "censored_ns"}

    from paritybench.render.sparse_parity import figure
    fig = figure(d)
    png = tmp_path / "sp.png"
    fig.savefig(png)
    assert png.stat().st_size > 10_000
