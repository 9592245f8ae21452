"""A user's model pair in one file (impls/models/user, docs/models.md): loading, bad input in one
line with exit 2, the same-model check catching the four likely mistakes (a different
initialisation, a transposed weight, a sum for a mean, a weight-decay term in one loss) and a
flipped sign, the file without a numpy reference, and short training runs of the docs' example
through the CLI (so docs/models.md cannot rot)."""
from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from impls.contract import Train
from impls.models import get
from paritybench.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "sin_neuron.py"
DOC = ROOT / "docs" / "models.md"

pytest.importorskip("torch")
pytest.importorskip("jax")

LIN = '''
import numpy as np

class Lin:
    """y = tanh(x W + b) against sin(x), MSE; W square, so a transposed W still runs."""
    name = "lin-NAME"
    parameters = {"n": 3, "batch": 8}
    optim = {"optimizer": "sgd", "lr": 0.05, "weight_decay": 0.01}
    eval_every = 5
    steps = 20

    def init(self, seed):
        r = np.random.default_rng([seed, 1])
        return {"W": r.uniform(-1, 1, (self.n, self.n)), "b": r.uniform(-1, 1, self.n)}

    def batches(self, seed, start, k):
        x = np.stack([np.random.default_rng([seed, 2, t]).normal(size=(self.batch, self.n))
                      for t in range(start, start + k)])
        return x, np.sin(x)

    def loss_torch(self, p, x, y):
        import torch
        return ((torch.tanh(x @ p["W"] + p["b"]) - y) ** 2).mean()

    def loss_jax(self, p, x, y):
        import jax.numpy as jnp
        return jnp.mean((jnp.tanh(x @ p["W"] + p["b"]) - y) ** 2)

    def loss_numpy(self, p, x, y):
        h = np.tanh(x @ p["W"] + p["b"])
        r = h - y
        gz = 2 * r * (1 - h * h) / r.size
        return np.mean(r * r), {"W": x.T @ gz, "b": gz.sum(0)}
'''

PLANTS = {  # name -> (the class body that differs, what the one line must say)
    "init": ('''
    def init(self, seed):   # forgot the seed: each backend starts elsewhere
        return {"W": np.random.uniform(-1, 1, (self.n, self.n)), "b": np.zeros(self.n)}
''', r"initial parameter 'W' differs between two calls of .*init\(seed=0\)"),
    "transposed": ('''
    def loss_jax(self, p, x, y):
        import jax.numpy as jnp
        return jnp.mean((jnp.tanh(x @ p["W"].T + p["b"]) - y) ** 2)
''', r"jax's first loss .* relative gap .*the gradient differs too in 'W'"),
    "sum": ('''
    def loss_torch(self, p, x, y):
        import torch
        return ((torch.tanh(x @ p["W"] + p["b"]) - y) ** 2).sum()
''', r"torch's first loss .*a factor 24: a sum for a mean"),
    "decay": ('''
    def loss_jax(self, p, x, y):
        import jax.numpy as jnp
        L = jnp.mean((jnp.tanh(x @ p["W"] + p["b"]) - y) ** 2)
        return L + 0.5 * 0.01 * (jnp.sum(p["W"] ** 2) + jnp.sum(p["b"] ** 2))
''', r"jax's first loss .*'W' \(gap .*differs by 0.01 x the parameter: a weight-decay term"),
    "sign": ('''
    def loss_torch(self, p, x, y):
        import torch
        return -((torch.tanh(x @ p["W"] + p["b"]) - y) ** 2).mean()
''', r"torch's first loss .*the sign is flipped"),
}


def write(tmp_path, body: str = "", name: str = "ok", base: str = LIN) -> str:
    src = base.replace("NAME", name) + (f"\n\nclass Planted(Lin):\n{textwrap.indent(textwrap.dedent(body), '    ')}" if body else "")
    path = tmp_path / f"{name}.py"
    path.write_text(src)
    return f"{path}:{'Planted' if body else 'Lin'}"


def cli(capsys, *argv):
    rc = main(["train", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_example_loads_with_its_parts():
    m = get(f"{EXAMPLE}:SinNeuron")
    assert m.name == "sin-neuron" and m.parameters == {"n_bits": 10, "k": 3, "batch": 64}
    cfg = m.config(n_bits=12)
    assert cfg.id == "n_bits12-k3-batch64" and cfg.user.n_bits == 12
    p = m.init(cfg, 0)
    assert list(p) == ["w"] and p["w"].shape == (12,)
    x, y = m.batches(cfg, 0, 5, 3)
    assert x.shape == (3, 64, 12) and y.shape == (3, 64)
    assert m.variants["reference"] == ("numpy",) and m.eval_every == 25
    with pytest.raises(ValueError, match=r"^n_bits: got 1.5; allowed: int like the default 10"):
        m.config(n_bits=1.5)
    with pytest.raises(ValueError, match=r"^width: got 3; allowed: a parameter of"):
        m.config(width=3)


def test_same_model_passes_on_the_example_within_the_derived_tolerance():
    from impls.models.user import check
    m = get(f"{EXAMPLE}:SinNeuron")
    rep = check.same_model(m, m.config(), Train(m.optim, steps=5))
    assert rep.tol == pytest.approx(2 ** -11.5) and rep.tol_reason == "sqrt(eps) of float32"
    assert set(rep.gaps) == {f"{b} {q} w" for b in ("torch", "jax") for q in ("grad", "step")} | {"torch loss", "jax loss"}
    assert max(rep.gaps.values()) < 1e-5  # float32 rounding, far below sqrt(eps)
    rep64 = check.same_model(m, m.config(), Train(m.optim, steps=5, dtype="float64"))
    assert rep64.tol == pytest.approx(2 ** -26) and max(rep64.gaps.values()) < 1e-12


@pytest.mark.parametrize("plant", sorted(PLANTS))
def test_same_model_check_names_what_differs(tmp_path, plant):
    from impls.models.user import check
    body, pattern = PLANTS[plant]
    m = get(write(tmp_path, body, plant))
    with pytest.raises(check.Mismatch) as e:
        check.same_model(m, m.config(), Train(m.optim, steps=5))
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("same model: ")
    assert re.search(pattern, msg), msg


def test_a_mismatch_through_the_cli_is_one_line_and_exit_2(tmp_path, capsys):
    rc, out, err = cli(capsys, "--model", write(tmp_path, PLANTS["sum"][0], "sumcli"))
    assert rc == 2 and err.count("\n") == 1
    assert err.startswith("paritybench train: error: same model: torch's first loss")
    assert "outcome=" not in out  # nothing trained


BAD = {  # what the file does wrong -> (source, class, the one line's pattern)
    "missing part": (LIN.replace("def loss_jax", "def _loss_jax"), "Lin", r"Lin\.loss_jax: got None; allowed: a method"),
    "wrong kind": (LIN + "\nclass K(Lin):\n    loss_numpy = 3\n", "K", r"K\.loss_numpy: got 3; allowed: a method"),
    "optim wrong kind": (LIN + "\nclass K(Lin):\n    optim = 'adam'\n", "K", r"K\.optim: got 'adam'; allowed: an impls.contract.Optim"),
    "raises": (LIN + "\nclass K(Lin):\n    def init(self, seed):\n        return 1 / 0\n", "K",
               r"K\.init: raised ZeroDivisionError: division by zero \(at \w+\.py line \d+: return 1 / 0\)"),
    "float32 init": (LIN + "\nclass K(Lin):\n    def init(self, seed):\n        return {'W': np.zeros((3, 3), np.float32), 'b': np.zeros(3)}\n",
                     "K", r"K\.init: parameter 'W': got 'float32'; allowed: float64"),
    "float32 data": (LIN + "\nclass K(Lin):\n    def batches(self, seed, start, k):\n        return (np.zeros((k, 8, 3), np.float32), np.zeros((k, 8, 3)))\n",
                     "K", r"K\.batches: array 0: got 'float32'; allowed: float64, an integer or bool dtype"),
    "import fails": ("import numpy as np\nimport not_a_module_here\n", "Lin", r"model: .* failed to import: ModuleNotFoundError"),
}


@pytest.mark.parametrize("case", ["no file", "no name", *BAD])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, case):
    if case == "no file":
        spec, pattern = str(tmp_path / "absent.py") + ":M", r"model: got '.*absent\.py'; allowed: an existing Python file"
    elif case == "no name":
        spec, pattern = write(tmp_path, name="noname").replace(":Lin", ":Lni"), r"model: got .*:Lni'; allowed: a class defined in noname\.py: Lin"
    else:
        src, cls, pattern = BAD[case]
        path = tmp_path / f"bad_{case.replace(' ', '_')}.py"
        path.write_text(src.replace("NAME", case.replace(" ", "-")))
        spec = f"{path}:{cls}"
    rc, out, err = cli(capsys, "--model", spec, "--backend", "torch", "--variant", "eager", "--steps", "5")
    assert rc == 2 and err.count("\n") == 1, err
    assert re.search(pattern, err), err
    assert "outcome=" not in out


def test_without_loss_numpy_torch_float64_is_the_reference_and_says_so(tmp_path, capsys):
    src = LIN.replace("def loss_numpy", "def _loss_numpy").replace("NAME", "nonumpy")
    (tmp_path / "nonumpy.py").write_text(src)
    rc, out, err = cli(capsys, "--model", f"{tmp_path / 'nonumpy.py'}:Lin", "--backend", "torch", "jax",
                       "--variant", "eager", "jit", "--steps", "10")
    assert rc == 0, err
    assert "agree with the torch float64 reference (no loss_numpy)" in out
    assert "reference-torch-eager float64 (no loss_numpy in the file: torch float64 serves as the reference)" in out
    assert re.search(r"^reference-torch-eager +cpu +float64", out, re.M)


def test_docs_example_trains_through_the_cli_as_the_doc_says(tmp_path, capsys):
    """The command and the steps-to-solve in docs/models.md are the ones this run gives."""
    doc = DOC.read_text()
    m = re.search(r"paritybench train --model (docs/examples/sin_neuron\.py:SinNeuron)", doc)
    assert m, "docs/models.md shows the command"
    stated = re.search(r"^torch-eager +cpu +float32 +outcome=solved +steps-to-solve=(\d+)", doc, re.M)
    assert stated, "docs/models.md shows torch-eager's line"
    out_json = tmp_path / "run.json"
    rc, out, err = cli(capsys, "--model", str(ROOT / m.group(1)), "--backend", "torch", "jax",
                       "--variant", "eager", "scan", "--json", str(out_json))
    assert rc == 0, err
    doc_json = json.loads(out_json.read_text())
    assert doc_json["source"] == "sin_neuron.py:SinNeuron" and doc_json["baseline"] == "reference-numpy float64"
    runs = {f"{r['backend']}-{r['variant']}": r for r in doc_json["runs"]}
    assert set(runs) == {"reference-numpy", "torch-eager", "jax-scan"}
    for r in runs.values():
        assert r["outcome"] == "solved" and r["steps_to_solve"] == int(stated.group(1))
    for k in ("torch-eager", "jax-scan"):
        assert runs[k]["horizon"] is None  # every-step agreement to the solve
    assert max(doc_json["same_model"]["gaps"].values()) < doc_json["same_model"]["tol"]


def test_bench_collects_a_user_model_and_refuses_a_mismatch(tmp_path):
    """pytest bench --model path.py:Name: the file's throughput cases in the matrix (the seed's
    deselected); a planted mismatch stops the run at configure, one line, before anything is timed."""
    import subprocess
    import sys
    cmd = [sys.executable, "-m", "pytest", "bench", "--benchmark-only", "--collect-only", "-q", "-p", "no:cacheprovider",
           "--profile", "quick", "--device", "cpu"]
    ok = subprocess.run(cmd + ["--model", f"{EXAMPLE}:SinNeuron"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout[-2000:] + ok.stderr[-2000:]
    ids = re.findall(r"test_model_step\[(.*?)\]", ok.stdout)
    assert sorted(ids) == sorted(f"sin-neuron-{v}-cpu-f32-n10-k3-b64-sgd" for v in
                                 ("reference-numpy", "torch-eager", "torch-compiled", "jax-jit", "jax-scan"))
    assert "test_step[" not in ok.stdout
    from bench.harness import settings as harness_settings
    from impls.models.user import check
    saved = list(harness_settings._USER_MODELS)
    try:  # what pytest_configure runs after pin_threads: a mismatch there is a one-line usage error
        harness_settings._USER_MODELS[:] = [get(write(tmp_path, PLANTS["sum"][0], "benchsum"))]
        with pytest.raises(check.Mismatch, match=r"^same model: torch's first loss"):
            harness_settings._check_user_models(0)
    finally:
        harness_settings._USER_MODELS[:] = saved


def test_a_model_file_in_a_temporary_directory_runs_train_bench_and_answer(tmp_path, capsys):
    """The issue's end to end: a model file written to a temporary directory; ``paritybench train``
    on it, then one throughput case and one agreement case of ``pytest bench --model`` (one process,
    its JSON in the temporary directory), then ``paritybench answer`` on that JSON naming the model."""
    import subprocess
    import sys
    path = tmp_path / "my_model.py"
    path.write_text(EXAMPLE.read_text())
    spec = f"{path}:SinNeuron"
    assert main(["train", "--model", spec, "--backend", "reference", "jax", "--variant", "jit"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"jax-jit .*outcome=solved", out), out
    runs = tmp_path / "runs"
    runs.mkdir()
    cmd = [sys.executable, "-m", "pytest", "bench", "--benchmark-only", "-q", "-p", "no:cacheprovider",
           "--profile", "default", "--device", "cpu", "--processes", "1", "--results-dir", str(runs),
           "--model", spec, "-k", "test_model_step and reference-numpy or test_model_agreement and jax-jit"]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "2 passed" in r.stdout, r.stdout[-3000:]
    (result,) = runs.glob("bench-default-*.json")
    kinds = {b["extra_info"].get("kind") for b in json.loads(result.read_text())["benchmarks"]}
    assert {"model-throughput", "model-agreement"} <= kinds, kinds
    assert main(["answer", str(result)]) == 0
    answer = capsys.readouterr().out
    assert "sin-neuron" in answer and "n10-k3-b64" in answer, answer
    page = tmp_path / "page.html"
    assert main(["report", str(result), "--out", str(page)]) == 0
    assert "sin-neuron" in page.read_text()
