"""The driver every model shares: prepare a backend's runner, advance it in blocks, score each block.

    train(model, backend, cfg, train) -> ModelTrajectory

A run of ``train.steps`` steps (the budget) is cut into blocks of ``block`` steps, the last one
possibly shorter:
  block   = eval_every (the model's ``eval_every`` by default), or gcd(eval_every, record_every)
            when snapshots are asked for at steps that are not multiples of eval_every;
  advance the runner one block (timed: ``seconds`` is the sum of the advance calls' wall time,
            compilation included; preparing the runner is ``meta['prepare_seconds']``);
  at every multiple of eval_every (and at the last step) the parameters are scored by the
            model's ``evaluate``: the same numpy float64 code for every backend, so a score never
            depends on the framework that trained the parameters (``meta['eval_seconds']``);
  at every multiple of record_every (and at steps 0 and the last) the flattened float64
            parameters are kept in ``snapshots`` (``impls.contract.flatten``);
  the run stops at the first solved score (``stop_when_solved``), or when the parameters are no
            longer finite (a diverged run: nothing to learn after NaN).

``meta['steps_to_solve']`` is the first scored step whose score is solved, None if none was: an
upper bound, the solve happened in (t - eval_every, t]. Its resolution is one eval block.

The seed's model ("seed") has its own richer driver (impls.registry.train: ensembles, op cases,
horizons in x); asking this one for it raises a one-line ValueError that says so.
"""
from __future__ import annotations

import math
import time

import numpy as np

from ..contract import Model, ModelTrajectory, Train, _int, canonical_device, flatten, invalid
from . import check_variant, get, get_backend


def blocks(steps: int, eval_every: int, record_every: int | None = None) -> list[int]:
    """The step counts after each block: multiples of the block size, then ``steps``."""
    block = eval_every if record_every is None else math.gcd(eval_every, record_every)
    ends = list(range(block, steps, block))
    return ends + [steps] if steps > 0 else []


def train(model: Model | str, backend: str, cfg, train: Train, variant: str | None = None,
          device: str = "cpu", eval_every: int | None = None, record_every: int | None = None,
          stop_when_solved: bool = True) -> ModelTrajectory:
    """Train ``cfg`` (the model's validated config) with ``train`` on one backend/variant/device.

    ``loss`` has one float64 entry per step run (fewer than ``train.steps`` when the run stopped
    early: ``meta['stopped']`` says why: "solved", "diverged" or "budget").
    """
    model = get(model) if isinstance(model, str) else model
    if not isinstance(model, Model):
        raise invalid("model", model, "an impls.contract.Model or a model name")
    if not isinstance(train, Train):
        raise invalid("train", train, "an impls.contract.Train")
    variant = check_variant(model, backend, variant)
    device = canonical_device(device)
    eval_every = _int("eval_every", model.eval_every if eval_every is None else eval_every, 1, 10**8)
    if record_every is not None:
        record_every = _int("record_every", record_every, 1, 10**8)
    if not isinstance(stop_when_solved, bool):
        raise invalid("stop_when_solved", stop_when_solved, "True or False")
    module = get_backend(model, backend)

    t0 = time.perf_counter()
    runner = module.prepare(cfg, train, variant, device)
    prepare_seconds = time.perf_counter() - t0
    snapshots, scores = {}, {}
    if record_every is not None:
        snapshots[0] = flatten(runner.params())
    seconds = eval_seconds = 0.0
    done, steps_to_solve, stopped = 0, None, "budget"
    for end in blocks(train.steps, eval_every, record_every):
        t0 = time.perf_counter()
        runner.advance(end - done)
        seconds += time.perf_counter() - t0
        done = end
        scored = end % eval_every == 0 or end == train.steps
        kept = record_every is not None and (end % record_every == 0 or end == train.steps)
        if not (scored or kept):
            continue
        t0 = time.perf_counter()
        params = runner.params()
        vec = flatten(params)
        finite = bool(np.isfinite(vec).all())
        if kept:
            snapshots[end] = vec
        if scored and finite:
            scores[end] = float(model.evaluate(cfg, train.seed, params))
        eval_seconds += time.perf_counter() - t0
        if not finite:
            stopped = "diverged"
            if record_every is not None:
                snapshots[end] = vec  # the first non-finite parameters are kept, whatever the step
            break
        if scored and steps_to_solve is None and model.solved(scores[end]):
            steps_to_solve = end
            if stop_when_solved:
                stopped = "solved"
                if record_every is not None:
                    snapshots[end] = vec
                break
    loss = np.asarray(runner.losses(), np.float64).reshape(-1)
    if loss.size != done:
        raise RuntimeError(f"{backend}-{variant}: {loss.size} losses after {done} steps")
    if stopped == "budget" and not np.isfinite(loss).all():
        stopped = "diverged"
    meta = {"config": _config_dict(cfg), "train": train.to_dict(), "budget": train.steps,
            "steps_run": done, "eval_every": eval_every, "record_every": record_every,
            "stop_when_solved": stop_when_solved, "steps_to_solve": steps_to_solve,
            "stopped": stopped, "prepare_seconds": prepare_seconds, "eval_seconds": eval_seconds}
    return ModelTrajectory(model=model.name, backend=backend, variant=variant, device=device,
                           dtype=train.dtype, loss=loss, snapshots=snapshots, scores=scores,
                           seconds=seconds, meta=meta)


def _config_dict(cfg) -> dict:
    fields = getattr(cfg, "__dataclass_fields__", None)
    return {k: getattr(cfg, k) for k in fields} if fields else {"config": repr(cfg)}
