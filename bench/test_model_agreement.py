"""The models under impls/contract.py trained to solved: agreement with the float64 reference (kind
"model-agreement") and the time to solve in a fresh process, cold and warm (kind "time-to-solve").

Agreement (``test_model_agreement``): per model, ``matrix.MODEL_AGREEMENT``'s config (sparse parity
n = 20, k = 3, width 1000, batch 32, the paper's recipe, seed 0), each of the profile's runs
(``matrix.MODEL_AGREEMENT_RUNS``) in float32 for at most ``matrix.MODEL_AGREEMENT_BUDGET`` steps,
stopping at the first solved score (``impls.models.run.train``: scored every ``eval_every`` steps
by the model's numpy float64 ``evaluate``, the parameters recorded at each score). The timed call is
that run as a user makes it: prepare, compile on the first call, steps, scores. The float64
reference's run (the same, in float64) is made once per config, outside any timing. Verdict, asserted
after the timing so that a disagreeing case is recorded and then fails: the same outcome
(``impls.models.outcome.classify``: solved / unsolved / diverged) and, when solved, steps to solve
within one eval block of the reference's (both are upper bounds of one block). The horizon (the
first recorded step at which the parameter vectors part by more than ``outcome.PART_TOL``) is
recorded, not judged: a float32 run may part from the float64 one long before either solves.

Time to solve (``test_time_to_solve``): per model, ``matrix.MODEL_SOLVE``'s config (the paper's
n = 30), each of ``matrix.MODEL_SOLVE_RUNS`` in fresh processes (bench/startup.py, ``model=``): a
cold start on new, empty compile caches, then, for a variant that compiles, a warm start on the
caches it filled; each runs ``paritybench train``'s work to the first solved score: import,
prepare, steps (compiling), scores. The figures are in extra_info['cold'] and ['warm'].

Profiles (``in_profile``; bench/conftest.py deselects the others): quick none; default the runs
named in bench/matrix.py; full every variant.
"""
from __future__ import annotations

import dataclasses
import functools
import shutil

import pytest

from bench import frameworks, matrix, startup
from bench.matrix import DTYPE_TAG, config_tag


def _params(configs: dict, runs: dict):
    """pytest params (model, backend, variant, device, dtype, config) of every run any profile names."""
    every = dict.fromkeys(r for p in matrix.PROFILES for r in runs[p])
    for model, config in configs.items():
        for device in matrix.DEVICES:
            for backend, variant in every:
                if backend == "reference" and device != "cpu":
                    continue
                yield pytest.param(model, backend, variant, device, "float32", config,
                                   id=f"{model}-{backend}-{variant}-{device}-f32-{config_tag(config)}-sgd-seed{matrix.SEED}")


def in_profile(profile: str, test: str, params: dict) -> bool:
    """Whether the case belongs to ``profile`` (bench/conftest.py deselects the others)."""
    runs = matrix.MODEL_AGREEMENT_RUNS if test == "test_model_agreement" else matrix.MODEL_SOLVE_RUNS
    return (params["backend"], params["variant"]) in runs[profile]


def _setup(model_name: str, config: tuple, dtype: str, budget: int):
    from impls.contract import Train
    from impls.models import get
    model = get(model_name)
    return model, model.config(**dict(config)), Train(optim=model.optim, seed=matrix.SEED, steps=budget, dtype=dtype)


@functools.lru_cache(maxsize=4)
def reference_run(model_name: str, config: tuple, budget: int):
    """The float64 reference's run of the agreement config (once per config, untimed)."""
    from impls.models import run
    model, cfg, train = _setup(model_name, config, "float64", budget)
    return run.train(model, "reference", cfg, train, record_every=model.eval_every)


def _skip_unless(model_name: str, backend: str, device: str, settings: dict) -> None:
    import importlib.util

    from impls.models import get
    frameworks.skip_unless_runs(backend, device, settings)
    module = get(model_name).backends.get(backend)
    if module is None or importlib.util.find_spec(module) is None:
        pytest.skip(f"{model_name}: no {backend} module ({module}) in this checkout")


@pytest.mark.parametrize("model_name,backend,variant,device,dtype,config", list(_params(matrix.MODEL_AGREEMENT, matrix.MODEL_AGREEMENT_RUNS)))
def test_model_agreement(benchmark, bench_settings, model_name, backend, variant, device, dtype, config):
    from impls.models import outcome, run
    _skip_unless(model_name, backend, device, bench_settings)
    budget = matrix.MODEL_AGREEMENT_BUDGET
    model, cfg, train = _setup(model_name, config, dtype, budget)
    ref = reference_run(model_name, config, budget)
    traj = benchmark.pedantic(run.train, args=(model, backend, cfg, train, variant, device),
                              kwargs={"record_every": model.eval_every}, rounds=1, iterations=1)
    got, ref_got = outcome.classify(traj), outcome.classify(ref)
    block = traj.meta["eval_every"]
    same_steps = got[1] is None and ref_got[1] is None or (
        got[1] is not None and ref_got[1] is not None and abs(got[1] - ref_got[1]) <= block)
    agree = got[0] == ref_got[0] and same_steps
    last = max(traj.scores) if traj.scores else None
    benchmark.extra_info.update({
        "kind": "model-agreement", "model": model_name, "backend": backend, "variant": variant,
        "device": device, "dtype": dtype, "config": dict(config), "config_id": config_tag(config),
        "optimizer": train.optim.optimizer, "optim": dataclasses.asdict(train.optim), "seed": train.seed,
        "budget": budget, "eval_every": block, "outcome": got[0], "steps_to_solve": got[1],
        "reference_outcome": ref_got[0], "reference_steps_to_solve": ref_got[1],
        "horizon": outcome.horizon(traj, ref), "horizon_tol": outcome.PART_TOL,
        "horizon_checked_to": outcome.common_steps(traj, ref),
        "final_score": traj.scores.get(last) if last is not None else None,
        "reference_final_score": ref.scores.get(max(ref.scores)) if ref.scores else None,
        "steps_run": traj.meta["steps_run"], "step_seconds": traj.seconds,
        "prepare_seconds": traj.meta["prepare_seconds"], "eval_seconds": traj.meta["eval_seconds"],
        "agree": agree,
        "timed": "impls.models.run.train: prepare + compile on first call + steps to solved + scores"})
    assert agree, (f"{model_name} {backend}-{variant} {DTYPE_TAG[dtype]}: {got[0]} at step {got[1]}, the float64 "
                   f"reference {ref_got[0]} at step {ref_got[1]} (one eval block: {block} steps)")


@pytest.mark.parametrize("model_name,backend,variant,device,dtype,config", list(_params(matrix.MODEL_SOLVE, matrix.MODEL_SOLVE_RUNS)))
def test_time_to_solve(benchmark, bench_settings, tmp_path_factory, model_name, backend, variant, device,
                       dtype, config):
    _skip_unless(model_name, backend, device, bench_settings)
    compiles = variant not in ("numpy", "eager")
    kinds = startup.KINDS if compiles else ("cold",)
    caches = tmp_path_factory.mktemp(f"solve-{backend}-{variant}")
    spec = {"name": model_name, "config": dict(config), "seed": matrix.SEED, "budget": matrix.MODEL_SOLVE_BUDGET}
    recs = {}

    def starts_once():
        for kind in kinds:
            recs[kind] = startup.start(backend, variant, 0, kind, caches, bench_settings["threads"], device=device,
                                       dtype=dtype, malloc=bench_settings["malloc"], model=spec)

    benchmark.group = f"time to solve {model_name} {device} {config_tag(config)}"
    try:
        benchmark.pedantic(starts_once, rounds=1, iterations=1)
    finally:
        shutil.rmtree(caches, ignore_errors=True)
    benchmark.extra_info.update({
        "kind": "time-to-solve", "model": model_name, "backend": backend, "variant": variant, "device": device,
        "dtype": dtype, "config": dict(config), "config_id": config_tag(config), "optimizer": "sgd",
        "seed": matrix.SEED, "budget": matrix.MODEL_SOLVE_BUDGET, "cold": recs["cold"],
        "warm": recs.get("warm", recs["cold"]), "warm_measured": "warm" in recs,
        "timed": "fresh processes: import, prepare, steps to solved, scores (bench/startup.py)"})
    missed = startup.warm_missed(recs["warm"]) if "warm" in recs else None
    if missed:
        benchmark.extra_info.update(kind="failed", failure=f"warm start compiled anew: {missed}")
        pytest.fail(f"warm start compiled anew: {missed}")
    if recs["cold"].get("outcome") != "solved":
        pytest.fail(f"{model_name} {backend}-{variant}: {recs['cold'].get('outcome')} within "
                    f"{matrix.MODEL_SOLVE_BUDGET} steps (the time to solve needs a solved run)")
