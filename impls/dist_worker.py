"""One rank of a data-parallel run: ``python -m impls.dist_worker CONFIG.json OUTDIR``.

Reads the torchrun variables (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), so it runs under
``paritybench train --processes P`` (impls/launch.py) or under ``torchrun`` on N hosts:

    torchrun --nnodes N --nproc-per-node 1 --node-rank R --master-addr HOST0 --master-port 29500 \\
        -m impls.dist_worker run.json out/

CONFIG.json: {"backend", "variant", "device", "problem": {n, x_max, seed} or "data": FILE.npz,
"recipe": {Recipe fields}, "timeout": seconds, optional "warmup_steps": steps run first, not
timed (they stay in the trajectory), optional "shard": "data" (default: the data-parallel step of
impls/<framework>_distributed.py) or "ensemble" (each rank trains its slice of the E members with
the one-process variant, then the engine gathers them), with "shard": "ensemble" optional
"method" (impls.methods: plain, scaled, curriculum), "x_max", "seed" (the curriculum's stages)}. Every rank writes OUTDIR/rank<R>.npz (w, loss,
seconds, comm_seconds, engine) through a temporary name and an atomic rename, so a file is whole or absent.
PARITYBENCH_DIST_FAULT="RANK:STEP:exit|hang" makes that rank fail before that step (tests only);
PARITYBENCH_ALL_CPUS=1 lets a rank run on every CPU of the machine (a launcher pinned to fewer: the
bench); PARITYBENCH_PIN_RANKS=1 pins local rank r to the r-th CPU of its set (timing studies).
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np

MODULES = {"torch": "impls.torch_distributed", "jax": "impls.jax_distributed"}


def _die_with_parent() -> None:
    try:  # Linux: end with the launcher even if it is killed without a chance to stop us
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _fault(rank: int):
    spec = os.environ.get("PARITYBENCH_DIST_FAULT", "")
    if not spec:
        return None
    r, step, mode = spec.split(":")
    return (int(step), mode) if int(r) == rank else None


def coordinator(env) -> str:
    """JAX's coordinator address: PARITYBENCH_COORDINATOR if set; under torchrun (which serves its
    own store on MASTER_PORT) MASTER_ADDR:MASTER_PORT+1; else MASTER_ADDR:MASTER_PORT."""
    if env.get("PARITYBENCH_COORDINATOR"):
        return env["PARITYBENCH_COORDINATOR"]
    port = int(env["MASTER_PORT"]) + (1 if env.get("TORCHELASTIC_RUN_ID") else 0)
    return f"{env['MASTER_ADDR']}:{port}"


def main(argv=None) -> int:
    import importlib

    from impls import data as datamod
    from impls.spec import Problem, Recipe

    config_path, outdir = (argv or sys.argv[1:])[:2]
    cfg = json.loads(Path(config_path).read_text())
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    _die_with_parent()
    if os.environ.get("PARITYBENCH_ALL_CPUS"):  # a launcher pinned to fewer CPUs (the bench's --threads)
        os.sched_setaffinity(0, range(os.cpu_count() or 1))
    if os.environ.get("PARITYBENCH_PIN_RANKS"):  # one CPU per local rank (before any framework import)
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpus[int(os.environ.get("LOCAL_RANK", rank)) % len(cpus)]})
    mod = importlib.import_module(MODULES[cfg["backend"]])
    timeout = float(cfg.get("timeout", 300))
    if cfg["backend"] == "jax":
        mod.initialize(timeout, cfg["device"], coordinator(os.environ), rank, world)
    else:
        mod.initialize(timeout, cfg["device"])
    data = datamod.load(cfg["data"]) if cfg.get("data") else datamod.generate(Problem(**cfg["problem"]))
    recipe = Recipe(**cfg["recipe"])  # an ensemble's w0 list is taken as it is
    if cfg.get("shard") == "ensemble":
        return _ensemble(mod, cfg, data, recipe, rank, world, Path(outdir))
    runner = mod.prepare(data, recipe, cfg["variant"], cfg["device"], rank, world)
    warm = int(cfg.get("warmup_steps", 0))  # timing studies: steps run first and not timed
    if warm:
        runner.advance(warm)
        runner.seconds = runner.comm_seconds = 0.0
    fault = _fault(rank)
    for step in range(recipe.steps):
        if fault and step == fault[0]:
            if fault[1] == "hang":
                time.sleep(10**6)
            os._exit(3)
        runner.advance(1)
    traj = runner.trajectory()
    _write(Path(outdir), rank, traj.w, traj.loss, traj.seconds, traj.meta.get("comm_seconds", float("nan")),
           mod.ENGINE)
    mod.shutdown()
    return 0


def _write(outdir: Path, rank: int, w, loss, seconds: float, comm: float, engine: str) -> None:
    out = outdir / f"rank{rank}.npz"
    tmp = out.with_suffix(".tmp.npz")
    np.savez(tmp, w=w, loss=loss, seconds=seconds, comm_seconds=comm, engine=engine)
    os.replace(tmp, out)


def _ensemble(mod, cfg: dict, data, recipe, rank: int, world: int, outdir: Path) -> int:
    """Sharded ensemble: rank r trains members [r E / P, (r + 1) E / P) with the one-process
    variant, no communication; then the engine gathers every member's trajectory on every rank."""
    from dataclasses import replace

    from impls import registry
    E = recipe.ensemble
    part = slice(rank * E // world, (rank + 1) * E // world)
    mine = replace(recipe, w0=tuple(recipe.w0_array[part].tolist()))
    method = cfg.get("method", "plain")
    if method != "plain":  # a method's stages (impls.methods), timed whole
        from impls import methods
        t0 = time.perf_counter()
        traj = methods.train(method, cfg["backend"], data, mine, cfg["variant"], cfg["device"],
                             x_max=cfg.get("x_max"), seed=int(cfg.get("seed", 0)))
        seconds = time.perf_counter() - t0
        return _gathered(mod, outdir, rank, traj, seconds)
    runner = registry.get(cfg["backend"]).prepare(data, mine, registry.check_variant(cfg["backend"], cfg["variant"]),
                                                  cfg["device"])
    if int(cfg.get("warmup_steps", 0)):  # timing studies: compile outside the timed steps
        runner.advance(int(cfg["warmup_steps"]))
    t0 = time.perf_counter()
    runner.advance(mine.steps)
    seconds = time.perf_counter() - t0
    return _gathered(mod, outdir, rank, runner.trajectory(), seconds)


def _gathered(mod, outdir: Path, rank: int, traj, seconds: float) -> int:
    t1 = time.perf_counter()
    w, loss = mod.gather_members(traj.w, traj.loss)
    _write(outdir, rank, w, loss, seconds, time.perf_counter() - t1, mod.ENGINE + "; ensemble sharded")
    mod.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
