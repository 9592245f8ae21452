"""The benchmarks' pure logic (bench/matrix.py, bench/timing.py, bench/summary.py) and their bad-input exits; no framework, < 10 s."""
from __future__ import annotations

import json
import re
import os
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # bench/ is a package of the repository, not of the distribution

from bench import matrix, summary, timing  # noqa: E402
from bench.matrix import Case, Floor  # noqa: E402


def test_ids_are_the_stable_readable_strings():
    assert Case("torch", "compiled", "cpu", "float32", 100000, "sgd", 1).id == \
        "torch-compiled-cpu-f32-n100000-sgd-E1"
    assert Case("jax", "scan", "gpu", "float64", 1000, "adam", 1024).id == "jax-scan-gpu-f64-n1000-adam-E1024"
    assert Floor("torch", "cpu", "float32", 100000, 1).id == "floor-torch-cpu-f32-n100000-E1"
    assert Case("jax", "jit", "cpu", "float32", 1000, "sgd", 1024).floor.id == "floor-jax-cpu-f32-n1000-E1024"


def test_matrix_shape():
    cs = matrix.cases("default")
    ids = [c.id for c in cs]
    assert len(ids) == len(set(ids))
    # cpu: 5 shapes x 2 optimizers x (5 default variants + 2 tuned); gpu: 8 shapes (the cpu's +
    # n = 1e7, 1e8 in float32 and 1e7 in float64) x 2 optimizers x (5 default variants: numpy has
    # no GPU, torch's graphed runs there only; + 2 tuned)
    assert len(cs) == 5 * 2 * (5 + 2) + 8 * 2 * (5 + 2)
    assert {c.n for c in cs if c.device == "cpu"} == {1000, 100000, 1000000}
    assert {c.n for c in cs if c.device == "gpu"} == {1000, 100000, 1000000, 10**7, 10**8}
    assert {c.n for c in cs if c.E == 1024} == {1000}
    assert {c.n for c in cs if c.dtype == "float64"} == {matrix.FLOAT64_N, matrix.GPU_FLOAT64_N}
    assert {c.n for c in cs if c.dtype == "float64" and c.device == "cpu"} == {matrix.FLOAT64_N}
    assert not [c for c in cs if c.backend == "reference" and c.device == "gpu"]
    assert {c.device for c in cs if c.variant == "graphed"} == {"gpu"}
    full = matrix.cases("full")
    assert {c.n for c in full if c.device == "cpu"} - {c.n for c in cs if c.device == "cpu"} == {10_000_000}
    # every case has its own framework's floor in the floor list (the default tier's floors: a
    # tuned case's floor is its tier's sin + cos pass, built with the case, bench/runners.py)
    assert {c.floor for c in cs} == set(matrix.floors("default"))
    only = matrix.cases("default", devices=("cpu",), backends=("jax",))
    assert {(c.backend, c.device) for c in only} == {("jax", "cpu")}


def test_filters_and_profiles_reject_bad_input_in_one_line():
    assert matrix.parse_list("device", "cuda", matrix.DEVICES) == ("gpu",)
    assert matrix.parse_list("device", None, matrix.DEVICES) == ("cpu", "gpu")
    with pytest.raises(ValueError, match=r"^device: got 'tpu'; allowed: one of cpu, gpu$"):
        matrix.parse_list("device", "cpu,tpu", matrix.DEVICES)
    with pytest.raises(ValueError, match=r"^profile: got 'nope'; allowed: one of quick, default, full$"):
        matrix.sizes("nope")


@pytest.mark.parametrize("sps, k", [(1e-5, 256), (2e-3, 1), (5e-2, 1), (1e-3, 2), (1.9e-3, 2)])
def test_choose_k_smallest_power_of_two_reaching_the_target(sps, k):
    got = timing.choose_k(sps)
    assert got == k
    assert got * sps >= timing.CALL_TARGET or got == 1
    assert got == 1 or (got // 2) * sps < timing.CALL_TARGET  # smallest such power of two


def test_choose_k_and_rounds_limits():
    assert timing.choose_k(1e-12) == timing.K_MAX
    assert timing.choose_k(0.0) == timing.K_MAX
    assert timing.choose_k(float("nan")) == timing.K_MAX
    assert timing.choose_rounds(1e-3, 0.4) == 60       # 400 would exceed the cap
    assert timing.choose_rounds(0.02, 0.4) == 20
    assert timing.choose_rounds(1.0, 0.4) == timing.ROUNDS_MIN == 10  # never fewer: the median's CI, the rank test


def test_quartiles_and_spread():
    assert timing.quartiles([1, 2, 3, 4, 5, 6, 7, 8]) == (2.5, 4.5, 6.5)
    assert timing.quartiles([1, 2, 3, 4, 5]) == (1.5, 3, 4.5)
    assert timing.iqr_over_median([1, 2, 3, 4, 5]) == pytest.approx(1.0)
    assert timing.iqr_over_median([2.0] * 7) == 0.0


def _floor(backend, n, sec, E=1, dtype="float32"):
    return timing.floor_info(Floor(backend, "cpu", dtype, n, E), 10, [sec * 10] * 5, 0.0, 2, 1e-7)


def _step(backend, variant, n, sec, opt="sgd", E=1):
    return timing.step_info(Case(backend, variant, "cpu", "float32", n, opt, E), 4, [sec * 4] * 5, 1.0, 2, 1e-7)


def test_step_info_units():
    i = _step("jax", "scan", 1000, 2e-5, E=1)
    assert i["seconds_per_step"] == pytest.approx(2e-5)
    assert i["steps_per_second"] == pytest.approx(5e4)
    assert i["samples_per_second"] == pytest.approx(1000 * 5e4)
    assert i["harness_fraction"] == pytest.approx(1e-7 / 8e-5)


def test_floor_ratios_own_and_best_and_pass_through():
    infos = [_floor("torch", 1000, 4e-6), _floor("jax", 1000, 2e-6), _step("torch", "eager", 1000, 1e-5),
             _step("jax", "jit", 1000, 3e-6), _step("jax", "jit", 100000, 3e-4),
             {"kind": "agreement", "backend": "jax", "note": "untouched"}]
    timing.add_floor_ratios(infos)
    t, j, no_floor, other = infos[2], infos[3], infos[4], infos[5]
    assert t["floor_seconds_per_step"] == pytest.approx(4e-6)
    assert t["floor_ratio"] == pytest.approx(2.5)
    assert t["floor_ratio_best"] == pytest.approx(5.0)
    assert j["floor_ratio"] == pytest.approx(1.5) and j["floor_ratio_best"] == pytest.approx(1.5)
    assert no_floor["floor_ratio"] is None and no_floor["floor_ratio_best"] is None
    assert other == {"kind": "agreement", "backend": "jax", "note": "untouched"}


def test_summary_rows_ratios_and_sections():
    infos = [_floor("torch", 1000, 4e-6), _floor("jax", 1000, 2e-6),
             _step("torch", "eager", 1000, 1e-4), _step("torch", "compiled", 1000, 2e-5),
             _step("jax", "jit", 1000, 5e-5), _step("jax", "scan", 1000, 1e-5)]
    lines = summary.summary_lines(infos, [("jax-jit-gpu-f32-n1000-sgd-E1", "no GPU")],
                                 [("test_run[x]", {"kind": "agreement"}, 0.5)])
    text = "\n".join(lines)
    row = next(line for line in lines if line.startswith("cpu f32 n=1000 sgd E=1 "))
    assert "compiled 20.0" in row and "scan 10.0" in row and "0.50x" in row  # jax/torch = 1e-5/2e-5
    assert "5.00x" in row                                                   # both 5x their floor
    assert "compiled 5.0x faster" in text and "scan 5.0x faster" in text
    assert "1 x no GPU" in text and "agreement: 1 cases, slowest test_run[x] 0.5 s/call" in text


def _run_bench(*args, env=None):
    e = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "pytest", "bench", "--benchmark-only", "-q", *args],
                          cwd=ROOT, capture_output=True, text=True, env=e, timeout=60)


@pytest.mark.parametrize("args, env, message", [
    (["--profile", "nope"], None, "profile: got 'nope'; allowed: one of quick, default, full"),
    ([], {"PARITYBENCH_PROFILE": "huge"}, "profile: got 'huge'; allowed: one of quick, default, full"),
    (["--device", "cpu,tpu"], None, "device: got 'tpu'; allowed: one of cpu, gpu"),
    (["--results-dir", "pyproject.toml/sub"], None, "results-dir: got 'pyproject.toml/sub'; allowed:"),
    (["--threads", "0"], None, "threads: got '0'; allowed: an integer from 1"),
    (["--processes", "0"], None, "processes: got '0'; allowed: an integer from 1 to 16"),
    ([], {"PARITYBENCH_PROCESSES": "four"}, "processes: got 'four'; allowed: an integer from 1 to 16"),
    (["--deadline", "-3"], None, "deadline: got '-3'; allowed: a positive number of seconds"),
    ([], {"PARITYBENCH_DEADLINE": "soon"}, "deadline: got 'soon'; allowed: a positive number of seconds"),
    (["--benchmark-json", "pyproject.toml"], None,
     "benchmark-json: got 'pyproject.toml'; allowed: a path that does not exist yet"),
])
def test_bad_input_exits_before_any_benchmark(args, env, message):
    r = _run_bench(*args, env=env)
    assert r.returncode not in (0, 1)  # a usage error (pytest: 4), not a test failure
    errors = [line for line in (r.stdout + r.stderr).splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1 and message in errors[0], r.stdout + r.stderr
    assert "passed" not in r.stdout and "Traceback" not in r.stdout + r.stderr


class _StubBenchmark:
    """pytest-benchmark's fixture reduced to what ``measure`` uses: pedantic runs the rounds."""

    disabled, stats = False, None

    def __init__(self):
        self.extra_info = {}

    def pedantic(self, fn, args=(), rounds=1, warmup_rounds=0, iterations=1, setup=None):
        data = []
        for i in range(warmup_rounds + rounds):
            if setup is not None:
                setup()
            t0 = time.perf_counter()
            fn(*args)
            if i >= warmup_rounds:
                data.append(time.perf_counter() - t0)
        self.stats = types.SimpleNamespace(stats=types.SimpleNamespace(data=data))


def test_paired_rounds_interleave_the_floor_with_the_case():
    events = []
    step = lambda k: events.append(("step", k))  # noqa: E731
    floor = lambda k: events.append(("floor", k))  # noqa: E731
    from bench.test_throughput import measure

    k, calls, _, (kf, floors) = measure(_StubBenchmark(), step, "reference", False, 0.0, floor)
    timed = events[-(2 * len(calls) + 1):]  # the paired rounds: floor, step, floor, ..., step, floor
    assert [e[0] for e in timed] == ["floor", "step"] * len(calls) + ["floor"]
    assert len(calls) == timing.ROUNDS_MIN and len(floors) == len(calls) + 1
    assert {e[1] for e in timed if e[0] == "step"} == {k} and {e[1] for e in timed if e[0] == "floor"} == {kf}


def test_sequential_rounds_stop_once_the_median_ratio_is_tight(monkeypatch):
    """Replica processes stop taking rounds when timing.settled holds: a steady case after
    ROUNDS_MIN rounds, a noisy one only at the most it may take; the floor still brackets every round."""
    from bench import runners

    monkeypatch.setattr(runners, "timed", lambda fn, k: fn(k))  # each call returns its own 'seconds'
    floor = lambda k: 1.0  # noqa: E731
    steady = lambda k: 2.0  # noqa: E731
    calls, floors = runners.paired_rounds(steady, 1, floor, 1, 40, timing.CI_TARGET)
    assert len(calls) == timing.ROUNDS_MIN and len(floors) == len(calls) + 1
    noisy_durations = iter([1.0, 3.0] * 100)  # warm-up call first, then rounds alternating 1 and 3
    calls, floors = runners.paired_rounds(lambda k: next(noisy_durations), 1, floor, 1, 40, timing.CI_TARGET)
    assert len(calls) == 40 and len(floors) == 41
    calls, _ = runners.paired_rounds(steady, 1, floor, 1, 20)  # no target: exactly the rounds asked
    assert len(calls) == 20
    assert not timing.settled([2.0] * (timing.ROUNDS_MIN - 1))
    assert timing.settled([2.0] * timing.ROUNDS_MIN)
    assert not timing.settled([1.0, 1.2] * 10, target=0.05) and timing.settled([1.0, 1.02] * 10, target=0.05)


def test_a_replica_reuses_the_pytest_process_k():
    from bench import runners

    seen = []
    k, call, compile_seconds = runners.warm(lambda k: seen.append(k), 64)
    assert k == 64 and seen == [64, 64] and compile_seconds >= 0.0


def test_paired_ratios_median_and_ci():
    # round i: 4 steps in 8 s (2 s/step) between floor calls of 2 passes in 1 s and 3 s (1 s/pass)
    assert timing.paired_ratios([8.0], 4, [1.0, 3.0], 2) == [2.0]
    info = timing.paired_info([2.0 * (i + 1) for i in range(20)], 1, [1.0] * 21, 1)
    assert info["paired_ratios"] == [2.0 * (i + 1) for i in range(20)] and info["floor_ratio"] == 21.0
    assert info["floor_ratio_ci95"] == [12.0, 30.0]  # x_(6), x_(15) of 20: the binomial table's
    assert info["floor_seconds_per_step"] == 1.0 and info["paired_rounds"] == 20
    with pytest.raises(ValueError, match="floor_calls: got 2 for 2 rounds"):
        timing.paired_ratios([1.0, 1.0], 1, [1.0, 1.0], 1)


def test_add_floor_ratios_keeps_a_paired_ratio():
    infos = [{"kind": "floor", "backend": "torch", "device": "cpu", "dtype": "float32", "n": 10, "E": 1,
              "seconds_per_pass": 1.0},
             {"kind": "throughput", "backend": "torch", "device": "cpu", "dtype": "float32", "n": 10, "E": 1,
              "seconds_per_step": 3.0, "floor_ratio": 2.5, "paired_ratios": [2.5],
              "floor_seconds_per_step": 1.2}]
    timing.add_floor_ratios(infos)
    assert infos[1]["floor_ratio"] == 2.5 and infos[1]["floor_ratio_best"] == 3.0


def test_plant_option_and_a_planted_slowdown_is_real():
    assert timing.parse_plant("a-b=1.3,c=2") == {"a-b": 1.3, "c": 2.0}
    assert timing.parse_plant(None) == {}
    for bad in ("a=1", "a=x", "=1.3", "a=11", "a=nan"):
        with pytest.raises(ValueError, match="plant: got"):
            timing.parse_plant(bad)
    slow = timing.planted(lambda k: time.sleep(0.01 * k), 1.5)
    t0 = time.perf_counter()
    slow(2)
    assert time.perf_counter() - t0 >= 1.5 * 0.02  # a lower bound by construction, not a timing target


def test_a_recompile_inside_the_timed_region_fails_the_case():
    pytest.importorskip("jax", reason="jax not installed: the jax compile counter is not testable")
    import jax
    import jax.numpy as jnp

    from bench import frameworks
    from bench.test_throughput import measure

    frameworks.fresh("jax")
    add = jax.jit(lambda a: a + 1)
    calls = [0]

    def steady(k):  # one shape: compiles on the first call only
        jax.block_until_ready(add(jnp.ones(3)))

    def recompiling(k):  # a new shape at every call: a compile inside every timed call
        calls[0] += 1
        jax.block_until_ready(add(jnp.ones(calls[0] + 3)))

    k, _, compile_s, _ = measure(_StubBenchmark(), steady, "jax", True, 0.01)
    assert k >= 1 and compile_s >= 0
    stub = _StubBenchmark()
    with pytest.raises(pytest.fail.Exception, match="inside the timed region"):
        measure(stub, recompiling, "jax", True, 0.01)
    assert stub.extra_info["kind"] == "failed" and "timed region" in stub.extra_info["failure"]


def test_process_info_medians_of_each_process():
    runs = [{"paired_ratios": [2.0, 4.0, 6.0], "round_seconds": [1.0] * 3, "compile_seconds": 0.5},
            {"paired_ratios": [10.0] * 3, "round_seconds": [2.0] * 3, "jax_cache_hits": 5},
            {"paired_ratios": [1.0, 1.0, 3.0], "round_seconds": [3.0] * 3}]
    info = timing.process_info(runs)
    assert info["processes"] == 3 and info["floor_ratio_processes"] == [4.0, 10.0, 1.0]
    assert info["floor_ratio"] == 4.0 and info["floor_ratio_range"] == [1.0, 10.0]
    assert info["process_round_seconds"][1] == [2.0] * 3
    assert info["process_compile_seconds"] == [0.5, None, None]
    assert info["process_jax_cache_hits"] == [None, 5, None]


def test_replicas_time_every_case_in_fresh_processes_and_leave_none_behind():
    """Two replica processes, one after the other, time two numpy cases (the reference: no
    framework, seconds) in the paired-round order; a bad case is reported, not fatal; afterwards
    no replica process is alive."""
    import multiprocessing

    from bench import replicas

    good = [Case("reference", "numpy", "cpu", "float32", n, "sgd", 1) for n in (1000, 2000)]
    bad = Case("nobackend", "numpy", "cpu", "float32", 1000, "sgd", 1)
    lines = []
    out, interrupted = replicas.run([(c, None) for c in good] + [(bad, None)], 2, 1, 0.0, lines.append)
    assert not interrupted
    assert not multiprocessing.active_children()
    done = [line for line in lines if " cases in " in line]  # progress lines come every 5 s of a slow start
    assert len(done) == 2 and done[0].startswith("replica 1/2: 3 cases in") and done[1].startswith("replica 2/2")
    assert all(" cases, about " in line for line in lines if line not in done)
    for c in good:
        res = out[c.id]
        assert len(res) == 2 and all(isinstance(r, dict) for r in res), res
        assert len({r["pid"] for r in res} | {os.getpid()}) == 3
        for r in res:
            assert len(r["paired_ratios"]) == len(r["round_seconds"]) == timing.ROUNDS_MIN
            assert r["k"] >= 1 and r["kf"] >= 1 and all(x > 0 for x in r["paired_ratios"])
    assert out[c.id][0]["pid"] == out[good[0].id][0]["pid"]  # one process per replica, every case
    assert all(isinstance(r, str) and "nobackend" in r for r in out[bad.id]), out[bad.id]


def test_replicas_share_a_jax_compile_cache_the_first_fills_it():
    """Two replicas time one jax-jit case: the first compiles (no program loaded from the run's JAX
    cache), the second loads its programs from it; the cache's directory is gone after the run."""
    pytest.importorskip("jax")
    from bench import replicas

    c = Case("jax", "jit", "cpu", "float32", 1000, "sgd", 1)
    info = {}
    out, interrupted = replicas.run([(c, None)], 2, 1, 0.0, lambda line: None, info=info)
    assert not interrupted
    first, second = out[c.id]
    assert first["jax_cache_hits"] == 0 < second["jax_cache_hits"], out[c.id]
    cache = info["jax_compile_cache"]
    assert cache["files"] > 0 and cache["bytes"] > 0 and not os.path.exists(cache["dir"])


def test_quick_profile_one_size_per_band_sgd_float32():
    cs = matrix.cases("quick", ("cpu",))
    assert {c.n for c in cs} == {1000, 1_000_000} and {c.optimizer for c in cs} == {"sgd"}
    assert {(c.dtype, c.E) for c in cs} == {("float32", 1)} and len(cs) == 2 * 5
    assert matrix.PROCESSES["quick"] == 1 and matrix.PROCESSES["default"] == 4


def test_eta_uses_finished_cases_then_priors_and_the_replicas():
    took = {"test_step": [2.0, 4.0]}
    # 2 steps left at their mean 3 s, one floor at its prior, then 2 replicas x 4 steps x 3 s
    assert timing is not None
    from bench.harness.progress import PRIOR_SECONDS, eta_seconds
    eta = eta_seconds(["test_step", "test_step", "test_floor"], took, 2)
    assert eta == pytest.approx(2 * 3.0 + PRIOR_SECONDS["test_floor"] + 2 * 4 * 3.0)


def test_collection_deselects_other_profiles_instead_of_skipping():
    r = _run_bench("--collect-only", "--profile", "quick", "--device", "cpu")
    assert r.returncode == 0, r.stdout + r.stderr
    outside = re.search(r"(\d+) cases outside the quick profile deselected \(--profile full runs every case\)", r.stdout)
    assert outside and int(outside.group(1)) > 1000, r.stdout  # the seed's default and full matrix, the models' too
    assert "cases of backends/devices/models not chosen (--backend, --device, --model) or that cannot exist" in r.stdout
    ids = [line for line in r.stdout.splitlines() if "::" in line]
    assert sum("test_step[" in i for i in ids) == 10 and sum("test_agreement[" in i for i in ids) == 4
    assert sum("test_model_step[sparse-parity-" in i for i in ids) == 5  # the quick answer names both models
    assert not any("test_time_to_solution" in i or "test_tools" in i or "gpu" in i for i in ids)


@pytest.mark.parametrize("sig, phase", [("SIGINT", "cases"), ("SIGTERM", "cases"), ("SIGINT", "replicas")])
def test_an_interrupted_run_keeps_what_it_measured(tmp_path, sig, phase):
    """Ctrl-C or SIGTERM after the second case, or while the replica process runs: a new JSON
    marked interrupted, only finished cases in it, the rest listed as not run; the run ends
    promptly (bounded) and leaves no process of its group behind."""
    import signal

    out = tmp_path / "run.json"
    log = (tmp_path / "log.txt").open("w")
    # A shell's background job (CI) inherits SIGINT ignored, and Python then never raises
    # KeyboardInterrupt: the run gets a terminal's Ctrl-C handler back before pytest starts.
    start = ("import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
             "sys.argv[0] = 'pytest'; runpy.run_module('pytest', run_name='__main__')")
    proc = subprocess.Popen([sys.executable, "-c", start, "bench", "--benchmark-only", "-q", "-p",
                             "no:cacheprovider", "--profile", "quick", "--backend", "reference", "--device",
                             "cpu", "--processes", "2", "--benchmark-json", str(out)], cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    mark = "[2/" if phase == "cases" else "again in 1 replica processes"
    try:
        deadline = time.time() + 60
        while time.time() < deadline and mark not in (tmp_path / "log.txt").read_text():
            time.sleep(0.05)
        proc.send_signal(getattr(signal, sig))
        rc = proc.wait(timeout=60)
        for _ in range(200):  # the group empties: replicas and helpers gone
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            pytest.fail("a process of the interrupted run is still alive")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    text = (tmp_path / "log.txt").read_text()
    assert mark in text and rc == 2, text  # pytest's "interrupted"
    doc = json.loads(out.read_text())
    assert doc["paritybench"]["interrupted"] is True, text
    measured = {b["fullname"] for b in doc["benchmarks"]}
    assert measured and not measured & set(doc["paritybench"]["not_run"])
    assert all(b["stats"]["rounds"] >= 1 for b in doc["benchmarks"])
    if phase == "cases":
        assert doc["paritybench"]["not_run"]


# --- the tuned tier and the op cases (docs/gap.md) -----------------------------------------------

def test_tuned_and_op_cases_in_default_and_full_not_in_quick():
    cs = matrix.cases("default", ("cpu",))
    tuned = [c for c in cs if c.kind == "tuned"]
    assert {c.variant for c in tuned} == {"compiled-tuned", "scan-tuned"}
    assert len(tuned) == 2 * len(matrix.shapes("default")) * len(matrix.OPTIMIZERS)
    assert all(c.tier == "tuned" for c in tuned) and all(c.tier == "default" for c in cs if c not in tuned)
    assert timing.step_info(tuned[0], 4, [1.0] * 5, 0.0, 1, 1e-7)["kind"] == "tuned"
    assert not any(c.kind == "tuned" for c in matrix.cases("quick", ("cpu",)))
    ops, full = matrix.ops("default", ("cpu",)), matrix.ops("full", ("cpu",))
    assert len(full) == len({o.id for o in full}) == len(matrix.OP_SHAPES) * len(matrix.OPS) * 5
    assert {(o.backend, o.tier) for o in ops} == {("reference", "default"), ("torch", "default"),
                                                  ("torch", "tuned"), ("jax", "default"), ("jax", "tuned")}
    assert "op-jax-tuned-cpu-f32-n1000000-sin-E1" in {o.id for o in ops}
    # the float64 op cases in full only (the default run's 6 minutes): the default's are full's float32 ones
    assert "op-torch-cpu-f64-n100000-rest-E1" in {o.id for o in full} - {o.id for o in ops}
    assert {o.id for o in ops} == {o.id for o in full if o.dtype == "float32"}
    assert matrix.ops("quick", ("cpu",)) == [] and len(matrix.ops("full", ("cpu", "gpu"))) == 90
    assert len(matrix.ops("default", ("cpu", "gpu"))) == 45
    import impls
    assert set(matrix.OPS) == set(impls.spec.OPS)
    assert all(v in impls.VARIANTS[b] and impls.TIER[v] == "tuned" for b, vs in matrix.TUNED.items() for v in vs)


def test_machine_floor_ratio_counts_sincos_ops_of_every_tier():
    key = dict(device="cpu", dtype="float32", n=10, E=1)
    infos = [{"kind": "floor", "backend": "jax", "seconds_per_pass": 4.0, **key},
             {"kind": "op", "backend": "jax", "tier": "tuned", "op": "sincos", "seconds_per_pass": 0.5, **key},
             {"kind": "op", "backend": "jax", "tier": "tuned", "op": "read", "seconds_per_pass": 0.1, **key},
             {"kind": "tuned", "backend": "jax", "variant": "scan-tuned", "optimizer": "sgd",
              "seconds_per_step": 2.0, **key},
             {"kind": "throughput", "backend": "jax", "variant": "scan", "optimizer": "sgd",
              "seconds_per_step": 8.0, **key}]
    timing.add_floor_ratios(infos)
    assert infos[3]["machine_floor_ratio"] == 4.0 and infos[4]["machine_floor_ratio"] == 16.0
    assert infos[4]["floor_ratio_best"] == 2.0 and infos[3]["floor_ratio_best"] == 0.5
    lines = summary.summary_lines(infos)
    i = next(k for k, line in enumerate(lines) if line.startswith("tuned tier (docs/gap.md"))
    assert lines[i + 1] == "  cpu f32 n=10 sgd E=1: jax-scan-tuned 2000000.0 (4.00x)"
    table = lines[:lines.index(lines[i])]
    assert any("scan 8000000.0" in line for line in table) and not any("tuned" in line for line in table)


def test_op_info_units():
    o = matrix.Op("jax", "tuned", "cpu", "float32", 1000, 2, "sin")
    i = timing.op_info(o, 8, [8e-6] * 5, 0.0, 1, 1e-7)
    assert i["kind"] == "op" and i["seconds_per_pass"] == pytest.approx(1e-6)
    assert i["ns_per_element"] == pytest.approx(0.5) and i["tier"] == "tuned" and i["op"] == "sin"
    assert o.floor == matrix.Floor("jax", "cpu", "float32", 1000, 2)


def test_benchmark_json_given_as_an_open_file_as_pytest_benchmark_5_2_does(tmp_path):
    """pytest-benchmark 5.2.x hands --benchmark-json over as a file argparse opened ('wb'): the
    suite takes its path, and the empty file the parser created is removed so it is written new."""
    from bench.harness.output import _output_path

    class Config:
        def __init__(self, value):
            self.value = value

        def getoption(self, name):
            return self.value

    target = tmp_path / "run.json"
    f = open(target, "wb")  # what argparse.FileType('wb') does at parse time
    path, user = _output_path(Config(f), {"results_dir": tmp_path})
    assert user and path == target and f.closed and not target.exists()
    path, user = _output_path(Config(str(tmp_path / "other.json")), {"results_dir": tmp_path})
    assert user and path == tmp_path / "other.json"  # 5.3.x: the path itself


def test_rooflines_are_the_bytes_over_the_measured_bandwidth():
    infos = [_step("jax", "scan", 1_000_000, 2e-3), _step("torch", "compiled", 1000, 1e-4, E=1024),
             {"kind": "floor", "device": "cpu", "dtype": "float32", "n": 1000, "E": 1, "seconds_per_pass": 1e-5}]
    infos.append({**_step("jax", "jit", 1000, 1e-4), "device": "gpu"})
    timing.add_rooflines(infos, {"cpu": {"bytes_per_second": 4e9}})
    a, b, fl, gpu = infos
    assert a["roofline_bytes_per_step"] == 8_000_000 and a["roofline_seconds_per_step"] == pytest.approx(2e-3)
    assert a["roofline_ratio"] == pytest.approx(1.0)
    # E = 1024 at n = 1e3: x and y read once, whatever E (sin and cos of n x E products decide there)
    assert b["roofline_bytes_per_step"] == 8000 and b["roofline_ratio"] == pytest.approx(1e-4 / 2e-6)
    assert "roofline_ratio" not in fl  # floors pass through
    assert gpu["roofline_seconds_per_step"] is None and gpu["roofline_ratio"] is None  # no gpu bandwidth
    assert timing.step_bytes("float64", 10, 3) == 160


def test_cases_past_the_deadline_skip_with_the_reason_and_the_others_run(tmp_path):
    """--deadline (seconds from the run's start): a case that would start later skips, with the
    reason in the summary, and the run passes (a budget, not a failure); within it, cases run."""
    out = tmp_path / "none.json"
    args = ("--profile", "quick", "--backend", "reference", "--device", "cpu", "-p", "no:cacheprovider")
    r = _run_bench(*args, "-k", "test_step or test_floor", "--deadline", "0.001", "--benchmark-json", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "4 x deadline: the run's --deadline of 0.001 s was spent before this case" in r.stdout
    assert not out.exists()  # nothing measured: pytest-benchmark saves nothing
    out = tmp_path / "one.json"
    r = _run_bench(*args, "-k", "test_floor and n1000-", "--deadline", "600", "--benchmark-json", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(out.read_text())
    assert doc["paritybench"]["deadline"] == 600 and doc["paritybench"]["skipped"] == []
    assert [b["extra_info"]["kind"] for b in doc["benchmarks"]] == ["floor"]


def test_gpu_host_command_plans_and_refuses_without_a_gpu():
    """bench/gpu_host.py on a machine without a GPU: --dry-run prints the versions and the plan
    (the GPU tests, then the GPU bench profile writing one new JSON); a real run ends with exit 2
    and one line saying why; a bad budget is one line too."""
    cmd = [sys.executable, "-m", "bench.gpu_host"]
    r = subprocess.run(cmd + ["--dry-run"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "versions: python" in r.stdout and "pytest-benchmark" in r.stdout
    plans = [line for line in r.stdout.splitlines() if line.startswith("plan: ")]
    assert "bench.studies.device_ulps --device gpu" in plans[0] and "tests/test_gpu.py" in plans[1]
    assert "--device gpu" in plans[2] and "--benchmark-json" in plans[2]
    bad = subprocess.run(cmd + ["--budget", "5"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.strip() == "gpu_host: budget: got 5; allowed: 60 to 3600 seconds"
    import impls
    if impls.available("torch", "gpu")[0] or impls.available("jax", "gpu")[0]:
        pytest.skip("a GPU is here: the refusal is not what this machine does")
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "torch on gpu: skipped (" in r.stdout and "jax on gpu: skipped (" in r.stdout
    assert r.stderr.strip().startswith("gpu_host: device: no framework sees a GPU here")
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("module,args,field", [
    ("probe_call_length", ["--ks", "64,0"], "--ks"),
    ("probe_call_length", ["--steps", "x"], "--steps"),
    ("probe_history_chunk", ["--chunks", "abc"], "--chunks"),
    ("probe_history_chunk", ["--steps", "10"], "--steps"),
    ("time_to_train_study", ["--steps", "1"], "--steps"),
    ("time_to_train_study", ["--sizes", "1e3,-1"], "--sizes"),
    ("memory_control", ["--seconds", "0"], "--seconds"),
    ("process_conditions", ["--runs", "0"], "--runs"),
])
def test_a_study_rejects_bad_numbers_in_one_line_before_measuring(module, args, field, tmp_path):
    out = tmp_path / "out.json"
    p = subprocess.run([sys.executable, "-m", f"bench.studies.{module}", *args, "--out", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and f"argument {field}: got" in lines[-1] and "allowed:" in lines[-1], p.stderr
    assert not out.exists() and "Traceback" not in p.stderr


def test_the_default_run_leaves_to_full_what_it_cannot_pay_for_in_6_minutes():
    # the plot tool's timing, the methods sweep and the float64 time to solution (#29: a fresh
    # clone's default run measured 361-369 s with them, 320 s without): full only, never quick
    from bench import test_methods, test_tools
    t2s = lambda dtype, x_max: {"device": "cpu", "backend": "torch", "variant": "compiled", "dtype": dtype, "x_max": x_max}
    sweep = {"device": "cpu", "backend": "jax", "variant": "scan", "dtype": "float32"}
    for profile, want in (("quick", (False, False, False, False)), ("default", (False, False, True, False)),
                          ("full", (True, True, True, True))):
        got = (test_tools.in_profile(profile, "test_plot", {}),
               test_methods.in_profile(profile, "test_sweep", sweep),
               test_methods.in_profile(profile, "test_time_to_solution", t2s("float32", 10**6)),
               test_methods.in_profile(profile, "test_time_to_solution", t2s("float64", 10**6)))
        assert got == want, (profile, got)
    assert test_tools.in_profile("default", "test_report", {}) and test_tools.in_profile("default", "test_compare", {})


def test_the_memory_control_study_takes_out_a_drift_that_follows_the_copy_and_keeps_process_levels():
    # #31: synthetic windows, 4 processes: log step = log floor + 0.6 log dram + the process's level
    # (0, +10%, 0, -5%) + 0.2% noise; the dram copy drifts 5% between windows. The step/floor window
    # sd carries the copy's drift, the adjusted one only the noise; the levels stay between processes.
    import random
    from bench.studies import memory_control as M
    rng = random.Random(3)
    per = []
    for level in (0.0, 0.10, 0.0, -0.05):
        ws = []
        for _ in range(12):
            floor, dram, l3 = -9 + rng.gauss(0, 0.01), -7 + rng.gauss(0, 0.05), -8 + rng.gauss(0, 0.01)
            ws.append({"floor": floor, "dram": dram, "l3": l3, "step": floor + 0.6 * dram + level + rng.gauss(0, 0.002)})
        per.append(ws)
    r = M.analyse(per)
    assert r["window_sd"] > 0.025 and r["adjusted_window_sd"] < 0.004, r
    assert 0.05 < r["process_sd"] < 0.10 and 0.05 < r["adjusted_process_means_sd"] < 0.10, r
    assert all(abs(c[2] - 0.6) < 0.05 for c in r["coefficients_floor_l3_dram"]), r


def test_the_whatif_bound_leaves_the_run_to_run_sd_alone_and_names_the_cases_it_stops():
    # #31: with unlimited processes a side, SE = sqrt(2) x the run-to-run sd; a case at the 0.5% floor
    # (taken as known) resolves 3% + 0.84 x 0.71% = 3.6%; one drifting 3% over 8 runs (df 7) cannot see 5%
    import math
    from bench.studies import resolution_whatif as W
    assert W.unlimited(0.005, math.inf) == pytest.approx(math.expm1(math.log1p(0.03) + 0.8416 * 0.005 * math.sqrt(2)), rel=1e-3)
    profile = {"cases": {
        "bench/test_throughput.py::test_step[jax-jit-cpu-f32-n100000-sgd-E1]": {"sd_run": 0.005, "df_run": None},
        "bench/test_throughput.py::test_step[torch-eager-cpu-f32-n100000-adam-E1]": {"sd_run": 0.03, "df_run": 7},
        "bench/test_throughput.py::test_step[torch-eager-cpu-f32-n1000-sgd-E1]": {"sd_run": 0.005, "df_run": None}}}
    large, small = W.bound(profile)
    assert large.startswith("unlimited processes, separate runs, n >= 1e5: 1 of 2 resolve 5%; not: torch-eager-cpu-f32-n100000-adam-E1")
    assert small == "unlimited processes, separate runs, n = 1e3: 1 of 1 resolve 10%"
    # taken as known, 3% still cannot see 5% (5.8 x 3%), and the line says which assumption it made
    assert W.bound(profile, known=True)[0].startswith("unlimited processes, separate runs, sds known, n >= 1e5: 1 of 2")
