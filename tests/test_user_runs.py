"""A user's bench run never changes what the docs, the tests and ``report --check`` are held to
(issue #34): it goes to results/runs/ (ignored by git), a new file, and the baseline stays the one
results/BASELINE names."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from paritybench import cli
from paritybench.report import docs as report

ROOT = Path(__file__).resolve().parents[1]


def test_a_bench_run_goes_to_results_runs_and_the_baseline_stays(capsys):
    before = report.baseline_path()
    docs_before = cli.main(["report", "--check"])
    capsys.readouterr()
    r = subprocess.run([sys.executable, "-m", "pytest", "bench", "--benchmark-only", "-q", "-p", "no:cacheprovider",
                        "--profile", "quick", "--backend", "reference", "--device", "cpu",
                        "-k", "test_floor and floor-reference-cpu-f32-n1000-E1"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    written = re.search(r"Wrote benchmark data in: (\S+\.json)", r.stdout + r.stderr)
    try:
        assert r.returncode == 0 and written, r.stdout + r.stderr
        path = Path(written.group(1))
        assert path.parent == ROOT / "results" / "runs" and path.is_file()
        # newer than the baseline by its time stamp: the old rule (the newest file) would have taken it
        assert path.stem.rsplit("-", 1)[-1] > before.stem.rsplit("-", 1)[-1]
        assert report.baseline_path() == before
        assert cli.main(["report", "--check"]) == docs_before
        assert f"docs match {before.name}" in capsys.readouterr().out
        if shutil.which("git") and (ROOT / ".git").exists():
            ignored = subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=ROOT)
            assert ignored.returncode == 0, f"{path} is not ignored by git"
        assert f"JSON: {path}" in r.stdout  # the run says where its JSON is, last
    finally:
        if written:
            Path(written.group(1)).unlink(missing_ok=True)


def test_the_baseline_is_named_not_found(tmp_path):
    (tmp_path / "results").mkdir()
    with pytest.raises(ValueError, match=r"^baseline: got no results/BASELINE under "):
        report.baseline_path(tmp_path)
    (tmp_path / "results" / "BASELINE").write_text("bench-default-cpu1-20261205T025317.json\n")
    with pytest.raises(ValueError, match=r"^baseline: got 'bench-default-cpu1-20261205T025317.json' in "
                                         r"results/BASELINE; allowed: the name of a bench-<profile>-cpu<T>"):
        report.baseline_path(tmp_path)  # named, but not there
    for name in ("bench-default-cpu1-20261205T025317.json", "bench-quick-cpu1-20991231T235959.json"):
        (tmp_path / "results" / name).write_text("{}")
    assert report.baseline_path(tmp_path).name == "bench-default-cpu1-20261205T025317.json"  # not the newest
    (tmp_path / "results" / "BASELINE").write_text("../../etc/passwd\n")
    with pytest.raises(ValueError, match=r"^baseline: got '\.\./\.\./etc/passwd'"):
        report.baseline_path(tmp_path)


def test_the_committed_baseline_is_tracked_by_git():
    if not shutil.which("git") or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    path = report.baseline_path()
    tracked = subprocess.run(["git", "ls-files", "--error-unmatch", str(path.relative_to(ROOT)), "results/BASELINE"],
                             cwd=ROOT, capture_output=True, text=True)
    assert tracked.returncode == 0, tracked.stderr
