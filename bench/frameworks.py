"""What the benchmarks need to know from the frameworks themselves: threads, compile events, versions.

Each framework is imported lazily and only if installed (``impls.registry.installed``), so a machine
without JAX (or torch) runs the other half.

Threads: torch takes ``torch.set_num_threads(T)``; XLA:CPU has no such switch (jax issues #743,
#1539: the XLA_FLAGS ``--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1`` only
go down to one thread), but its thread pool is sized from the CPUs the process may run on. So T
threads for both = the process pinned to T CPUs (``os.sched_setaffinity``, before JAX starts) +
``torch.set_num_threads(T)``; with T = 1 the XLA flags are added too.
"""
from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

from impls.registry import installed

_JAX_COMPILE_EVENTS = ("/jax/core/compile/jaxpr_trace_duration",
                       "/jax/core/compile/backend_compile_duration")
_jax_events = [0]
_jax_listening = [False]


def loaded(module: str) -> bool:
    """Whether ``module`` is imported in this process (not merely blocked as None)."""
    return sys.modules.get(module) is not None


def cpus() -> int:
    """CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def pin_threads(threads: int) -> None:
    """Make T threads the setting of both frameworks; call before JAX is imported."""
    if loaded("jax") or loaded("jaxlib"):
        raise RuntimeError("pin_threads must run before jax is imported")
    if hasattr(os, "sched_setaffinity") and threads < cpus():
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:threads])
    if threads == 1 and "--xla_cpu_multi_thread_eigen=false" not in os.environ.get("XLA_FLAGS", ""):
        flags = os.environ.get("XLA_FLAGS", "")
        os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1").strip()
    # JAX would take 75% of GPU memory at start; torch shares the process.
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    if installed("torch"):
        import torch
        torch.set_num_threads(threads)


MALLOC_MODES = ("steady", "default")
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc malloc.h
STEADY_MMAP_THRESHOLD = 32 << 20  # glibc's largest (DEFAULT_MMAP_THRESHOLD_MAX on 64-bit)
STEADY_TRIM_THRESHOLD = 1 << 30
_MALLOC: dict = {"mode": "default", "applied": False, "why": "not set by the suite"}


def set_malloc(mode: str) -> dict:
    """'steady': glibc keeps freed memory and serves blocks up to 32 MiB from its heap
    (mallopt M_MMAP_THRESHOLD = 32 MiB, M_TRIM_THRESHOLD = 1 GiB), so that a step's temporaries
    reuse pages instead of being mmap'ed, faulted in and unmapped at every step. 'default':
    glibc's own dynamic thresholds. Returns what is in force (recorded in machine_info['malloc']).

    Why (docs/compare.md, measured by ``python -m bench.studies.malloc_faults``): with glibc's defaults
    numpy's and torch eager's large steps take thousands of minor page faults each; page faults
    under a hypervisor cost what the host's state makes them cost, and these cases moved 20-30%
    between runs 15 minutes apart while the fused ones did not.
    """
    if mode not in MALLOC_MODES:
        raise ValueError(f"malloc: got {mode!r}; allowed: one of {', '.join(MALLOC_MODES)}")
    _MALLOC.clear()
    _MALLOC["mode"] = mode
    if mode == "default":
        _MALLOC.update(applied=True, why="glibc's dynamic thresholds")
        return dict(_MALLOC)
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        ok = (libc.mallopt(_M_MMAP_THRESHOLD, STEADY_MMAP_THRESHOLD) == 1
              and libc.mallopt(_M_TRIM_THRESHOLD, STEADY_TRIM_THRESHOLD) == 1)
    except (OSError, AttributeError):  # no glibc mallopt (musl, macOS): nothing to set
        ok = False
    _MALLOC.update(applied=ok, mmap_threshold=STEADY_MMAP_THRESHOLD, trim_threshold=STEADY_TRIM_THRESHOLD)
    if not ok:
        _MALLOC.update(mode="default", why="mallopt unavailable or refused: the C library's defaults")
    return dict(_MALLOC)


def malloc_info() -> dict:
    """The allocator setting in force in this process (``set_malloc``)."""
    return dict(_MALLOC)


def thread_counts() -> dict:
    """The thread settings in force: torch's, XLA's pool (= CPUs of the process), XLA_FLAGS."""
    out = {"cpus_of_process": cpus(), "xla_cpu_threads": cpus(),
           "xla_flags": os.environ.get("XLA_FLAGS", ""), "numpy": 1}
    if loaded("torch"):
        import torch
        out["torch_intra_op"] = torch.get_num_threads()
        out["torch_inter_op"] = torch.get_num_interop_threads()
    return out


def _listen_jax() -> None:
    if _jax_listening[0] or not loaded("jax"):
        return
    import jax.monitoring

    def on_event(name, duration, **kwargs):
        if name in _JAX_COMPILE_EVENTS:
            _jax_events[0] += 1

    jax.monitoring.register_event_duration_secs_listener(on_event)
    _jax_listening[0] = True


def jax_cache_env(directory: str | os.PathLike) -> dict:
    """Environment of JAX's persistent compilation cache in ``directory``, keeping every program
    however small or quick to compile (read by jax at its import)."""
    return {"JAX_COMPILATION_CACHE_DIR": str(directory), "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
            "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "-1"}


_jax_cache_hits = [0, False]  # programs loaded from JAX's persistent cache; listening yet


def jax_cache_hits() -> int:
    """Programs this process has loaded from JAX's persistent compilation cache (imports jax)."""
    if not _jax_cache_hits[1]:
        import jax.monitoring

        def on_event(name, **kwargs):
            if name == "/jax/compilation_cache/cache_hits":
                _jax_cache_hits[0] += 1
        jax.monitoring.register_event_listener(on_event)
        _jax_cache_hits[1] = True
    return _jax_cache_hits[0]


def compile_events(backend: str) -> int:
    """A counter that grows with every trace/compile of ``backend``'s framework in this process.

    torch: torch._dynamo's count of graphs compiled (``counters['stats']['unique_graphs']``);
    jax: the jaxpr-trace and backend-compile events of ``jax.monitoring``. 0 for numpy.
    """
    if backend == "torch" and loaded("torch"):
        from torch._dynamo.utils import counters
        return int(counters["stats"]["unique_graphs"])
    if backend == "jax" and loaded("jax"):
        _listen_jax()
        return _jax_events[0]
    return 0


def fresh(backend: str) -> None:
    """Start a case with empty compile caches where reuse would mislead: torch._dynamo.reset(),
    jax.clear_caches() (the jax backend shares one jitted step per optimizer across Runners, so
    without it a case whose shapes an earlier case compiled would report no compile time).

    Dynamo keys its cache by code object: the n-th Runner's ``_forward`` would be a recompile of the
    same code, and past ``recompile_limit`` (8) dynamo silently runs eager. A reset per case keeps
    each compiled case compiled (inductor's on-disk cache keeps the recompile cheap).
    """
    if backend == "torch" and loaded("torch"):
        import torch._dynamo
        torch._dynamo.reset()
    if backend == "jax":
        import jax
        jax.clear_caches()
        _listen_jax()


STACK = ("torch", "jax", "jaxlib", "optax", "numpy", "pytest-benchmark")


def versions(packages=STACK) -> dict:
    """Versions of python and ``packages`` (from package metadata: nothing is imported), None
    where one is not installed."""
    out = {"python": platform.python_version()}
    for pkg in packages:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def device_names() -> dict:
    """The CPU, and the GPU each framework sees (None where none)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    out = {"cpu": cpu, "torch_gpu": None, "jax_gpu": None}
    if loaded("torch"):
        import torch
        if torch.cuda.is_available():
            out["torch_gpu"] = torch.cuda.get_device_name(0)
    if loaded("jax"):
        import jax
        try:
            out["jax_gpu"] = str(jax.devices("gpu")[0].device_kind)
        except RuntimeError:
            pass
    return out


def gpu_info() -> dict:
    """What a GPU result depends on beyond the frameworks: the CUDA torch was built with, the
    driver and GPUs nvidia-smi reports, and JAX's CUDA plugin packages; {} on a machine without
    nvidia-smi and without a CUDA torch."""
    import shutil
    import subprocess
    out = {}
    if loaded("torch"):
        import torch
        if torch.version.cuda:
            out["torch_cuda"] = torch.version.cuda
            out["cudnn"] = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    if shutil.which("nvidia-smi"):
        try:
            p = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total,clocks.max.sm",
                                "--format=csv,noheader"], capture_output=True, text=True, timeout=20)
            out["nvidia_smi"] = [line.strip() for line in p.stdout.splitlines() if line.strip()]
            out["driver"] = out["nvidia_smi"][0].split(",")[1].strip() if out["nvidia_smi"] else None
        except (OSError, subprocess.TimeoutExpired, IndexError) as e:
            out["nvidia_smi_error"] = str(e)
    plugins = {d.metadata["Name"]: d.version for d in metadata.distributions()
               if (d.metadata["Name"] or "").lower().startswith(("jax-cuda", "jax_cuda", "nvidia-cuda-runtime"))}
    if plugins:
        out["packages"] = dict(sorted(plugins.items()))
    return out


def skip_unless_runs(backend: str, device: str, chosen: dict | None = None) -> None:
    """pytest.skip, with the reason, unless ``backend`` runs on ``device`` here and both were
    selected (``chosen``: the bench_settings, whose devices/backends lists filter the matrix)."""
    import pytest

    import impls

    chosen = chosen or {}
    if chosen.get("devices") and device not in chosen["devices"]:
        pytest.skip(f"device {device} not selected")
    if chosen.get("backends") and backend not in chosen["backends"]:
        pytest.skip(f"backend {backend} not selected")
    ok, why = impls.available(backend, device)
    if not ok:
        pytest.skip(f"{backend} on {device}: {why}")
