"""The docs' benchmark figures come from the committed baseline, by construction.

Every block between ``<!-- report:NAME -->`` markers in README.md, results/README.md and docs/*.md
must equal what ``paritybench report`` renders from the committed baseline (results/BASELINE names
it); and no per-step timing or floor ratio may appear outside a block, where nothing would keep it
current.
"""
from __future__ import annotations

import re

import pytest

from paritybench import cli
from paritybench.report import docs as report
from paritybench.store import resultfile

DOCS = [report.ROOT / d for d in report.DOCS if (report.ROOT / d).is_file()]
# What a benchmark figure looks like in prose: a time per step in us/ms, a ratio to a floor, a rate.
FIGURE = re.compile(r"\d(\.\d+)? ?(us|µs|ms)\b|\d\.\d+x (its|the|own) .*floor|trainings/s|\d/s\b")


@pytest.fixture(scope="module")
def baseline():
    return resultfile.load(report.baseline_path(), "baseline")


def test_every_block_matches_the_committed_baseline(baseline):
    assert report.stale(DOCS, baseline) == [], "re-render: paritybench report --write"
    blocks = [m.group(2) for d in DOCS for m in report.MARK.finditer(d.read_text())]
    assert {"throughput", "machine", "gate-study", "compare-example", "gap-ops", "gap-explain", "gap-study",
            "scale-study", "roofline", "gpu-run", "device-ulps"} <= set(blocks), blocks


def test_a_stale_block_is_caught_and_rewritten(baseline):
    text = "intro\n<!-- report:overhead -->\n- torch eager -> compiled: 1.0x\n<!-- /report:overhead -->\nend\n"
    filled = report.fill(text, baseline)
    assert filled != text and filled.startswith("intro\n") and filled.endswith("end\n")
    assert report.fill(filled, baseline) == filled  # idempotent


def test_an_unknown_block_is_a_one_line_error(baseline):
    with pytest.raises(ValueError, match="report block: got 'nope'"):
        report.fill("<!-- report:nope -->\n<!-- /report:nope -->\n", baseline)


def _outside_blocks_and_code(text: str) -> list[tuple[int, str]]:
    out, inside, fence = [], False, False
    for i, line in enumerate(text.splitlines(), 1):
        if line.startswith("<!-- report:"):
            inside = True
        elif line.startswith("<!-- /report:"):
            inside = False
        elif line.startswith("```"):
            fence = not fence
        elif not inside and not fence:
            out.append((i, line))
    return out


def test_no_benchmark_figure_outside_the_blocks():
    hits = [f"{d.relative_to(report.ROOT)}:{i}: {line.strip()}" for d in DOCS
            for i, line in _outside_blocks_and_code(d.read_text()) if FIGURE.search(line)]
    assert hits == [], "\n".join(hits)


@pytest.mark.parametrize("picture", ["throughput", "scaling", "time-to-train"])
def test_the_run_pictures_are_drawn_from_the_baseline(picture):
    from PIL import Image

    with Image.open(report.ROOT / "docs" / "img" / f"{picture}.png") as im:
        source = im.info.get("Source")
    assert source == report.baseline_path().name, (
        f"docs/img/{picture}.png comes from {source!r}: redraw it with "
        f"paritybench plot <baseline> --out DIR --only {picture} and copy it")


def test_report_check_as_a_command(capsys, tmp_path):
    assert cli.main(["report", "--check"]) == 0
    assert "docs match" in capsys.readouterr().out
    bad = tmp_path / "x.json"
    bad.write_text("{")
    assert cli.main(["report", "--run", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(bad) in err[0]
