"""A lazy registry: a framework is imported only when its backend is asked for.

A machine without JAX still runs the PyTorch half (and the other way round): ``get`` raises a
one-line ``ValueError`` for an unknown name, and ``available`` reports a missing framework as
(False, reason) so that callers skip instead of crashing.
"""
from __future__ import annotations

import importlib
from types import ModuleType

from .spec import Backend, Data, Recipe, Trajectory, canonical_device, invalid

BACKENDS = ("reference", "torch", "jax")
DEFAULT_VARIANT = {"reference": "numpy", "torch": "eager", "jax": "jit"}
VARIANTS = {"reference": ("numpy",), "torch": ("eager", "compiled", "graphed", "compiled-tuned"),
            "jax": ("jit", "scan", "scan-tuned")}
TIER = {"compiled-tuned": "tuned", "scan-tuned": "tuned"}  # every other variant: "default"
# variants that exist on one device only, and why (elsewhere they skip with this reason)
DEVICE_ONLY = {"graphed": ("gpu", "a CUDA graph of K compiled steps; it needs device gpu")}
_MODULES = {"reference": "impls.reference", "torch": "impls.torch_backend", "jax": "impls.jax_backend"}
_FRAMEWORK = {"torch": "torch", "jax": "jax"}


def _check_name(name: str) -> None:
    if name not in BACKENDS:
        raise invalid("backend", name, "one of " + ", ".join(BACKENDS))


def get(name: str) -> Backend:
    """The backend module ``name``; raises ValueError if unknown or its framework is missing."""
    _check_name(name)
    try:
        return importlib.import_module(_MODULES[name])
    except ImportError as e:
        raise invalid("backend", name, f"an installed framework ({e})") from None


def available(name: str, device: str = "cpu", variant: str | None = None) -> tuple[bool, str]:
    """(True, "") if backend ``name`` (and its ``variant``, if given) runs on ``device`` here,
    else (False, the reason)."""
    _check_name(name)
    device = canonical_device(device)
    if variant in DEVICE_ONLY and DEVICE_ONLY[variant][0] != device:
        return False, f"variant {variant}: {DEVICE_ONLY[variant][1]}"
    if name in _FRAMEWORK and not installed(_FRAMEWORK[name]):
        return False, f"{_FRAMEWORK[name]} is not installed"
    return get(name).available(device)


def installed(module: str) -> bool:
    """Whether ``module`` can be imported here (False also when it is blocked as None)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ValueError, ImportError):  # e.g. sys.modules[module] = None: blocked
        return False


def check_variant(name: str, variant: str | None) -> str:
    """The variant to run (the backend's default for None); ValueError if not one of its own."""
    _check_name(name)
    if variant is None:
        return DEFAULT_VARIANT[name]
    if variant not in VARIANTS[name]:
        raise invalid("variant", variant, f"for backend {name}: one of " + ", ".join(VARIANTS[name]))
    return variant


def train(name: str, data: Data, recipe: Recipe, variant: str | None = None,
          device: str = "cpu") -> Trajectory:
    """Train ``recipe`` on ``data`` with one backend/variant/device: the whole trajectory."""
    variant = check_variant(name, variant)
    device = canonical_device(device)
    ok, why = available(name, device, variant)
    if not ok:
        if variant in DEVICE_ONLY:
            raise invalid("variant", variant, f"on device {device}: another variant ({why})")
        if device != "cpu":
            raise invalid("device", device, f"cpu for backend {name} here ({why})")
        raise invalid("backend", name, f"an installed framework ({why})")
    runner = get(name).prepare(data, recipe, variant, device)
    runner.advance(recipe.steps)
    return runner.trajectory()
