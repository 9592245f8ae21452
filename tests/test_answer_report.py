"""The answer block (`paritybench answer`) and partial (interrupted) runs (the HTML page:
tests/test_report_page.py).

Inputs: the SYNTHETIC fixture tests/data/run_synthetic.json (tests/data/make_synthetic.py)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from paritybench.analyses import answer
from paritybench import cli
from paritybench.store import resultfile

DATA = Path(__file__).parent / "data"
RUN = DATA / "run_synthetic.json"


def main(args, capsys):
    rc = cli.main(args)
    out, err = capsys.readouterr()
    return rc, out, err


def test_answer_names_the_faster_framework_per_band_with_its_interval(capsys):
    run = resultfile.load(RUN)
    ans = answer.answer(run)
    assert [(b["n"], b["band"]) for b in ans["bands"]] == [
        (1000, "overhead-bound"), (100000, "middle"), (1000000, "throughput-bound")]
    for b in ans["bands"]:
        t, j = b["torch"], b["jax"]
        assert b["jax_over_torch"] == pytest.approx(j["seconds_per_step"] / t["seconds_per_step"])
        lo, hi = b["jax_over_torch_ci95"]
        assert lo <= b["jax_over_torch"] <= hi and hi / lo < 1.3  # the fixture's noise is a few %
    text = answer.lines(ans)
    assert len(text) <= 12
    assert "jax 5.06x faster [4.84, 5.19]" in text[1] and "torch-compiled 27.4 us, jax-scan 5.4 us" in text[1]
    assert "30 of 32 cases end as the float64 reference does" in text[4]
    rc, out, _ = main(["answer", str(RUN), "--json"], capsys)
    assert rc == 0 and json.loads(out)["bands"][0]["jax"]["variant"] == "scan"


def partial_doc(tmp_path) -> Path:
    d = json.loads(RUN.read_text())
    d["paritybench"].update(interrupted=True, not_run=["bench/test_tools.py::test_plot"])
    p = tmp_path / "partial.json"
    p.write_text(json.dumps(d))
    return p


def test_partial_runs_are_said_to_be_partial(tmp_path, capsys):
    p = partial_doc(tmp_path)
    line = f"PARTIAL RUN: partial.json was interrupted; {len(resultfile.load(RUN).cases)} cases measured, 1 not run"
    rc, out, _ = main(["compare", str(p)], capsys)
    assert rc == 0 and out.splitlines()[0] == line
    rc, out, _ = main(["compare", str(RUN), str(p)], capsys)
    assert line in out.splitlines()
    rc, out, _ = main(["answer", str(p)], capsys)
    assert "PARTIAL RUN: interrupted, 1 cases not run" in out.splitlines()[0]


def test_plot_says_a_run_is_partial(tmp_path, capsys):
    rc, out, _ = main(["plot", str(partial_doc(tmp_path)), "--out", str(tmp_path / "pics"), "--only",
                       "throughput"], capsys)
    assert rc == 0 and out.splitlines()[0].startswith("PARTIAL RUN: partial.json was interrupted")
    assert (tmp_path / "pics" / "throughput.png").is_file()
