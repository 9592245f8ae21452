"""A user's model pair in one Python file, ``path/to/model.py:Name``: the loader (-> a contract Model).

The file holds a small declarative class (benchopt's style). The suite supplies the generic
runners (torch_backend.py, jax_backend.py, numpy_backend.py in this package) and the same-model
check (check.py); docs/models.md walks through writing one. The parts, and their defaults:

  name          str, the model's name in every output             default: the class's name
  summary       str                                               default: the docstring's first line
  parameters    dict field -> default (int, float, bool or str); each becomes an attribute of the
                instance the methods are called on (``self.n_bits``)   default: {}
  optim         impls.contract.Optim or a dict of its fields      default: Optim() (sgd, lr 0.1, no decay)
  eval_every    steps between scores                              default: 100
  steps         the training budget of ``paritybench train``      default: 1000
  init(self, seed) -> {name: float64 ndarray}                     required
  batches(self, seed, start, k) -> tuple of ndarrays, each (k, ...): the batches of steps
                start..start+k-1; float64, integer or bool; a function of (seed, step) only
                                                                  required
  loss_torch(self, params, *batch) -> 0-dim tensor                required
  loss_jax(self, params, *batch) -> scalar                        required
  loss_numpy(self, params, *batch) -> (loss, {name: gradient})    default: none; the torch float64
                eager run is the reference then, and every output says so
  evaluate(self, seed, params) -> float (float64 numpy params)    default: the float64 loss of
                step 0's batch (reference implementation)
  solved(self, score) -> bool                                     default: never (runs go to budget)

``params`` is a dict name -> array in the run's dtype (torch: tensors of an nn.ParameterDict; JAX:
jnp arrays; numpy: ndarrays); ``batch`` holds the arrays of ``batches`` for one step (the leading
k dropped), floating ones cast to the run's dtype, integer and bool ones kept as they are.

Every bad input is one line naming the field (a ValueError; exit 2 from the CLIs): a file that does
not exist, a name not in it, a part missing or of the wrong kind, an exception inside the user's
code (with the file and line it came from), arrays of the wrong dtype.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import math
import traceback
from pathlib import Path

import numpy as np

from ...contract import Model, Optim, invalid

DEFAULT_EVAL_EVERY = 100
DEFAULT_STEPS = 1000
RESERVED = ("user", "model", "id", "source")  # config attributes the suite uses
REQUIRED = ("init", "batches", "loss_torch", "loss_jax")
_LOADED: dict[str, Model] = {}
_CACHE: dict[tuple, Model] = {}  # name -> Model: models.get(name) after a load


ENV = "PARITYBENCH_USER_MODELS"  # ';'-separated path.py:Name specs a bench run loads (its replicas inherit it)


def from_env(name: str) -> Model | None:
    """The model ``name`` among the specs of $PARITYBENCH_USER_MODELS (a bench run's fresh
    processes: replicas, time-to-solve runs), loaded; None if none has that name."""
    import os
    for spec in filter(None, os.environ.get(ENV, "").split(";")):
        m = load(spec)
        if m.name == name:
            return m
    return None


def is_spec(text) -> bool:
    """Whether ``text`` names a user's model file, ``path.py:Name`` (or ``path.py``)."""
    return isinstance(text, str) and (".py:" in text or text.endswith(".py"))


class UserCodeError(ValueError):
    """An exception raised inside the user's file: one line with the method, the file and line."""


def _where(exc: BaseException, path: str) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() == Path(path).resolve()]
    if frames:
        f = frames[-1]
        return f"{Path(path).name} line {f.lineno}" + (f": {f.line.strip()}" if f.line else "")
    return Path(path).name


def call(cfg, method: str, *args):
    """cfg.user.<method>(*args); an exception inside it becomes one UserCodeError line."""
    try:
        return getattr(cfg.user, method)(*args)
    except UserCodeError:
        raise
    except Exception as e:  # noqa: BLE001 - the user's code: any exception, said where it came from
        msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise UserCodeError(f"{cfg.source}.{method}: raised {type(e).__name__}"
                            + (f": {msg[:300]}" if msg else "") + f" (at {_where(e, cfg.path)})") from None


def _load_module(path: Path, field: str):
    if not path.is_file():
        raise invalid(field, str(path), "an existing Python file (path/to/model.py:Name)")
    modname = f"paritybench_user_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # noqa: BLE001
        msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise UserCodeError(f"model: {path} failed to import: {type(e).__name__}"
                            + (f": {msg[:300]}" if msg else "") + f" (at {_where(e, str(path))})") from None
    return module


def load(text: str) -> Model:
    """``path/to/model.py:Name`` -> the contract's Model (cached by resolved path, name and mtime)."""
    if not is_spec(text):
        raise invalid("model", text, "path/to/model.py:Name")
    path_text, _, cls_name = text.rpartition(":") if ".py:" in text else (text, None, "")
    path = Path(path_text)
    key = (str(path.resolve()), cls_name, path.stat().st_mtime_ns if path.is_file() else None)
    if key in _CACHE:
        return _CACHE[key]
    module = _load_module(path, "model")
    if not cls_name:
        classes = [k for k, v in vars(module).items() if inspect.isclass(v) and v.__module__ == module.__name__
                   and hasattr(v, "loss_torch")]
        if len(classes) != 1:
            raise invalid("model", text, f"path.py:Name, Name one of the file's model classes ({', '.join(classes) or 'none'})")
        cls_name = classes[0]
    cls = getattr(module, cls_name, None)
    if cls is None:
        found = [k for k, v in vars(module).items() if inspect.isclass(v) and v.__module__ == module.__name__]
        raise invalid("model", text, f"a class defined in {path.name}: {', '.join(found) or 'none'}")
    if not inspect.isclass(cls):
        raise invalid("model", text, f"a class ({cls_name} in {path.name} is a {type(cls).__name__})")
    model = build(cls, str(path), f"{path.name}:{cls_name}")
    _LOADED[model.name] = _CACHE[key] = model
    return model


def _part(cls, source: str, name: str, kind: str):
    field = f"{source}.{name}"
    if kind == "method":
        fn = getattr(cls, name, None)
        if fn is None:
            raise invalid(field, None, "a method (required part; docs/models.md)")
        if not callable(fn):
            raise invalid(field, fn, "a method")
        return fn
    raise AssertionError(kind)


def _optim(cls, source: str) -> Optim:
    o = getattr(cls, "optim", None)
    if o is None:
        return Optim()
    if isinstance(o, Optim):
        return o
    if isinstance(o, dict):
        known = {f.name for f in dataclasses.fields(Optim)}
        bad = sorted(set(o) - known)
        if bad:
            raise invalid(f"{source}.optim", bad[0], "a field of impls.contract.Optim: " + ", ".join(sorted(known)))
        try:
            return Optim(**o)
        except ValueError as e:
            raise ValueError(f"{source}.optim.{e}") from None
    raise invalid(f"{source}.optim", o, "an impls.contract.Optim or a dict of its fields")


def build(cls, path: str, source: str) -> Model:
    """The contract's Model of the user's class ``cls`` (defined in ``path``)."""
    for name in REQUIRED:
        _part(cls, source, name, "method")
    for name in ("loss_numpy", "evaluate", "solved"):
        if hasattr(cls, name) and not callable(getattr(cls, name)):
            raise invalid(f"{source}.{name}", getattr(cls, name), "a method (or leave it out: docs/models.md)")
    name = getattr(cls, "name", cls.__name__)
    if not isinstance(name, str) or not name or any(c.isspace() or c in "/:" for c in name):
        raise invalid(f"{source}.name", name, "a non-empty string without spaces, '/' or ':'")
    from .. import MODELS
    if name in MODELS:
        raise invalid(f"{source}.name", name, "a name other than the suite's own models (" + ", ".join(MODELS) + ")")
    params = getattr(cls, "parameters", {})
    if not isinstance(params, dict):
        raise invalid(f"{source}.parameters", params, "a dict field -> default")
    for k, v in params.items():
        if not (isinstance(k, str) and k.isidentifier()) or k in RESERVED:
            raise invalid(f"{source}.parameters", k, "identifiers other than " + ", ".join(RESERVED))
        if not isinstance(v, (bool, int, float, str)):
            raise invalid(f"{source}.parameters.{k}", v, "an int, float, bool or str default")
    summary = getattr(cls, "summary", None) or (inspect.getdoc(cls) or name).splitlines()[0]
    eval_every = getattr(cls, "eval_every", DEFAULT_EVAL_EVERY)
    steps = getattr(cls, "steps", DEFAULT_STEPS)
    for field, v in (("eval_every", eval_every), ("steps", steps)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise invalid(f"{source}.{field}", v, "an integer >= 1")
    optim = _optim(cls, source)
    has_numpy = callable(getattr(cls, "loss_numpy", None))
    holder = {}

    def post_init(self):
        for k, default in params.items():
            v = getattr(self, k)
            if isinstance(default, bool):
                ok = isinstance(v, bool)
            elif isinstance(default, int):
                ok = isinstance(v, (int, np.integer)) and not isinstance(v, bool)
            elif isinstance(default, float):
                ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(v)
                if ok:
                    object.__setattr__(self, k, float(v))
            else:
                ok = isinstance(v, str)
            if not ok:
                raise invalid(k, v, f"{type(default).__name__} like the default {default!r} ({source})")
        try:
            user = cls()
        except Exception as e:  # noqa: BLE001
            raise UserCodeError(f"{source}: constructing it raised {type(e).__name__}: {e} (at {_where(e, path)})") from None
        for k in params:
            setattr(user, k, getattr(self, k))
        object.__setattr__(self, "user", user)
        object.__setattr__(self, "model", holder["model"])
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "path", path)

    def cfg_id(self) -> str:
        return "-".join(f"{k}{getattr(self, k)}" for k in params) or "default"

    Config = dataclasses.make_dataclass(
        f"{cls.__name__}Config", [(k, type(v), dataclasses.field(default=v)) for k, v in params.items()],
        frozen=True, namespace={"__post_init__": post_init, "id": property(cfg_id)})
    Config.__module__ = __name__

    def config(**kw):
        bad = sorted(set(kw) - set(params))
        if bad:
            raise invalid(bad[0], kw[bad[0]], f"a parameter of {source}: " + (", ".join(params) or "none"))
        return Config(**kw)

    def init(cfg, seed: int) -> dict:
        out = call(cfg, "init", int(seed))
        return check_params(out, f"{source}.init")

    def batches(cfg, seed: int, start: int, k: int) -> tuple:
        out = call(cfg, "batches", int(seed), int(start), int(k))
        return check_batches(out, k, f"{source}.batches")

    def evaluate(cfg, seed: int, params) -> float:
        if callable(getattr(cls, "evaluate", None)):
            v = call(cfg, "evaluate", int(seed), {k: np.asarray(a, np.float64) for k, a in params.items()})
        else:
            from . import numpy_backend, torch_backend
            mod = numpy_backend if has_numpy else torch_backend
            v = mod.loss_and_grad(cfg, params, [a[0] for a in batches(cfg, seed, 0, 1)], "float64")[0]
        try:
            return float(v)
        except (TypeError, ValueError):
            raise invalid(f"{source}.evaluate", v, "a number") from None

    def solved(score) -> bool:
        if not callable(getattr(cls, "solved", None)):
            return False
        try:
            return bool(cls.solved(_SOLVED_SELF, score))
        except Exception as e:  # noqa: BLE001
            raise UserCodeError(f"{source}.solved: raised {type(e).__name__}: {e} (at {_where(e, path)})") from None

    _SOLVED_SELF = cls.__new__(cls)
    for k, v in params.items():
        setattr(_SOLVED_SELF, k, v)
    ref = ("impls.models.user.numpy_backend", ("numpy",)) if has_numpy else \
        ("impls.models.user.torch_backend", ("torch-eager",))
    model = Model(
        name=name, summary=summary, parameters=dict(params), config=config, init=init, batches=batches,
        evaluate=evaluate, solved=solved, optim=optim,
        backends={"reference": ref[0], "torch": "impls.models.user.torch_backend",
                  "jax": "impls.models.user.jax_backend"},
        variants={"reference": ref[1], "torch": ("eager", "compiled"), "jax": ("jit", "scan")},
        eval_every=eval_every)
    holder["model"] = model
    _EXTRA[name] = {"source": source, "path": path, "steps": steps, "reference": "numpy" if has_numpy else "torch"}
    return model


_EXTRA: dict[str, dict] = {}


def info(model: Model) -> dict:
    """{'source', 'path', 'steps', 'reference': 'numpy' | 'torch'} of a loaded user model."""
    return _EXTRA[model.name]


def reference_label(model: Model) -> str:
    """How outputs name the model's float64 reference."""
    if info(model)["reference"] == "numpy":
        return "reference-numpy float64"
    return "reference-torch-eager float64 (no loss_numpy in the file: torch float64 serves as the reference)"


def check_params(out, field: str) -> dict:
    """name -> float64 ndarray, finite; one line naming the parameter otherwise."""
    if not isinstance(out, dict) or not out:
        raise invalid(field, type(out).__name__, "a non-empty dict name -> float64 numpy array")
    res = {}
    for k, v in out.items():
        if not (isinstance(k, str) and k.isidentifier()):
            raise invalid(field, k, "parameter names that are identifiers")
        if not isinstance(v, np.ndarray):
            raise invalid(f"{field}: parameter {k!r}", type(v).__name__, "a float64 numpy array")
        if v.dtype != np.float64:
            raise invalid(f"{field}: parameter {k!r}", str(v.dtype), "float64 (the canonical parameters; "
                          "each backend rounds them to the run's dtype)")
        if not np.isfinite(v).all():
            raise invalid(f"{field}: parameter {k!r}", "non-finite values", "finite numbers")
        res[k] = v
    return {k: res[k] for k in sorted(res)}


def check_batches(out, k: int, field: str) -> tuple:
    if isinstance(out, np.ndarray):
        out = (out,)
    if not isinstance(out, (tuple, list)) or not out:
        raise invalid(field, type(out).__name__, "a tuple of numpy arrays, each (k, ...)")
    for i, a in enumerate(out):
        if not isinstance(a, np.ndarray):
            raise invalid(f"{field}: array {i}", type(a).__name__, "a numpy array")
        if not (a.dtype == np.float64 or np.issubdtype(a.dtype, np.integer) or a.dtype == np.bool_):
            raise invalid(f"{field}: array {i}", str(a.dtype), "float64, an integer or bool dtype (the "
                          "canonical data: floating arrays are cast to the run's dtype by each backend)")
        if a.ndim < 1 or a.shape[0] != k:
            raise invalid(f"{field}: array {i}", f"shape {a.shape}", f"a leading dimension of k = {k} (one entry a step)")
    return tuple(out)
