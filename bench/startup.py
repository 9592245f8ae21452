"""Cold and warm starts, each in a fresh process: what the start of a user's run costs (#21).

One start is one fresh ``python -m bench.startup CONFIG`` process doing what ``paritybench train``
does for one (backend, variant, n): import the framework (the backend module), draw the data,
prepare the Runner, take S0 steps (``steps_for``: the seed's 100; 10 at n = 1e6), read the trajectory (the final loss:
JAX compiles it too). Every part is timed apart; the pytest process's own caches are warm, so it
never times a start itself.

  cold  the compile caches empty: inductor's cache dir (TORCHINDUCTOR_CACHE_DIR), JAX's
        persistent compilation cache (jax_compilation_cache_dir), TMPDIR (inductor's precompiled
        headers) and on a GPU Triton's and CUDA's caches are new, empty directories (``CACHES``),
        the JAX cache set to keep every program (min compile time 0 s, min entry size -1); the
        child checks them all empty before its import and fails otherwise. It fills them.
  warm  a fresh process on the directories its cold start filled (checked non-empty): inductor's
        FX graph and AOTAutograd caches, JAX's persistent cache enabled, as a user can enable it.
The operating system's file cache is warm in both (the libraries were read before): a first start
after a reboot also waits for the disk. numpy and torch eager compile nothing: their warm start
differs from the cold one by noise only (both are measured).

First step: the non-fused variants call advance(1) then advance(S0 - 1) (the calls advance(S0)
makes); a scan returns its S0 steps together, so its first step is its first call, advance(S0).

  start(backend, variant, n, kind, caches, threads, timeout) -> dict   (parent side)
  python -m bench.startup '{"backend": ..., ...}'                     (child; prints one JSON line)
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

STEPS = 100                  # S0: the seed's run
LARGE_N, LARGE_STEPS = 100_000, 10  # above LARGE_N a start takes 10 steps: its steps are the step
                             # cases' business (T(S) subtracts S0 x step); 100 cost jax 7 s a size


def steps_for(n: int) -> int:
    """S0 of a start at size n: the seed's 100 steps, 10 beyond LARGE_N."""
    return STEPS if n <= LARGE_N else LARGE_STEPS
X_MAX, SEED, LR = 1000, 0, 4e-4  # the seed's data and step size (bench.matrix's, framework-free)
KINDS = ("cold", "warm")
TIMEOUT = 300.0              # seconds one start may take before it is killed (its process group):
                             # a cold torch compile took 82 s on a 2-CPU machine at load 5
ROOT = Path(__file__).resolve().parents[1]
_JAX_EVENTS = {"/jax/core/compile/jaxpr_trace_duration": "trace",
               "/jax/core/compile/jaxpr_to_mlir_module_duration": "lower",
               "/jax/core/compile/backend_compile_duration": "xla_compile",
               "/jax/compilation_cache/cache_retrieval_time_sec": "cache_read"}


# cache name -> the variable pointing it into a start's cache root. TMPDIR: inductor keeps its
# precompiled headers in tempfile.gettempdir()/torchinductor_<user>, outside TORCHINDUCTOR_CACHE_DIR
# (torch/_inductor/codecache.py, _HEADER_DIR); Triton's and CUDA's JIT caches matter on a GPU.
CACHES = {"inductor": "TORCHINDUCTOR_CACHE_DIR", "jax": "JAX_COMPILATION_CACHE_DIR", "tmp": "TMPDIR",
          "triton": "TRITON_CACHE_DIR", "cuda": "CUDA_CACHE_PATH"}


def cache_env(caches: Path) -> dict:
    """Environment of a start on cache root ``caches`` (each cache of ``CACHES`` a directory of
    its own, created empty), JAX's persistent compilation cache keeping every program however
    small or quick to compile."""
    from bench.frameworks import jax_cache_env  # parent side only: the child times its own imports
    env = {}
    for name, var in CACHES.items():
        (Path(caches) / name).mkdir(parents=True, exist_ok=True)
        env[var] = str(Path(caches) / name)
    env.update(jax_cache_env(env[CACHES["jax"]]))
    return env


def files_in(d: str | Path) -> tuple[int, int]:
    """(files, bytes) under directory ``d`` (0, 0 if it does not exist)."""
    count = size = 0
    for root, _, names in os.walk(d):
        for name in names:
            count += 1
            try:
                size += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return count, size


def start(backend: str, variant: str, n: int, kind: str, caches: Path, threads: int,
          timeout: float = TIMEOUT, device: str = "cpu", dtype: str = "float32", steps: int = STEPS,
          malloc: str = "steady", model: dict | None = None) -> dict:
    """One start of a run of ``steps`` steps in a fresh process (its own process group, killed
    whole on timeout), glibc malloc set as the bench's processes set it (``frameworks.set_malloc``,
    so that its steps cost what the throughput cases' do); the child's record plus
    ``process_seconds`` (spawn to exit, as the parent saw it). RuntimeError with the child's last
    line when it fails or times out. ``model`` ({name, config, seed, budget}): a model under
    impls/contract.py trained to its first solved score instead of the seed's run (``child_model``;
    ``n`` and ``steps`` unused)."""
    if kind not in KINDS:
        raise ValueError(f"kind: got {kind!r}; allowed: one of {', '.join(KINDS)}")
    cfg = {"backend": backend, "variant": variant, "n": n, "kind": kind, "threads": threads,
           "device": device, "dtype": dtype, "steps": steps, "malloc": malloc, "caches": str(caches),
           "spawned": time.time(), "model": model}
    env = {**os.environ, **cache_env(Path(caches))}
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-m", "bench.startup", json.dumps(cfg)], cwd=ROOT, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(p)
        raise RuntimeError(f"{backend}-{variant} n={n} {kind} start: timed out after {timeout:g} s") from None
    except BaseException:  # Ctrl-C: no child left behind
        _kill_group(p)
        raise
    wall = time.perf_counter() - t0
    _kill_group(p)  # anything the child left running (a compile worker)
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        last = (err.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{backend}-{variant} n={n} {kind} start: exit {p.returncode}: {last}")
    rec = json.loads(lines[-1])
    rec["process_seconds"] = wall
    return rec


def _kill_group(p: subprocess.Popen) -> None:
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    p.wait()


def warm_missed(rec: dict) -> str | None:
    """Why a warm start was not warm (it compiled anew), else None."""
    tc, jc = rec.get("torch_compile"), rec.get("jax_compile")
    if tc and (tc["fxgraph_cache_miss"] or not tc["fxgraph_cache_hit"]):
        return f"inductor FX graph cache: {tc['fxgraph_cache_hit']} hits, {tc['fxgraph_cache_miss']} misses"
    if jc and (jc["cache_misses"] or not jc["cache_hits"]):
        return f"JAX persistent cache: {jc['cache_hits']} hits, {jc['cache_misses']} misses"
    return None


# ----------------------------------------------------------------------------- the child


def _check_caches(kind: str, env: dict) -> dict:
    """The cache dirs before the import: files and bytes; cold requires both empty, warm one filled."""
    out = {}
    for name, var in CACHES.items():
        files, size = files_in(env[var])
        out[name] = {"dir": env[var], "files_before": files, "bytes_before": size}
    if kind == "cold":
        full = [f"{k} ({v['files_before']} files in {v['dir']})" for k, v in out.items() if v["files_before"]]
        if full:
            raise SystemExit(f"cold start: caches not empty: {', '.join(full)}")
    return out


def _torch_phases() -> dict:
    """Dynamo's cumulative seconds per compile phase, and inductor's FX graph cache hits/misses."""
    from torch._dynamo.utils import calculate_time_spent, counters
    phases = {k: v for k, v in calculate_time_spent().items()}
    ind = counters["inductor"]
    return {"phases": phases, "fxgraph_cache_hit": int(ind["fxgraph_cache_hit"]),
            "fxgraph_cache_miss": int(ind["fxgraph_cache_miss"]),
            "graphs": int(counters["stats"]["unique_graphs"])}


def _listen(cfg: dict) -> dict:
    """After the framework's import: torch's threads set; JAX's compile phases and persistent-cache
    hits counted (the dict returned fills as they happen)."""
    jax_seconds = {v: 0.0 for v in _JAX_EVENTS.values()}
    jax_counts = {"cache_hits": 0, "cache_misses": 0}
    if cfg["backend"] == "torch":
        import torch
        torch.set_num_threads(cfg["threads"])
    elif cfg["backend"] == "jax":
        import jax.monitoring

        def on_duration(name, seconds, **kw):
            if name in _JAX_EVENTS:
                jax_seconds[_JAX_EVENTS[name]] += seconds

        def on_event(name, **kw):
            key = name.rsplit("/", 1)[-1]
            if key in jax_counts:
                jax_counts[key] += 1

        jax.monitoring.register_event_duration_secs_listener(on_duration)
        jax.monitoring.register_event_listener(on_event)
    return {"seconds": jax_seconds, "counts": jax_counts}


def _finish(rec: dict, cfg: dict, caches: dict, jax_compile: dict) -> dict:
    """The record's caches (files after), torch's compile phases and JAX's compile figures."""
    for name, v in caches.items():
        v["files_after"], v["bytes_after"] = files_in(v["dir"])
    rec["caches"] = caches
    if cfg["backend"] == "torch" and cfg["variant"] != "eager":
        rec["torch_compile"] = _torch_phases()
    if cfg["backend"] == "jax":
        rec["jax_compile"] = {"seconds": jax_compile["seconds"], **jax_compile["counts"]}
    return rec


def child(cfg: dict) -> dict:
    entered = time.time()
    caches = _check_caches(cfg["kind"], os.environ)
    if cfg.get("model"):
        return child_model(cfg, entered, caches)
    t = time.perf_counter
    t0 = t()
    from bench import frameworks
    frameworks.set_malloc(cfg.get("malloc", "steady"))
    import impls
    from impls import Problem, Recipe
    mod = impls.get(cfg["backend"])  # numpy's, impls' and the framework's import
    t_import = t() - t0
    jax_compile = _listen(cfg)
    t1 = t()
    data = impls.generate(Problem(n=cfg["n"], x_max=X_MAX, seed=SEED))
    t2 = t()
    steps = cfg.get("steps", STEPS)
    runner = mod.prepare(data, Recipe(optimizer="sgd", lr=LR, w0=1.5, steps=steps, dtype=cfg["dtype"]),
                         cfg["variant"], cfg["device"])
    t3 = t()
    fused = cfg["variant"].startswith("scan")
    runner.advance(steps if fused else 1)
    t4 = t()
    if not fused and steps > 1:
        runner.advance(steps - 1)
    t5 = t()
    traj = runner.trajectory()
    t6 = t()
    if traj.steps != steps:
        raise SystemExit(f"trajectory has {traj.steps} steps, not {steps}")
    rec = {"kind": cfg["kind"], "python_seconds": entered - cfg["spawned"], "import_seconds": t_import,
           "data_seconds": t2 - t1, "prepare_seconds": t3 - t2, "first_call_seconds": t4 - t3,
           "first_call_steps": steps if fused else 1, "rest_seconds": t5 - t4,
           "trajectory_seconds": t6 - t5, "steps": steps, "malloc": frameworks.malloc_info()["mode"],
           "to_first_step_seconds": t_import + (t4 - t1), "run_seconds": t_import + (t6 - t1)}
    return _finish(rec, cfg, caches, jax_compile)


def child_model(cfg: dict, entered: float, caches: dict) -> dict:
    """A model under impls/contract.py trained to its first solved score (``impls.models.run.train``:
    prepare, blocks of eval_every steps, compiling on the first, each block scored) as
    ``paritybench train --model`` does; ``run_seconds`` = import + the whole run (the time to solve)."""
    t = time.perf_counter
    t0 = t()
    from bench import frameworks
    frameworks.set_malloc(cfg.get("malloc", "steady"))
    from impls.contract import Train
    from impls.models import get, get_backend, outcome, run
    spec = cfg["model"]
    model = get(spec["name"])
    get_backend(model, cfg["backend"])  # the framework's import
    t_import = t() - t0
    jax_compile = _listen(cfg)
    t1 = t()
    train = Train(optim=model.optim, seed=spec["seed"], steps=spec["budget"], dtype=cfg["dtype"])
    traj = run.train(model, cfg["backend"], model.config(**spec["config"]), train, cfg["variant"], cfg["device"])
    t2 = t()
    result, steps = outcome.classify(traj)
    rec = {"kind": cfg["kind"], "python_seconds": entered - cfg["spawned"], "import_seconds": t_import,
           "prepare_seconds": traj.meta["prepare_seconds"], "step_seconds": traj.seconds,
           "eval_seconds": traj.meta["eval_seconds"], "train_seconds": t2 - t1, "outcome": result,
           "steps_to_solve": steps, "steps_run": traj.meta["steps_run"], "eval_every": traj.meta["eval_every"],
           "malloc": frameworks.malloc_info()["mode"], "run_seconds": t_import + (t2 - t1)}
    return _finish(rec, cfg, caches, jax_compile)


if __name__ == "__main__":
    print(json.dumps(child(json.loads(sys.argv[1]))), flush=True)
