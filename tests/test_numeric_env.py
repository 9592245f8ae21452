"""The numeric environment: recorded in full, and never able to fool the suite through a cache.

torch 2.13's inductor serves on-disk cached CPU kernels across a change of ATEN_CPU_CAPABILITY and
they compute wrong numbers (docs/bugs/inductor-cache-cpu-capability.md). The torch backend keys
the cache directory by the numeric environment; the subprocess test below is the suite's guard.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import require
from impls import Problem, generate, numenv

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, os
from impls import Problem, Recipe, generate, registry
data = generate(Problem(n=1000, x_max=1000, seed=0))
tr = registry.train("torch", data, Recipe(optimizer="adam", lr=0.01, steps=3), "compiled")
import torch
print(json.dumps({"dir": os.environ["TORCHINDUCTOR_CACHE_DIR"],
                  "capability": torch.backends.cpu.get_cpu_capability(),
                  "w": tr.w[:, 0].tolist(), "loss": tr.loss[:, 0].tolist()}))
"""


def _child(cache_base: Path, capability: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("ATEN_CPU_CAPABILITY", "TORCHINDUCTOR_CACHE_DIR")}
    env["TORCHINDUCTOR_CACHE_DIR"] = str(cache_base)
    env["PYTHONPATH"] = str(ROOT)
    if capability:
        env["ATEN_CPU_CAPABILITY"] = capability
    r = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True,
                       timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_compiled_kernels_are_not_served_across_cpu_capabilities(tmp_path):
    """A compiled Adam step under the native capability fills the shared cache base; a second
    process under another capability must get its own directory and the right numbers: every
    loss within the derived float32 bound (tests/tolerances.py) of the float64 truth at its own w."""
    require("torch")
    import tolerances

    import torch

    lower = {"AVX512": "avx2", "AVX2": "default"}.get(torch.backends.cpu.get_cpu_capability())
    if lower is None:
        pytest.skip(f"no CPU capability below {torch.backends.cpu.get_cpu_capability()} to switch to")
    base = tmp_path / "inductor"
    native = _child(base, None)
    other = _child(base, lower)
    assert other["capability"] != native["capability"], (native["capability"], other["capability"])
    data = generate(Problem(n=1000, x_max=1000, seed=0))
    for run in (native, other):
        for t, (w, loss) in enumerate(zip(run["w"], run["loss"])):
            truth, _, tol, _ = tolerances.loss_grad_truth(data, [w], "float32")
            assert abs(loss - truth[0]) <= tol[0], (run["capability"], t, loss, truth[0], tol[0])
    assert Path(native["dir"]).parent == base and Path(other["dir"]).parent == base
    assert native["dir"] != other["dir"]


def test_an_inherited_cache_key_is_replaced_not_nested(monkeypatch, tmp_path):
    require("torch")
    from impls import torch_backend

    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "paritybench-torch0-AVX9-deadbeef"))
    path = torch_backend.key_inductor_cache()
    assert path == str(tmp_path / ("paritybench-" + torch_backend.numeric_key()))
    assert os.environ["TORCHINDUCTOR_CACHE_DIR"] == path
    assert torch_backend.key_inductor_cache() == path  # idempotent


def test_the_numeric_environment_names_cpu_isa_paths_blas_and_threads():
    d = numenv.describe()
    assert d["cpu_model"] and isinstance(d["isa"], list)
    assert set(d["numpy_simd"]) == {"baseline", "found"} and d["numpy_blas"]
    assert isinstance(d["thread_env"], dict) and "libc" in d
    if "torch" in d:
        import torch
        t = d["torch"]
        assert t["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
        assert t["threads"] == torch.get_num_threads() and t["inductor_cache_key"].startswith("torch")
    if "jax" in d:
        j = d["jax"]
        assert j["version"] and j["xla_cpu_max_isa"]
    if os.path.exists("/proc/cpuinfo"):
        flags = set(numenv.cpu_flags())
        assert set(d["isa"]) <= flags and ("avx2" in flags) == ("avx2" in d["isa"])


def test_xla_max_isa_is_read_from_xla_flags(monkeypatch):
    require("jax")
    from impls import jax_backend

    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_max_isa=avx2 --foo=1")
    assert jax_backend.numeric_environment()["xla_cpu_max_isa"] == "AVX2"
    monkeypatch.setenv("XLA_FLAGS", "")
    assert jax_backend.numeric_environment()["xla_cpu_max_isa"] == "host"
