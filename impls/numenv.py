"""The numeric environment: what decides how this machine computes sin, cos and sums.

Framework-free (numpy and /proc/cpuinfo only); each backend adds its own part through
``numeric_environment()`` (torch: CPU capability; jax: the XLA CPU target). ``describe`` joins them.

Fields
  cpu_model       '/proc/cpuinfo' model name (platform.processor() elsewhere)
  cpu_vendor      GenuineIntel, AuthenticAMD, ...
  isa             the vector ISA flags that pick code paths: sse4_2 avx avx2 fma avx512* amx* ...
  numpy_simd      numpy's SIMD dispatch: {'baseline': [...], 'found': [...]}
  numpy_blas      the BLAS numpy was built with (name, version)
  libc            the C library (glibc picks FMA or non-FMA sin/cos by CPU: numpy's float64 ones)
  thread_env      the variables set that pick threads or code paths: OMP/MKL/OPENBLAS threads,
                  XLA_FLAGS, ATEN_CPU_CAPABILITY, NPY_DISABLE_CPU_FEATURES, GLIBC_TUNABLES
"""
from __future__ import annotations

import os
import platform
import re

_ISA = re.compile(r"^(sse4_[12]|ssse3|avx|avx2|fma|f16c|avx512.*|avx_vnni|amx.*|bmi2)$")
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "XLA_FLAGS",
               "ATEN_CPU_CAPABILITY", "NPY_DISABLE_CPU_FEATURES", "GLIBC_TUNABLES")


def _cpuinfo() -> dict[str, str]:
    """The first processor's fields of /proc/cpuinfo ({} where there is none)."""
    out = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not line.strip():
                    break
                k, _, v = line.partition(":")
                out[k.strip()] = v.strip()
    except OSError:
        pass
    return out


def cpu_model() -> str:
    return _cpuinfo().get("model name") or platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    """Every CPU flag, sorted ([] where /proc/cpuinfo is absent)."""
    return sorted(_cpuinfo().get("flags", "").split())


def isa_flags() -> list[str]:
    """The vector-ISA subset of ``cpu_flags`` (what selects SIMD code paths)."""
    return [f for f in cpu_flags() if _ISA.match(f)]


def numpy_part() -> dict:
    """numpy's SIMD dispatch and BLAS, from ``numpy.show_config(mode='dicts')``."""
    import numpy as np

    try:
        cfg = np.show_config(mode="dicts")
    except TypeError:  # numpy < 1.25: no dict mode
        return {"numpy_simd": None, "numpy_blas": None}
    simd = cfg.get("SIMD Extensions", {})
    blas = cfg.get("Build Dependencies", {}).get("blas", {})
    return {"numpy_simd": {"baseline": list(simd.get("baseline", [])), "found": list(simd.get("found", []))},
            "numpy_blas": f"{blas.get('name')} {blas.get('version')}".strip()}


def machine_part() -> dict:
    """The framework-free part: CPU, ISA, numpy's SIMD and BLAS, thread variables set."""
    info = _cpuinfo()
    out = {"cpu_model": cpu_model(), "cpu_vendor": info.get("vendor_id"), "isa": isa_flags()}
    out.update(numpy_part())
    out["libc"] = " ".join(platform.libc_ver()).strip() or None
    out["thread_env"] = {k: os.environ[k] for k in THREAD_VARS if k in os.environ}
    return out


def describe(backends=("torch", "jax")) -> dict:
    """machine_part() plus each installed backend's ``numeric_environment()`` under its name.

    Importing a backend imports its framework: call where the framework is wanted anyway.
    """
    from . import registry

    out = machine_part()
    for b in backends:
        if registry.installed(b):
            out[b] = registry.get(b).numeric_environment()
    return out

