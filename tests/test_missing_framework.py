"""A machine without JAX (or without torch) runs the other half, and says what it skipped.

The framework is blocked in a subprocess with ``sys.modules[name] = None`` (import fails, as if
it were not installed); nothing else about the environment changes.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run_blocked(module: str, code: str) -> subprocess.CompletedProcess:
    prog = f"import sys; sys.modules[{module!r}] = None\n" + code
    return subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, cwd=ROOT, timeout=300)


@pytest.mark.parametrize("missing,present,variants", [("jax", "torch-eager", "eager numpy"),
                                                      ("torch", "jax-jit", "jit numpy")])
def test_train_runs_the_other_half(missing, present, variants):
    r = _run_blocked(missing, "from paritybench.cli import main\n"
                     f"sys.exit(main(['train', '--steps', '3', '--variant', *{variants.split()!r}]))")
    assert r.returncode == 0, r.stderr
    assert f"{missing}: skipped ({missing} is not installed)" in r.stdout
    assert present in r.stdout and "reference-numpy" in r.stdout


def test_naming_a_missing_framework_is_one_line_exit_2():
    r = _run_blocked("jax", "from paritybench.cli import main\nsys.exit(main(['train', '--backend', 'jax']))")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "jax is not installed" in r.stderr, r.stderr


def test_benchmarks_without_jax_run_torch_and_list_the_skips(tmp_path):
    r = _run_blocked("jax", "import pytest\nsys.exit(pytest.main(['bench/test_throughput.py', "
                     "'--benchmark-only', '-q', '-p', 'no:randomly', '-k', "
                     "'n1000-sgd-E1 and eager or floor-torch-cpu-f32-n1000-E1 or floor-jax-cpu-f32-n1000-E1', "
                     f"'--results-dir', {str(tmp_path)!r}]))")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "jax on cpu: jax is not installed" in r.stdout
    assert "torch cpu sgd: eager" in r.stdout
    assert len(list(tmp_path.glob("bench-*.json"))) == 1
