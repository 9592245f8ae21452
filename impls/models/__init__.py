"""The models, each a pair (torch, JAX) beside a numpy float64 reference, filling impls/contract.py.

  seed           sin(w x)^2 on integers, the seed question's model: impls/spec.py and the backends
                 impls/{reference,torch_backend,jax_backend}.py (its own richer contract:
                 ensembles, op cases, horizons in x). The default everywhere.
  sparse-parity  a k-sparse parity of n bits on a ReLU MLP (Barak et al. 2022): sparse_parity/

A new model goes in a package of its own here: a ``spec.py`` with its ``Model`` (framework-free),
and ``reference.py``, ``torch_model.py``, ``jax_model.py`` (each imports only its framework).
"""
from __future__ import annotations

import importlib
from types import ModuleType

from .. import registry
from ..contract import Model, invalid
from .sparse_parity import MODEL as SPARSE_PARITY

DEFAULT = "seed"
MODELS: dict[str, Model | None] = {"seed": None, "sparse-parity": SPARSE_PARITY}  # seed: impls.registry
SUMMARY = {"seed": "sin(w x)^2 on integers x < x_max, y = x mod 2: one weight (the seed question)",
           "sparse-parity": SPARSE_PARITY.summary}


def check_name(name: str) -> str:
    """A built-in model's name, or a user's model file ``path/to/model.py:Name`` (impls/models/user)."""
    if name not in MODELS:
        from . import user
        if user.is_spec(name) or name in user._LOADED or user.from_env(name) is not None:
            return name
        raise invalid("model", name, "one of " + ", ".join(MODELS) + ", or path/to/model.py:Name (docs/models.md)")
    return name


def get(name: str) -> Model:
    """The ``Model`` of ``name``; ValueError for an unknown name, or for the seed (whose backends
    are impls.registry's)."""
    check_name(name)
    if name not in MODELS:  # a user's model file: loaded (one line naming the field if it is bad)
        from . import user
        return user._LOADED[name] if name in user._LOADED else user.from_env(name) or user.load(name)
    if MODELS[name] is None:
        raise invalid("model", name, "a model under impls/contract.py (the seed's is impls.registry)")
    return MODELS[name]


def get_backend(model: Model, backend: str) -> ModuleType:
    """The framework module of ``model`` for ``backend``, imported now (and its framework with it)."""
    if backend not in model.backends:
        raise invalid("backend", backend, "one of " + ", ".join(model.backends))
    try:
        return importlib.import_module(model.backends[backend])
    except ImportError as e:
        raise invalid("backend", backend, f"an installed framework ({e})") from None


def check_variant(model: Model, backend: str, variant: str | None) -> str:
    if backend not in model.variants:
        raise invalid("backend", backend, "one of " + ", ".join(model.variants))
    if variant is None:
        return model.variants[backend][0]
    if variant not in model.variants[backend]:
        raise invalid("variant", variant, f"for backend {backend} of model {model.name}: one of "
                      + ", ".join(model.variants[backend]))
    return variant


FRAMEWORK = {"torch": "torch", "jax": "jax"}


def model_available(model, backend: str, device: str) -> tuple[bool, str]:
    """(True, "") if ``model``'s ``backend`` runs on ``device`` here, else (False, why); imports it."""
    if backend in FRAMEWORK and not registry.installed(FRAMEWORK[backend]):
        return False, f"{FRAMEWORK[backend]} is not installed"
    try:
        module = get_backend(model, backend)
    except ValueError as e:
        return False, str(e).split("; allowed: ", 1)[-1]
    check = getattr(module, "available", None)
    return check(device) if check else (True, "")
