"""The figures the docs quote, rendered from one result file, so that they cannot go stale.

A doc holds generated blocks between markers:

    <!-- report:NAME -->
    ...text rendered by BLOCKS[NAME](run)...
    <!-- /report:NAME -->

``paritybench report --write`` re-renders every block of the docs from the committed baseline
(the file that ``results/BASELINE`` names, ``baseline_path``); ``--check`` (and tests/test_docs_figures.py)
fails when a block differs from what the baseline gives. Numbers outside blocks are not benchmark figures.
"""
from __future__ import annotations

import re
from pathlib import Path

from . import ab, gap, gate_noise, gpu, scale, seed, sparse_parity, time_to_train
from ..store.resultfile import Run

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("README.md", "results/README.md", "docs/compare.md", "docs/agreement.md", "docs/answer.md",
        "docs/numerics.md", "docs/gap.md", "docs/scale.md", "docs/gpu.md", "docs/time-to-train.md",
        "docs/sparse-parity.md")
MARK = re.compile(r"(<!-- report:([a-z0-9-]+) -->\n)(.*?)(<!-- /report:\2 -->)", re.S)


POINTER = "results/BASELINE"


def baseline_path(root: Path = ROOT) -> Path:
    """The committed baseline: the CPU run that ``results/BASELINE`` names (one line, a
    ``bench-<profile>-cpu<T>-<time>.json`` in results/). Named, not the newest file: a user's own
    runs (results/runs/, or anywhere) never change what the docs, the tests and ``report --check``
    are held to (issue #34). A new baseline: its file in results/ and its name in results/BASELINE."""
    pointer = root / POINTER
    try:
        name = pointer.read_text().strip()
    except OSError as e:
        raise ValueError(f"baseline: got no {POINTER} under {root} ({e.strerror}); allowed: a file naming "
                         "the committed baseline, e.g. bench-default-cpu1-<time>.json") from None
    path = root / "results" / name
    if not re.fullmatch(r"bench-[a-z]+-cpu\d+-\d{8}T\d{6}(-\d+)?\.json", name) or not path.is_file():
        raise ValueError(f"baseline: got {name!r} in {POINTER}; allowed: the name of a bench-<profile>-cpu<T>-<time>.json "
                         f"in {root / 'results'}")
    return path


BLOCKS = dict(seed.BLOCKS)  # README.md, results/README.md, docs/compare.md, agreement.md, numerics.md: the seed's
# "gate-study" (docs/compare.md) is ab.py's: the study judged by today's per-case gate
BLOCKS.update(gap.BLOCKS)  # docs/gap.md's
BLOCKS.update(scale.BLOCKS)  # docs/scale.md's
BLOCKS.update(gpu.BLOCKS)  # docs/gpu.md's
BLOCKS.update(time_to_train.BLOCKS)  # docs/time-to-train.md
BLOCKS.update(ab.BLOCKS)  # docs/compare.md: across hardware and versions
BLOCKS.update(gate_noise.BLOCKS)  # docs/compare.md: the gate's noise and resolution
BLOCKS.update(sparse_parity.BLOCKS)  # docs/sparse-parity.md: the paper's result (#29)


def fill(text: str, run: Run) -> str:
    """``text`` with every block re-rendered from ``run``; ValueError for an unknown block name."""
    def sub(m):
        name = m.group(2)
        if name not in BLOCKS:
            raise ValueError(f"report block: got {name!r}; allowed: one of {', '.join(BLOCKS)}")
        return m.group(1) + BLOCKS[name](run) + m.group(4)
    return MARK.sub(sub, text)


def stale(paths, run: Run) -> list[str]:
    """The docs among ``paths`` whose blocks differ from what ``run`` renders."""
    return [str(p) for p in paths if Path(p).read_text() != fill(Path(p).read_text(), run)]
