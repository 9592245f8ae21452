"""Time to train (#21): the cold start is cold, the model's arithmetic, `paritybench answer --n --steps`
and its bad input, an older result file without startup cases.

Inputs: the SYNTHETIC fixture tests/data/run_synthetic.json plus made-up startup cases (``with_starts``:
round numbers, not measurements); the committed results/bench-default-*.json files (recorded before
the startup cases); one real cold and warm JAX start in fresh processes (bench/startup.py).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from paritybench.analyses import answer
from paritybench import cli
from paritybench.store import resultfile
from paritybench.analyses import time_to_train as ttt

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "tests" / "data" / "run_synthetic.json"
OLDER = sorted((ROOT / "results").glob("bench-default-cpu*-*.json"))[0]
# label -> (cold run seconds, warm run seconds) of 100 steps at n = 1e3 and 1e6 (made up)
STARTS = {("reference", "numpy"): ((0.2, None), (2.0, None)), ("torch", "eager"): ((2.0, None), (3.0, None)),
          ("torch", "compiled"): ((8.0, 3.0), (9.0, 4.0)), ("jax", "jit"): ((2.5, 1.5), (3.0, 2.0)),
          ("jax", "scan"): ((2.6, 1.6), (3.1, 2.1))}


def _record(b: str, v: str, n: int, cold: float, warm: float | None) -> dict:
    rec = lambda s: {"run_seconds": s, "import_seconds": s / 2, "to_first_step_seconds": s * 0.9,  # noqa: E731
                     "first_call_seconds": s / 3, "process_seconds": s + 0.5}
    cid = f"startup-{b}-{v}-cpu-f32-n{n}"
    t = cold + (warm or 0)
    stats = {"min": t, "max": t, "mean": t, "stddev": 0, "rounds": 1, "median": t, "iqr": 0, "q1": t, "q3": t}
    return {"name": f"test_startup[{cid}]", "fullname": f"bench/test_startup.py::test_startup[{cid}]",
            "stats": stats, "extra_info": {"kind": "startup", "backend": b, "variant": v, "device": "cpu",
                                           "dtype": "float32", "n": n, "optimizer": "sgd", "E": 1, "steps": 100,
                                           "cold": rec(cold), "warm": rec(warm or cold), "warm_measured": warm is not None}}


def with_starts(tmp_path) -> Path:
    d = json.loads(RUN.read_text())
    for (b, v), per_n in STARTS.items():
        for n, (cold, warm) in zip((1000, 1_000_000), per_n):
            d["benchmarks"].append(_record(b, v, n, cold, warm))
    p = tmp_path / "run_with_starts.json"
    p.write_text(json.dumps(d))
    return p


def main(args, capsys):
    rc = cli.main(args)
    out, err = capsys.readouterr()
    return rc, out, err


def test_model_arithmetic(tmp_path):
    run = resultfile.load(with_starts(tmp_path))
    ents = {(e["label"], e["n"]): e for e in ttt.entries(run)}
    assert len(ents) == 10
    e = ents[("torch-compiled", 1000)]
    step = e["step_seconds"]
    assert e["cold"]["startup_seconds"] == pytest.approx(8.0 - 100 * step)
    assert e["warm"]["startup_seconds"] == pytest.approx(3.0 - 100 * step)
    assert ttt.seconds(e, 100, "cold") == pytest.approx(8.0)  # T(S0) is the measured run
    assert ttt.seconds(e, 12345, "warm") == pytest.approx(3.0 + 12245 * step)
    eager = ents[("torch-eager", 1000)]
    expect = (e["warm"]["startup_seconds"] - eager["warm"]["startup_seconds"]) / (eager["step_seconds"] - step)
    assert ttt.break_even(e, eager, "warm") == pytest.approx(expect)
    assert ttt.seconds(e, expect, "warm") == pytest.approx(ttt.seconds(eager, expect, "warm"))
    assert ttt.break_even(eager, e, "warm") is None  # slower per step and at the start: never
    assert ttt.break_even(eager, e, "cold") is None
    numpy = ents[("reference-numpy", 1000)]
    assert ttt.break_even(numpy, e, "cold") == 0.0  # faster from the first step and per step


def test_crossovers_follow_the_fastest(tmp_path):
    run = resultfile.load(with_starts(tmp_path))
    mine = [e for e in ttt.entries(run) if e["n"] == 1000]
    for start in ttt.STARTS:
        xs = ttt.crossovers(mine, start, 1, 1e7)
        for k, a, b in xs:
            assert ttt.seconds(a, k, start) == pytest.approx(ttt.seconds(b, k, start))
            best = lambda s: min(mine, key=lambda e: ttt.seconds(e, s, start))  # noqa: E731
            assert best(k * 0.99) is a and best(k * 1.01) is b
    # numpy is fastest at the start; jax-scan (5.4 us per step against numpy's 13 us) overtakes it
    assert [(a["label"], b["label"]) for _, a, b in ttt.crossovers(mine, "warm", 1, 1e7)] == [
        ("reference-numpy", "jax-scan")]


def test_answer_for_a_run(tmp_path):
    run = resultfile.load(with_starts(tmp_path))
    tt = ttt.for_run(run)  # the seed's run: n = 1e3, 100 steps
    assert (tt["n"], tt["steps"]) == (1000, 100)
    rows = {(r["backend"], r["variant"]): r for r in tt["entries"]}
    assert rows[("torch", "compiled")]["cold_seconds"] == pytest.approx(8.0)
    assert rows[("torch", "eager")]["warm_seconds"] == pytest.approx(2.0)  # no cache: warm = cold
    for r in tt["entries"]:
        assert {"backend", "variant", "device", "dtype", "n", "steps", "cold_seconds", "warm_seconds"} <= set(r)
    assert tt["fastest"]["cold"]["overall"] == "reference-numpy"
    assert tt["fastest"]["cold"]["per_framework"]["torch"] == {"variant": "eager", "seconds": pytest.approx(2.0)}
    assert tt["fastest"]["warm"]["per_framework"]["jax"]["variant"] == "jit"
    assert tt["per_step"]["jax"]["variant"] == "scan" and tt["per_step"]["torch"]["variant"] == "compiled"
    pairs = {(b["variant"], b["against"]) for b in tt["break_even"]}
    assert pairs == {("torch-compiled", "torch-eager"), ("torch-compiled", "reference-numpy"),
                     ("jax-scan", "jax-jit"), ("jax-scan", "reference-numpy"), ("jax-jit", "reference-numpy")}
    long = ttt.for_run(run, 1_000_000, 10**6)
    assert long["fastest"]["warm"]["overall"] == "torch-compiled"  # 2.26 ms per step, the fastest there
    text = answer.lines(answer.answer(run))
    assert any(line.strip().startswith("cold:") and "fastest reference-numpy" in line for line in text)
    assert any("faster beyond" in line for line in text) and len(text) <= 17


def test_answer_arguments(tmp_path, capsys):
    p = str(with_starts(tmp_path))
    rc, out, _ = main(["answer", p, "--n", "1e6", "--steps", "10000", "--json"], capsys)
    doc = json.loads(out)["time_to_train"]
    assert rc == 0 and (doc["n"], doc["steps"]) == (1_000_000, 10_000)
    assert set(doc["fastest"]) == {"cold", "warm"}
    rc, out, _ = main(["answer", p], capsys)
    assert rc == 0 and "time to train, cpu n=1e3, 100 steps" in out


@pytest.mark.parametrize("args,field", [(["--steps", "0"], "steps: got '0'"), (["--n", "-1"], "n: got '-1'"),
                                        (["--n", "1.5"], "n: got '1.5'"), (["--steps", "x"], "steps: got 'x'"),
                                        (["--n", "5000"], "n: got 5000"), (["--n", "inf"], "n: got 'inf'")])
def test_answer_bad_input_is_one_line(tmp_path, capsys, args, field):
    rc, out, err = main(["answer", str(with_starts(tmp_path)), *args], capsys)
    assert rc == 2 and out == "" and len(err.strip().splitlines()) == 1 and field in err and "allowed:" in err


def test_an_older_file_answers_and_says_what_it_lacks(capsys):
    rc, out, _ = main(["answer", str(OLDER)], capsys)
    assert rc == 0 and "per step" in out  # the per-step answer, as before
    assert "time to train (cpu n=1e3, 100 steps): not in this file: no startup cases" in out
    rc, out, _ = main(["answer", str(OLDER), "--json"], capsys)
    assert rc == 0 and "no startup cases" in json.loads(out)["time_to_train"]["lacks"]
    rc, out, err = main(["answer", str(OLDER), "--steps", "100"], capsys)  # asked for it: bad input
    assert rc == 2 and out == "" and len(err.strip().splitlines()) == 1 and "no startup cases" in err


def test_time_to_train_picture(tmp_path):
    from paritybench.render import plot
    fig = plot.time_to_train_figure(resultfile.load(with_starts(tmp_path)))
    assert len(fig.axes) == 2 and [a.get_xscale() for a in fig.axes] == ["log", "log"]
    assert plot.time_to_train_figure(resultfile.load(OLDER)) is None
    plot.plt.close(fig)


def _child(cfg: dict, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench.startup", json.dumps(cfg)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **env})


def test_a_cold_start_refuses_filled_caches(tmp_path):
    from bench import startup
    env = startup.cache_env(tmp_path)
    (tmp_path / "inductor" / "left-over").write_text("x")
    cfg = {"backend": "reference", "variant": "numpy", "n": 10, "kind": "cold", "threads": 1, "device": "cpu",
           "dtype": "float32", "caches": str(tmp_path), "spawned": 0}
    p = _child(cfg, env)
    assert p.returncode != 0 and "cold start: caches not empty: inductor (1 files" in p.stderr
    (tmp_path / "inductor" / "left-over").unlink()
    p = _child(cfg, env)
    rec = json.loads(p.stdout.splitlines()[-1])
    assert p.returncode == 0 and all(c["files_before"] == 0 for c in rec["caches"].values())
    assert set(rec["caches"]) == set(startup.CACHES)


def test_cold_start_compiles_and_warm_start_reads_the_cache(tmp_path):
    """A real JAX jit run of 3 steps: cold = cache misses only, warm = hits only (fresh processes)."""
    pytest.importorskip("jax")
    from bench import startup
    cold = startup.start("jax", "jit", 100, "cold", tmp_path, 1, steps=3)
    warm = startup.start("jax", "jit", 100, "warm", tmp_path, 1, steps=3)
    assert cold["caches"]["jax"]["files_before"] == 0 and cold["caches"]["jax"]["files_after"] > 0
    assert cold["jax_compile"]["cache_hits"] == 0 and cold["jax_compile"]["cache_misses"] > 0
    assert warm["jax_compile"]["cache_misses"] == 0 and warm["jax_compile"]["cache_hits"] > 0
    assert warm["caches"]["jax"]["files_before"] == cold["caches"]["jax"]["files_after"]


def test_plot_command_draws_it_or_says_why_not(tmp_path, capsys):
    rc, out, _ = main(["plot", str(with_starts(tmp_path)), "--out", str(tmp_path / "a"), "--only", "time-to-train"], capsys)
    assert rc == 0 and (tmp_path / "a" / "time-to-train.png").stat().st_size > 10_000
    rc, out, _ = main(["plot", str(OLDER), "--out", str(tmp_path / "b"), "--only", "time-to-train"], capsys)
    assert rc == 0 and "time-to-train.png: skipped" in out and not (tmp_path / "b" / "time-to-train.png").exists()
