"""A bench run's terminal ends with the answer: pytest-benchmark's tables first, then the suite's
summary, then the answer block (paritybench/analyses/answer.py) ending with where the JSON is; after it only
pytest's one-line count. The hook: bench/conftest.py ``pytest_terminal_summary``."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_bench_run_ends_with_the_answer_and_where_the_json_is(tmp_path):
    out = tmp_path / "run.json"
    r = subprocess.run([sys.executable, "-m", "pytest", "bench", "--benchmark-only", "-p", "no:cacheprovider",
                        "--profile", "quick", "--backend", "reference", "--device", "cpu", "-k", "n1000-",
                        "--benchmark-json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = [line for line in r.stdout.splitlines() if line.strip()]
    table = next(i for i, line in enumerate(lines) if line.startswith("Name (time in"))
    summary = next(i for i, line in enumerate(lines) if "paritybench throughput summary" in line)
    answer = next(i for i, line in enumerate(lines) if "= paritybench answer =" in line)
    assert table < summary < answer
    assert lines[answer + 1].startswith("paritybench answer: ")
    assert lines[-2].strip().startswith(f"JSON: {out}")  # the answer block's last line
    assert lines[-1].startswith("=") and " passed" in lines[-1]  # pytest's count, nothing between
    assert all(not line.startswith("=") for line in lines[answer + 1:-1])
