"""Data: one seeded numpy draw, the same arrays in every backend, .npz files and their defects."""
from __future__ import annotations

import numpy as np
import pytest

import impls
from impls import BACKENDS, DTYPES, VARIANTS, Problem, Recipe

from conftest import require

CASES = [(b, v) for b in BACKENDS for v in VARIANTS[b]]


def test_generate_is_seeded_and_the_seed_recipe():
    p = Problem(n=500, x_max=37, seed=11)
    a, b = impls.generate(p), impls.generate(p)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.x, np.random.RandomState(11).randint(0, 37, 500))
    np.testing.assert_array_equal(a.y, a.x % 2)
    assert a.x.min() >= 0 and a.x.max() < 37 and len(np.unique(a.x)) == 37
    assert not np.array_equal(a.x, impls.generate(Problem(n=500, x_max=37, seed=12)).x)
    np.testing.assert_array_equal(impls.integers(6).x, np.arange(6))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("backend,variant", CASES)
def test_backends_train_on_the_same_arrays(backend, variant, dtype):
    """The x, y each prepared runner holds on its device equal data.as_dtype(dtype) exactly."""
    require(backend, variant=variant)
    d = impls.generate(Problem(n=300, x_max=10**6, seed=5))
    x, y = d.as_dtype(dtype)
    runner = impls.get(backend).prepare(d, Recipe(steps=1, dtype=dtype), variant)
    for got, want in ((runner.x, x), (runner.y, y)):
        if backend == "torch":
            got = got.detach().cpu().numpy()
        got = np.asarray(got)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got.reshape(-1), want)


def test_save_load_round_trip(tmp_path):
    d = impls.generate(Problem(n=50, x_max=9, seed=2))
    p = impls.save(d, tmp_path / "d.npz")
    e = impls.load(p)
    np.testing.assert_array_equal(e.x, d.x)
    np.testing.assert_array_equal(e.y, d.y)
    with pytest.raises(ValueError) as ex:  # never overwritten
        impls.save(d, p)
    assert str(ex.value).startswith("save_data: got ")
    with pytest.raises(ValueError) as ex:
        impls.save(d, tmp_path / "d.txt")
    assert str(ex.value).startswith("save_data: got ")


def bad_files(tmp_path):
    """name -> path of a defective data file (and one that does not exist)."""
    np.savez(tmp_path / "nox.npz", y=np.zeros(3))
    np.savez(tmp_path / "noy.npz", x=np.arange(3))
    np.savez(tmp_path / "lengths.npz", x=np.arange(3), y=np.zeros(4))
    np.savez(tmp_path / "fraction.npz", x=np.array([0.5, 1.0]), y=np.zeros(2))
    np.savez(tmp_path / "negative.npz", x=np.array([-2, 1]), y=np.zeros(2))
    np.savez(tmp_path / "twod.npz", x=np.zeros((2, 2)), y=np.zeros((2, 2)))
    (tmp_path / "text.npz").write_text("not a zip file")
    (tmp_path / "data.csv").write_text("x,y\n1,1\n")
    np.save(tmp_path / "array.npy", np.arange(3))
    return {"missing": tmp_path / "missing.npz", "nox": tmp_path / "nox.npz", "noy": tmp_path / "noy.npz",
            "lengths": tmp_path / "lengths.npz", "fraction": tmp_path / "fraction.npz",
            "negative": tmp_path / "negative.npz", "twod": tmp_path / "twod.npz",
            "text": tmp_path / "text.npz", "csv": tmp_path / "data.csv", "npy": tmp_path / "array.npy",
            "directory": tmp_path}


BAD = ["missing", "nox", "noy", "lengths", "fraction", "negative", "twod", "text", "csv", "npy", "directory"]


@pytest.mark.parametrize("name", BAD)
def test_load_rejects_defective_files(tmp_path, name):
    path = bad_files(tmp_path)[name]
    with pytest.raises(ValueError) as e:
        impls.load(path)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("data") and ": got " in msg and "; allowed: " in msg, msg
    if name in ("nox", "noy"):
        assert f"lacks {name[-1]}" in msg
    if name == "fraction":
        assert "non-integer" in msg
