"""The bench's cases of the models under impls/contract.py (sparse parity): ids, matrix, rooflines,
the replica pass's rebuild, the summary, the answer and compare; framework-free, milliseconds.

Inputs: the SYNTHETIC fixture tests/data/run_synthetic.json (the seed's cases) with model cases
added here, each built from ``timing.model_step_info`` as the bench writes them."""
from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # bench/ is a package of the repository, not of the distribution

from bench import matrix, summary, timing  # noqa: E402
from bench.matrix import Case, ModelCase  # noqa: E402
from impls.models import sparse_parity  # noqa: E402
from paritybench.analyses import answer, model_results  # noqa: E402
from paritybench.gate import compare  # noqa: E402
from paritybench.render import one_run  # noqa: E402
from paritybench.store import resultfile  # noqa: E402

RUN = ROOT / "tests" / "data" / "run_synthetic.json"
PAPER, MATMUL = matrix.SPARSE_PARITY_PAPER, matrix.SPARSE_PARITY_MATMUL


def test_model_case_ids_are_stable_strings_that_no_seed_case_can_take():
    c = ModelCase("sparse-parity", "torch", "compiled", "cpu", "float32", PAPER, "sgd")
    assert c.id == "sparse-parity-torch-compiled-cpu-f32-n30-k3-w1000-b32-sgd"
    assert ModelCase("sparse-parity", "jax", "scan", "gpu", "float32", MATMUL).id == \
        "sparse-parity-jax-scan-gpu-f32-n30-k3-w4096-b1024-sgd"
    assert matrix.config_tag(PAPER) == sparse_parity.config(**dict(PAPER)).id  # the model's own Config.id
    assert matrix.config_tag(MATMUL) == sparse_parity.config(**dict(MATMUL)).id
    for profile in matrix.PROFILES:
        seed = {x.id for x in matrix.cases(profile)} | {f.id for f in matrix.floors(profile)} \
            | {o.id for o in matrix.ops(profile)}
        model = [x.id for x in matrix.model_cases(profile)]
        assert len(model) == len(set(model)) and not seed & set(model)
        assert all(i.startswith("sparse-parity-") for i in model)
        assert not any(i.startswith("sparse-parity") for i in seed)
    assert c.kind == "model-throughput" and c.compiles and not ModelCase(
        "sparse-parity", "torch", "eager", "cpu", "float32", PAPER).compiles


def test_model_matrix_per_profile():
    cpu = matrix.model_cases("default", ("cpu",))
    # the paper's config (overhead-bound) x 5 variants, float32, sgd; full adds a matmul-bound one
    assert len(cpu) == 5 and {c.config for c in cpu} == {PAPER}
    assert {c.config for c in matrix.model_cases("full", ("cpu",))} == {PAPER, MATMUL}
    assert {(c.backend, c.variant) for c in cpu} == {("reference", "numpy"), ("torch", "eager"),
                                                     ("torch", "compiled"), ("jax", "jit"), ("jax", "scan")}
    assert {(c.dtype, c.optimizer) for c in cpu} == {("float32", "sgd")}
    quick = matrix.model_cases("quick", ("cpu",))
    assert {c.config for c in quick} == {PAPER} and len(quick) == 5  # the quick answer names both models
    gpu = matrix.model_cases("full", ("gpu",))
    assert gpu and not [c for c in gpu if c.backend == "reference"]
    assert {c.backend for c in matrix.model_cases("default", ("cpu",), ("jax",))} == {"jax"}
    with pytest.raises(ValueError, match=r"^profile: got 'x'; allowed: one of quick, default, full$"):
        matrix.model_cases("x")
    # the seed's matrix is what it was: 5 shapes x 2 optimizers x 7 variants on the CPU
    assert len(matrix.cases("default", ("cpu",))) == 5 * 2 * 7


def _info(backend, variant, sps, floor_sps, config=PAPER, flops=None):
    """A model case's extra_info as test_model_step writes it (paired rounds included)."""
    c = ModelCase("sparse-parity", backend, variant, "cpu", "float32", config)
    flops = flops if flops is not None else float(sparse_parity.spec.flops(sparse_parity.config(**dict(config))))
    k = 8
    calls = [sps * k * f for f in (0.98, 1.0, 1.02, 0.99, 1.01, 1.0, 0.97, 1.03, 1.0, 1.0)]
    info = timing.model_step_info(c, k, calls, 0.5, 1, 1e-7, flops=flops)
    info.update(timing.paired_info(calls, k, [floor_sps * 4] * (len(calls) + 1), 4))
    return info


def test_model_step_info_and_the_replica_pass_rebuilds_the_case():
    i = _info("jax", "scan", 5e-5, 2e-5)
    assert i["kind"] == "model-throughput" and i["model"] == "sparse-parity"
    assert i["config"] == {"n_bits": 30, "k": 3, "width": 1000, "batch": 32} and i["config_id"] == "n30-k3-w1000-b32"
    assert i["seconds_per_step"] == pytest.approx(5e-5) and i["samples_per_second"] == pytest.approx(32 / 5e-5)
    assert i["flops_per_second"] == pytest.approx(i["flops_per_step"] / 5e-5)
    assert i["floor_ratio"] == pytest.approx(2.5)
    rebuilt = matrix.case_of(json.loads(json.dumps(i)))  # as read back from the JSON
    assert rebuilt == ModelCase("sparse-parity", "jax", "scan", "cpu", "float32", PAPER, "sgd")
    seed = timing.step_info(Case("torch", "eager", "cpu", "float32", 1000, "sgd", 1), 4, [1e-4] * 3, 0.0, 1, 1e-7)
    assert matrix.case_of(seed) == Case("torch", "eager", "cpu", "float32", 1000, "sgd", 1)
    assert "model-throughput" in matrix.REPLICATED and set(matrix.STEP_KINDS) < set(matrix.REPLICATED)


def test_model_roofline_is_the_flops_at_the_fastest_floors_rate_and_seed_figures_are_untouched():
    seed = [timing.floor_info(matrix.Floor("torch", "cpu", "float32", 1000, 1), 10, [4e-5] * 5, 0.0, 1, 1e-7),
            timing.step_info(Case("torch", "eager", "cpu", "float32", 1000, "sgd", 1), 4, [4e-5] * 5, 0.0, 1, 1e-7)]
    alone = copy.deepcopy(seed)
    timing.add_floor_ratios(alone)
    fl = 1e9
    infos = copy.deepcopy(seed) + [_info("torch", "compiled", 4e-5, 1e-5, flops=fl),
                                   _info("jax", "scan", 3e-5, 2e-5, flops=fl),
                                   _info("reference", "numpy", 9e-5, 5e-6, config=MATMUL, flops=fl)]
    timing.add_floor_ratios(infos)
    assert infos[:2] == alone  # the seed's figures do not move for a model's cases beside them
    t, j, r = infos[2:]
    assert t["floor_flops_per_second"] == pytest.approx(1e14) and j["floor_flops_per_second"] == pytest.approx(5e13)
    assert t["matmul_flops_per_second"] == j["matmul_flops_per_second"] == pytest.approx(1e14)  # the fastest floor
    assert t["roofline_seconds_per_step"] == pytest.approx(1e-5)
    assert t["roofline_ratio"] == pytest.approx(4.0) and j["roofline_ratio"] == pytest.approx(3.0)
    assert j["floor_ratio"] == pytest.approx(1.5)  # its own paired floor, kept
    assert r["roofline_ratio"] == pytest.approx(18.0)  # another config: its own floor only
    assert "measured" in t["roofline_basis"]
    lines = summary.summary_lines(infos)
    text = "\n".join(lines)
    assert "sparse-parity:" in text
    row = next(line for line in lines if "n30-k3-w1000-b32" in line)
    assert "torch-compiled 40.0 (4.00x fl)" in row and "jax-scan 30.0 (1.50x fl)" in row and "0.75x" in row
    assert "fastest 3.00x roofline" in row


def _bench(name: str, info: dict) -> dict:
    """A pytest-benchmark record of a model case (stats per call of steps_per_call steps)."""
    k = info.get("steps_per_call", 1)
    secs = sorted(s * k for s in info.get("round_seconds", [1.0]))
    m = secs[len(secs) // 2]
    return {"name": name, "fullname": f"bench/test_throughput.py::{name}", "group": None, "params": None,
            "stats": {"median": m, "q1": secs[0], "q3": secs[-1], "iqr": secs[-1] - secs[0], "min": secs[0],
                      "max": secs[-1], "mean": m, "rounds": len(secs)}, "extra_info": info}


def _doc_with_models() -> dict:
    doc = json.loads(RUN.read_text())
    infos = [_info("torch", "compiled", 4e-5, 1e-5), _info("torch", "eager", 9e-5, 1e-5),
             _info("jax", "scan", 2e-5, 1e-5), _info("jax", "jit", 6e-5, 1e-5), _info("reference", "numpy", 2e-4, 4e-5)]
    timing.add_floor_ratios(infos)
    doc["benchmarks"] += [_bench(f"test_model_step[{matrix.case_of(i).id}]", i) for i in infos]
    ag = {"kind": "model-agreement", "model": "sparse-parity", "backend": "jax", "variant": "jit", "device": "cpu",
          "dtype": "float32", "config_id": "n20-k3-w1000-b32", "outcome": "solved", "steps_to_solve": 800,
          "reference_outcome": "solved", "reference_steps_to_solve": 800, "eval_every": 100, "horizon": 400,
          "agree": True}
    doc["benchmarks"].append(_bench("test_model_agreement[sparse-parity-jax-jit]", ag))
    tts = {"kind": "time-to-solve", "model": "sparse-parity", "backend": "jax", "variant": "scan", "device": "cpu",
           "dtype": "float32", "config_id": "n30-k3-w1000-b32", "warm_measured": True,
           "cold": {"run_seconds": 3.5, "steps_to_solve": 1100}, "warm": {"run_seconds": 2.0, "steps_to_solve": 1100}}
    doc["benchmarks"].append(_bench("test_time_to_solve[sparse-parity-jax-scan]", tts))
    return doc


def test_answer_names_both_models_and_keeps_the_seeds_answer():
    seed_only = answer.answer(resultfile.load(RUN))
    run = resultfile.parse(_doc_with_models(), "with-models.json")
    ans = answer.answer(run)
    assert ans["bands"] == seed_only["bands"] and ans["agreement"] == seed_only["agreement"]
    assert seed_only["models"] == {}
    m = ans["models"]["sparse-parity"]
    (row,) = m["throughput"]
    assert (row["torch"]["variant"], row["jax"]["variant"]) == ("compiled", "scan")
    assert row["jax_over_torch"] == pytest.approx(0.5)
    lo, hi = row["jax_over_torch_ci95"]
    assert lo <= 0.5 <= hi
    assert row["fastest"] == "jax-scan" and row["roofline_ratio"] == pytest.approx(2.0)
    text = answer.lines(ans)
    assert text[1] == "  seed, sin(w x)^2 (one weight):" and "  sparse-parity:" in text
    line = next(x for x in text if "n30-k3-w1000-b32 sgd:" in x)
    assert "torch-compiled 40.0 us, jax-scan 20.0 us per step: jax 2.00x faster" in line
    assert "each / own floor: 4.00x, 2.00x; fastest (jax-scan) 2.00x the roofline" in line
    assert any("agreement (n20-k3-w1000-b32): 1 of 1 runs end as the float64 reference (solved at step 800)" in x
               for x in text)
    assert any("jax-scan 3.5 s / 2.0 s (1100 steps)" in x for x in text)
    assert text[-1].startswith("  JSON: with-models.json")
    assert answer.lines(seed_only)[1].startswith("  cpu n=1e3")  # a seed-only file's block as before


def test_compare_tables_and_gate_take_the_models_cases_and_keep_the_seeds():
    run = resultfile.parse(_doc_with_models(), "with-models.json")
    seed = resultfile.load(RUN)
    assert {c.kind for c in run.cases.values()} - {c.kind for c in seed.cases.values()} == set(model_results.KINDS)
    titles = [t.title for t in one_run.run_tables(run)]
    assert titles[:len(one_run.run_tables(seed))] == [t.title for t in one_run.run_tables(seed)]
    assert any(t.startswith("sparse-parity n30-k3-w1000-b32 sgd float32 cpu") for t in titles)
    assert any(t.startswith("model agreement") for t in titles) and any(t.startswith("time to solve") for t in titles)
    d = compare.compare_runs(run, run)
    mine = [r for r in d.rows if r.case.startswith("sparse-parity")]
    assert len(mine) == 7 and not d.regressions
    assert {r.verdict for r in mine if "agreement" not in r.case and "solve" not in r.case} != {"not gated"}


def test_agreement_and_time_to_solve_cases_per_profile():
    from bench import test_model_agreement as T

    ag = list(T._params(matrix.MODEL_AGREEMENT, matrix.MODEL_AGREEMENT_RUNS))
    ids = [p.id for p in ag]
    assert "sparse-parity-jax-jit-cpu-f32-n20-k3-w1000-b32-sgd-seed0" in ids and len(ids) == len(set(ids))
    assert not [i for i in ids if "reference" in i and "-gpu-" in i]
    names = ("model_name", "backend", "variant", "device", "dtype", "config")
    chosen = {p: {(v[1], v[2]) for v in (x.values for x in ag)
                  if T.in_profile(p, "test_model_agreement", dict(zip(names, v)))} for p in matrix.PROFILES}
    assert chosen["quick"] == set() and ("torch", "compiled") not in chosen["default"]
    assert chosen["default"] < chosen["full"] == {("reference", "numpy"), ("torch", "eager"), ("torch", "compiled"),
                                                  ("jax", "jit"), ("jax", "scan")}
    solve = list(T._params(matrix.MODEL_SOLVE, matrix.MODEL_SOLVE_RUNS))
    assert "sparse-parity-torch-compiled-cpu-f32-n30-k3-w1000-b32-sgd-seed0" in [p.id for p in solve]
    default = {(v[1], v[2]) for v in (x.values for x in solve) if T.in_profile("default", "test_time_to_solve", dict(zip(names, v)))}
    assert default == {("torch", "eager"), ("jax", "scan")}
    assert matrix.MODEL_AGREEMENT_BUDGET >= 10 * 100 and matrix.MODEL_SOLVE_BUDGET >= 10 * 100


def test_model_option_selects_the_models_and_rejects_an_unknown_one_in_one_line():
    import subprocess

    def collect(*args):
        return subprocess.run([sys.executable, "-m", "pytest", "bench", "--benchmark-only", "--collect-only", "-q",
                               "-p", "no:cacheprovider", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)

    r = collect("--model", "nope")
    errors = [line for line in (r.stdout + r.stderr).splitlines() if line.startswith("ERROR")]
    assert r.returncode not in (0, 1) and len(errors) == 1
    assert "model: got 'nope'; allowed: one of seed, sparse-parity" in errors[0]
    r = collect("--model", "sparse-parity", "--device", "cpu", "--profile", "quick")
    ids = [line for line in r.stdout.splitlines() if "::" in line]
    assert ids and all("sparse-parity" in i for i in ids), r.stdout
    assert {i.split("::")[1].split("[")[0] for i in ids} == {"test_model_step"}  # quick: steps only
    r = collect("--model", "seed", "--device", "cpu", "--profile", "quick")
    ids = [line for line in r.stdout.splitlines() if "::" in line]
    assert ids and not [i for i in ids if "sparse-parity" in i]
