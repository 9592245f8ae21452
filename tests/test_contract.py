"""Bad input never reaches a framework: one line naming the field, the value and what is allowed."""
from __future__ import annotations

import math

import numpy as np
import pytest

import impls
from impls import Data, Problem, Recipe, Trajectory
from impls.spec import Backend, Runner

from conftest import require


def one_line(excinfo, field: str, value: str | None = None) -> str:
    msg = str(excinfo.value)
    assert "\n" not in msg and msg.startswith(f"{field}: got ") and "; allowed: " in msg, msg
    if value is not None:
        assert value in msg, msg
    return msg


@pytest.mark.parametrize("kwargs,field,value", [
    (dict(n=0), "n", "0"), (dict(n=-5), "n", "-5"), (dict(n=2.5), "n", "2.5"), (dict(n=True), "n", "True"),
    (dict(x_max=1), "x_max", "1"), (dict(x_max=0), "x_max", "0"), (dict(x_max=-3), "x_max", "-3"),
    (dict(seed=-1), "seed", "-1"),
])
def test_problem_rejects(kwargs, field, value):
    with pytest.raises(ValueError) as e:
        Problem(**kwargs)
    one_line(e, field, value)


@pytest.mark.parametrize("kwargs,field,value", [
    (dict(lr=0), "lr", "0"), (dict(lr=-1e-3), "lr", "-0.001"), (dict(lr=math.inf), "lr", "inf"),
    (dict(lr=math.nan), "lr", "nan"), (dict(lr="fast"), "lr", "fast"),
    (dict(steps=-1), "steps", "-1"), (dict(steps=1.5), "steps", "1.5"),
    (dict(w0=()), "w0", "()"), (dict(w0=[]), "w0", "[]"), (dict(w0=math.nan), "w0", "nan"),
    (dict(w0=(1.0, math.inf)), "w0", "inf"),
    (dict(optimizer="lbfgs"), "optimizer", "lbfgs"), (dict(dtype="float16"), "dtype", "float16"),
    (dict(loss="l1"), "loss", "l1"), (dict(momentum=1.0), "momentum", "1.0"),
    (dict(nesterov="yes"), "nesterov", "yes"), (dict(beta2=1.5), "beta2", "1.5"), (dict(eps=0), "eps", "0"),
])
def test_recipe_rejects(kwargs, field, value):
    with pytest.raises(ValueError) as e:
        Recipe(**kwargs)
    msg = one_line(e, field, value)
    if field in ("optimizer", "dtype"):
        assert all(a in msg for a in (impls.OPTIMIZERS if field == "optimizer" else impls.DTYPES))


def test_valid_defaults_are_the_seed():
    p, r = Problem(), Recipe()
    assert (p.n, p.x_max, p.seed) == (1000, 1000, 0)
    assert (r.optimizer, r.lr, r.w0, r.steps, r.dtype, r.ensemble) == ("sgd", 4e-4, 1.5, 100, "float32", 1)
    assert Recipe(w0=[1, 2.5]).w0 == (1.0, 2.5) and Recipe(w0=[1, 2.5]).ensemble == 2


def test_registry_rejects_unknown_names_and_devices():
    d = impls.integers(6)
    with pytest.raises(ValueError) as e:
        impls.get("tensorflow")
    assert all(b in one_line(e, "backend", "tensorflow") for b in impls.BACKENDS)
    with pytest.raises(ValueError) as e:
        impls.train("tensorflow", d, Recipe(steps=1))
    one_line(e, "backend", "tensorflow")
    with pytest.raises(ValueError) as e:
        impls.train("reference", d, Recipe(steps=1), variant="scan")
    one_line(e, "variant", "scan")
    with pytest.raises(ValueError) as e:
        impls.train("reference", d, Recipe(steps=1), device="tpu")
    one_line(e, "device", "tpu")
    with pytest.raises(ValueError) as e:
        impls.available("torch", "tpu")
    one_line(e, "device", "tpu")
    with pytest.raises(ValueError) as e:
        impls.train("reference", d, Recipe(steps=1), device="cuda")  # numpy: CPU only
    one_line(e, "device")


@pytest.mark.parametrize("backend,variant", [("torch", "eager"), ("torch", "compiled"), ("jax", "jit")])
@pytest.mark.parametrize("device", ["cuda", "gpu"])
def test_gpu_request_without_gpu_is_one_line(backend, variant, device):
    require(backend)
    ok, why = impls.available(backend, device)
    if ok:
        pytest.skip(f"{backend} has a GPU here: nothing to refuse")
    assert why and "\n" not in why
    with pytest.raises(ValueError) as e:
        impls.train(backend, impls.integers(6), Recipe(steps=1), variant, device)
    one_line(e, "device")
    with pytest.raises(ValueError) as e:
        impls.get(backend).prepare(impls.integers(6), Recipe(steps=1), variant, device)
    one_line(e, "device")


@pytest.mark.parametrize("x,y,field", [
    ([], [], "data.x"), ([1, 2], [1.0], "data.y"), ([0.5, 2], [0.0, 0.0], "data.x"),
    ([-1, 2], [1.0, 0.0], "data.x"), ([1, 2**24], [1.0, 0.0], "data.x"), ([1, 2], [np.nan, 0.0], "data.y"),
    ([[1, 2]], [[1.0, 0.0]], "data.x"), (["a", "b"], [1.0, 0.0], "data.x"),
])
def test_data_rejects(x, y, field):
    with pytest.raises(ValueError) as e:
        Data(np.array(x), np.array(y))
    one_line(e, field)


def test_data_is_read_only_int64_and_float64():
    d = Data(np.array([3, 4], np.float32), np.array([1, 0], np.int32))
    assert d.x.dtype == np.int64 and d.y.dtype == np.float64 and d.n == 2
    with pytest.raises(ValueError):
        d.x[0] = 5
    x32, y32 = d.as_dtype("float32")
    assert x32.dtype == y32.dtype == np.float32
    with pytest.raises(ValueError) as e:
        d.as_dtype("int8")
    one_line(e, "dtype", "int8")


def test_trajectory_shapes():
    t = Trajectory("reference", "numpy", "cpu", "float64", np.zeros(4), np.zeros(4))
    assert t.w.shape == (4, 1) and t.steps == 3 and t.ensemble == 1 and t.label == "reference-numpy"
    with pytest.raises(ValueError) as e:
        Trajectory("reference", "numpy", "cpu", "float64", np.zeros((4, 2)), np.zeros((4, 1)))
    one_line(e, "trajectory.loss")


@pytest.mark.parametrize("backend", impls.BACKENDS)
def test_backends_implement_the_protocol(backend):
    require(backend)
    mod = impls.get(backend)
    assert isinstance(mod, Backend) and mod.name == backend and mod.variants == impls.VARIANTS[backend]
    runner = mod.prepare(impls.integers(6), Recipe(steps=2), mod.variants[0])
    assert isinstance(runner, Runner)
    run = mod.floor(impls.integers(6), np.array([1.5]), "float32")
    if backend != "torch":  # torch's floor is torch.compile'd (~5 s cold): bench/ exercises it
        assert run(2) is None
    assert callable(run)
    with pytest.raises(ValueError) as e:
        mod.prepare(impls.integers(6), Recipe(steps=2), "bogus")
    one_line(e, "variant", "bogus")


def test_zero_steps_is_a_trajectory_of_one_row():
    t = impls.train("reference", impls.integers(6), Recipe(steps=0))
    assert t.w.shape == (1, 1) and t.w[0, 0] == 1.5


def test_labels_must_be_0_or_1_and_accuracy_scores_the_given_labels():
    import numpy as np

    from impls import metrics
    x = np.arange(10)
    with pytest.raises(ValueError, match=r"^data\.y: got 'label 2'"):
        Data(x, np.where(x == 3, 2, x % 2))
    right, flipped = Data(x, x % 2), Data(x, 1 - x % 2)
    w = [np.pi / 2, 1.0]
    assert metrics.accuracy(right, w).tolist() == pytest.approx((1 - metrics.accuracy(flipped, w)).tolist())
    assert metrics.accuracy(right, w)[0] == 1.0 and metrics.accuracy(flipped, w)[0] == 0.0


@pytest.mark.parametrize("backend,variant", [(b, v) for b in impls.BACKENDS for v in impls.VARIANTS[b]])
def test_advance_takes_zero_steps_and_long_runs_in_any_split(backend, variant):
    """advance(0) records nothing; 1030 steps (past torch's 1024-step chunks) in one call give the
    same trajectory, bit for bit, as 3 + 1027."""
    require(backend, variant=variant)
    mod, d, r = impls.get(backend), impls.integers(6), Recipe(steps=1, lr=1e-3)
    one = mod.prepare(d, r, variant)
    one.advance(0)
    assert one.trajectory().w.shape == (1, 1)
    one.advance(1030)
    two = mod.prepare(d, r, variant)
    two.advance(3)
    two.advance(1027)
    a, b = one.trajectory(), two.trajectory()
    assert a.w.shape == a.loss.shape == (1031, 1)
    np.testing.assert_array_equal(a.w, b.w)
    np.testing.assert_array_equal(a.loss, b.loss)
