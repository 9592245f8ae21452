"""`paritybench train --model NAME`: bad input before anything trains, a tiny sparse-parity run that
solves, and the seed's run unchanged without --model."""
from __future__ import annotations

import json
import re

import pytest

from impls import models
from paritybench.commands import train_model
from paritybench.cli import main

SMALL = ["--model", "sparse-parity", "--n-bits", "10", "--k", "2", "--width", "64", "--eval-every", "20"]


@pytest.mark.parametrize("argv,field,value", [
    (["--model", "foo"], "model", "'foo'"),
    (["--model", "sparse-parity", "--n-bits", "5", "--k", "6"], "k", "6"),
    (["--model", "sparse-parity", "--k", "31"], "k", "31"),            # the default n is 30
    (["--model", "sparse-parity", "--width", "0"], "width", "0"),
    (["--model", "sparse-parity", "--batch", "0"], "batch", "0"),
    (["--model", "sparse-parity", "--n-bits", "0"], "n_bits", "0"),
    (["--model", "sparse-parity", "--eval-every", "0"], "eval_every", "0"),
    (["--model", "sparse-parity", "--weight-decay", "-1"], "weight_decay", "-1.0"),
    (["--model", "sparse-parity", "--lr", "0"], "lr", "0.0"),
    (["--model", "sparse-parity", "--steps", "-1"], "steps", "-1"),
    (["--model", "sparse-parity", "--optimizer", "lbfgs"], "optimizer", "'lbfgs'"),
    (["--model", "sparse-parity", "--dtype", "float16"], "dtype", "'float16'"),
    (["--model", "sparse-parity", "--backend", "tensorflow"], "backend", "'tensorflow'"),
    (["--model", "sparse-parity", "--variant", "graphed"], "variant", "'graphed'"),
    # the seed's options with sparse parity, and sparse parity's with the seed
    (["--model", "sparse-parity", "--x-max", "10"], "x_max", "10"),
    (["--model", "sparse-parity", "--n", "10"], "n", "10"),
    (["--model", "sparse-parity", "--w0", "1.2", "1.3"], "w0", "[1.2, 1.3]"),
    (["--model", "sparse-parity", "--method", "scaled"], "method", "'scaled'"),
    (["--model", "sparse-parity", "--processes", "2"], "processes", "2"),
    (["--k", "3"], "k", "3"),
    (["--model", "seed", "--width", "100"], "width", "100"),
    (["--eval-every", "10"], "eval_every", "10"),
    (["--weight-decay", "0.1"], "weight_decay", "0.1"),
])
def test_bad_input_is_one_line_before_anything_trains(argv, field, value, capsys):
    code = main(["train", *argv, "--steps", "100000"] if "--steps" not in argv else ["train", *argv])
    out, err = capsys.readouterr()
    assert code == 2 and out == "", out  # nothing trained, nothing printed
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"paritybench train: error: {field}: got {value}; allowed: "), err


def test_the_model_options_name_the_other_model(capsys):
    assert main(["train", "--model", "sparse-parity", "--x-max", "10"]) == 2
    assert "only with --model seed (this run: --model sparse-parity)" in capsys.readouterr().err
    assert main(["train", "--k", "3"]) == 2
    assert "only with --model sparse-parity (this run: --model seed)" in capsys.readouterr().err


def test_json_is_never_overwritten(tmp_path, capsys):
    out = tmp_path / "r.json"
    out.write_text("precious")
    assert main(["train", *SMALL, "--backend", "reference", "--json", str(out)]) == 2
    assert out.read_text() == "precious" and capsys.readouterr().out == ""


def runs_here():
    """The (backend, variant) pairs a default sparse-parity run trains here, besides the reference."""
    pairs, _ = train_model.model_runs(models.get("sparse-parity"), None, None, "cpu")
    return [(b, v) for b, v in pairs if b != "reference"]


def test_a_tiny_run_solves_in_the_reference_and_torch_eager(tmp_path, capsys):
    out = tmp_path / "sp.json"
    backends = ["reference"] + (["torch"] if ("torch", "eager") in runs_here() else [])
    assert main(["train", *SMALL, "--backend", *backends, "--variant", "eager", "--json", str(out)]) == 0
    stdout = capsys.readouterr().out
    lines = stdout.splitlines()
    assert lines[0].startswith("model: sparse-parity n=10 k=2 width=64 batch=32 seed=0  recipe: sgd lr=0.1 "
                               "weight_decay=0.01 budget=20000 steps float32"), lines[0]
    labels = [("reference-numpy", "float64"), ("reference-numpy", "float32")] + \
             [("torch-eager", "float32")] * ("torch" in backends)
    for (label, dtype), line in zip(labels, lines[1:]):
        assert re.match(rf"{label} +cpu +{dtype} +outcome=solved +steps-to-solve=\d+ ", line), line
        assert "accuracy=" in line and "time=" in line
        assert ("horizon vs reference-numpy float64=" in line) == (dtype != "float64" or label != "reference-numpy")
    doc = json.loads(out.read_text())
    assert doc["model"] == "sparse-parity" and doc["config"] == {"n": 10, "k": 2, "width": 64, "batch": 32}
    assert doc["train"]["optim"]["weight_decay"] == 0.01 and doc["eval_every"] == 20 and doc["part_tol"] == 1e-3
    assert [(r["backend"], r["dtype"]) for r in doc["runs"]][:2] == [("reference", "float64"), ("reference", "float32")]
    assert len(doc["runs"]) == len(labels)
    for r in doc["runs"]:
        assert r["outcome"] == "solved" and r["accuracy"] >= 0.99 and r["stopped"] == "solved"
        assert r["steps_to_solve"] % 20 == 0 and r["steps_run"] == r["steps_to_solve"] == len(r["loss"])
        assert r["scores"][-1] == [r["steps_to_solve"], r["accuracy"]]
    for r in doc["runs"][1:]:  # a scored step both runs reached, or never (None; here: never, AMD EPYC)
        to = min(r["steps_run"], doc["runs"][0]["steps_run"])
        assert r["horizon_checked_to"] == to and (r["horizon"] is None or 0 < r["horizon"] <= to)


def test_a_budget_too_small_is_unsolved(capsys):
    assert main(["train", "--model", "sparse-parity", "--n-bits", "20", "--k", "3", "--width", "16",
                 "--steps", "40", "--eval-every", "20", "--backend", "reference"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert re.search(r"outcome=unsolved +steps-to-solve=- ", lines[1]), lines[1]


def test_without_model_the_seed_run_prints_what_it_printed(capsys):
    """`paritybench train` (no --model) is the seed's run: its header, and the same lines as --model seed."""
    assert main(["train", "--backend", "reference", "--steps", "5"]) == 0
    plain = capsys.readouterr().out
    assert plain.splitlines()[0] == ("problem: {'n': 1000, 'x_max': 1000, 'seed': 0}  recipe: sgd lr=0.0004 "
                                     "w0=1.50000000 steps=5 float32 loss=mse method=plain on cpu")
    assert main(["train", "--model", "seed", "--backend", "reference", "--steps", "5"]) == 0
    explicit = capsys.readouterr().out
    untimed = lambda s: re.sub(r"time=[0-9.]+s", "", s)
    assert untimed(plain) == untimed(explicit) and "model:" not in plain
