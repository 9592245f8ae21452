"""`paritybench train`: the seed's run by default, --json, float64 agreement, data files, bad input."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import impls
from impls import Recipe
from paritybench.cli import main

from conftest import require


def cli(*args, cwd=None):
    """Run the real console entry point in a fresh process: (exit code, stdout, stderr)."""
    p = subprocess.run([sys.executable, "-m", "paritybench.cli", "train", *map(str, args)],
                       capture_output=True, text=True, cwd=cwd, timeout=300)
    return p.returncode, p.stdout, p.stderr


def expected_pairs():
    return [(b, v) for b in impls.BACKENDS if impls.available(b)[0] for v in impls.VARIANTS[b]
            if impls.available(b, "cpu", v)[0]]


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "seed.json"
    code, stdout, stderr = cli("--json", out)
    assert code == 0, stderr
    return stdout, json.loads(out.read_text())


def test_default_prints_one_line_per_backend_variant(default_run):
    stdout, _ = default_run
    for b, v in expected_pairs():
        lines = [l for l in stdout.splitlines() if l.startswith(f"{b}-{v} ")]
        assert len(lines) == 1, stdout
        for word in ("w=", "loss=", "accuracy=", "time="):
            assert word in lines[0], lines[0]


def test_default_json_is_the_seed_run(default_run, seed_data):
    _, doc = default_run
    assert {"problem", "recipe", "runs"} <= set(doc)
    assert doc["problem"]["n"] == 1000 and doc["problem"]["x_max"] == 1000 and doc["problem"]["seed"] == 0
    r = doc["recipe"]
    assert (r["optimizer"], r["lr"], r["w0"], r["steps"], r["dtype"]) == ("sgd", 4e-4, 1.5, 100, "float32")
    assert [(run["backend"], run["variant"]) for run in doc["runs"]] == expected_pairs()
    for run in doc["runs"]:
        assert {"backend", "variant", "device", "dtype", "w", "loss"} <= set(run)
        assert run["device"] == "cpu" and run["dtype"] == "float32"
        assert len(run["w"]) == len(run["loss"]) == 101 and run["w"][0] == 1.5
        assert all(isinstance(v, float) for v in run["w"] + run["loss"])
    if impls.available("torch")[0]:  # the eager run is the seed's, bit for bit (test_seed_transcription)
        eager = next(run for run in doc["runs"] if run["variant"] == "eager")
        traj = impls.train("torch", seed_data, Recipe(), "eager")
        assert eager["w"] == traj.w[:, 0].tolist() and eager["loss"] == traj.loss[:, 0].tolist()


def test_float64_small_x_max_backends_agree_to_1e12(tmp_path):
    out = tmp_path / "f64.json"
    # in-process (the frameworks are imported already; the default run above is the real process)
    assert main(["train", "--dtype", "float64", "--x-max", "6", "--lr", "1e-2", "--json", str(out)]) == 0
    runs = json.loads(out.read_text())["runs"]
    assert len({r["backend"] for r in runs}) == sum(impls.available(b)[0] for b in impls.BACKENDS)
    ref = next(r for r in runs if r["backend"] == "reference")
    for r in runs:
        assert r["dtype"] == "float64" and len(r["w"]) == 101
        # every step of the 100, not only the last
        assert np.max(np.abs(np.subtract(r["w"], ref["w"]))) <= 1e-12, r["backend"]
        assert np.max(np.abs(np.subtract(r["loss"], ref["loss"]))) <= 1e-12, r["backend"]
    assert abs(ref["w"][-1] - ref["w"][0]) > 1e-3  # the weight moved: agreement is not trivial


def test_ensemble_json_entries_are_lists_of_E(tmp_path):
    out = tmp_path / "ens.json"
    assert main(["train", "--backend", "reference", "--w0", "1.5", "1.2", "1.9", "--steps", "4",
                 "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["recipe"]["w0"] == [1.5, 1.2, 1.9]
    (run,) = doc["runs"]
    assert len(run["w"]) == len(run["loss"]) == 5
    assert all(isinstance(row, list) and len(row) == 3 for row in run["w"] + run["loss"])
    assert run["w"][0] == [float(np.float32(v)) for v in (1.5, 1.2, 1.9)]


def test_save_data_then_data_round_trip(tmp_path):
    f, a, b = tmp_path / "d.npz", tmp_path / "a.json", tmp_path / "b.json"
    common = ["train", "--backend", "reference", "--steps", "5"]
    assert main(common + ["--n", "77", "--x-max", "50", "--seed", "9", "--save-data", str(f), "--json", str(a)]) == 0
    d = impls.load(f)
    assert d.n == 77 and d.x.max() < 50
    assert main(common + ["--data", str(f), "--json", str(b)]) == 0
    ra, rb = json.loads(a.read_text()), json.loads(b.read_text())
    assert rb["problem"]["n"] == 77 and rb["runs"][0]["w"] == ra["runs"][0]["w"]
    assert main(common + ["--n", "77", "--save-data", str(f)]) == 2  # never overwritten


def test_json_refuses_an_existing_file(tmp_path, capsys):
    out = tmp_path / "r.json"
    out.write_text("precious")
    code = main(["train", "--backend", "reference", "--steps", "1", "--json", str(out)])
    assert code == 2 and out.read_text() == "precious"
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "json: got" in err and "Traceback" not in err


@pytest.mark.parametrize("where", ["missing-dir/r.json", "file/r.json"])
def test_output_paths_are_checked_before_any_training(tmp_path, capsys, where):
    (tmp_path / "file").write_text("a file, not a directory")
    code = main(["train", "--steps", "100000", "--json", str(tmp_path / where)])
    out, err = capsys.readouterr()
    assert code == 2 and out == "", out  # nothing trained, nothing printed
    assert err.count("\n") == 1 and "json: got" in err and "existing directory" in err


def bad_cases(tmp_path):
    np.savez(tmp_path / "nox.npz", y=np.zeros(3))
    np.savez(tmp_path / "noy.npz", x=np.arange(3))
    np.savez(tmp_path / "len.npz", x=np.arange(3), y=np.zeros(4))
    np.savez(tmp_path / "frac.npz", x=np.array([0.5, 1.0]), y=np.zeros(2))
    (tmp_path / "text.npz").write_text("nope")
    (tmp_path / "d.csv").write_text("x,y\n")
    return {
        "n0": (["--n", "0"], "n"), "nneg": (["--n", "-4"], "n"), "nfloat": (["--n", "2.5"], "n"),
        "xmax1": (["--x-max", "1"], "x_max"), "lr0": (["--lr", "0"], "lr"), "lrneg": (["--lr", "-1"], "lr"),
        "lrinf": (["--lr", "inf"], "lr"), "lrnan": (["--lr", "nan"], "lr"), "steps": (["--steps", "-1"], "steps"),
        "w0empty": (["--w0"], "w0"), "w0nan": (["--w0", "nan"], "w0"),
        "optimizer": (["--optimizer", "lbfgs"], "optimizer"), "backend": (["--backend", "tf"], "backend"),
        "variant": (["--variant", "turbo"], "variant"), "device": (["--device", "tpu"], "device"),
        "dtype": (["--dtype", "float16"], "dtype"),
        "missing": (["--data", str(tmp_path / "missing.npz")], "data"),
        "notnpz": (["--data", str(tmp_path / "d.csv")], "data"), "text": (["--data", str(tmp_path / "text.npz")], "data"),
        "nox": (["--data", str(tmp_path / "nox.npz")], "data"), "noy": (["--data", str(tmp_path / "noy.npz")], "data"),
        "lengths": (["--data", str(tmp_path / "len.npz")], "data"),
        "nonint": (["--data", str(tmp_path / "frac.npz")], "data.x"),
    }


BAD = ["n0", "nneg", "nfloat", "xmax1", "lr0", "lrneg", "lrinf", "lrnan", "steps", "w0empty", "w0nan",
       "optimizer", "backend", "variant", "device", "dtype", "missing", "notnpz", "text", "nox", "noy",
       "lengths", "nonint"]


def assert_one_line_error(code, stderr, field):
    assert code == 2, stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
    # the contract's "field: got X; allowed: Y", or argparse's "argument --field: got X; allowed: Y"
    # ("expected at least one argument" for an option given no value)
    assert f"{field}: got" in stderr or f"--{field.replace('_', '-')}: " in stderr, stderr
    assert ("got" in stderr and "; allowed: " in stderr) or "expected" in stderr, stderr


@pytest.mark.parametrize("case", BAD)
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, case):
    args, field = bad_cases(tmp_path)[case]
    try:
        code = main(["train", "--backend", "reference", "--steps", "1", *args] if case != "backend"
                    else ["train", "--steps", "1", *args])
    except SystemExit as e:  # argparse errors
        code = e.code
    out = capsys.readouterr()
    assert_one_line_error(code, out.err, field)
    assert "problem:" not in out.out  # nothing ran


@pytest.mark.parametrize("case", ["lrnan", "nonint", "nfloat", "w0empty"])
def test_bad_input_in_a_real_process(tmp_path, case):
    args, field = bad_cases(tmp_path)[case]
    code, stdout, stderr = cli("--backend", "reference", "--steps", 1, *args)
    assert_one_line_error(code, stderr, field)


@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_cuda_without_gpu_exits_2(backend, capsys):
    require(backend)
    if impls.available(backend, "gpu")[0]:
        pytest.skip(f"{backend} has a GPU here")
    code = main(["train", "--backend", backend, "--device", "cuda", "--steps", "1"])
    assert_one_line_error(code, capsys.readouterr().err, "device")
