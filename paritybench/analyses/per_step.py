"""A case's seconds per step, as the answer and every analysis read it.

    central(c) = median over processes of each process's median round (one process: its median)
    _fastest(cases, backend) -> the case of ``backend`` with the least ``central``, or None
"""
from __future__ import annotations

from statistics import median

from ..store.resultfile import Case


def _rounds(c: Case) -> list[list[float]]:
    groups = c.get("process_round_seconds")
    if isinstance(groups, list) and groups:
        return groups
    one = c.get("round_seconds")
    return [one] if isinstance(one, list) and one else [[c.seconds]]


def central(c: Case) -> float:
    """Seconds per step: the median of the processes' medians (one process: its median)."""
    return median(median(g) for g in _rounds(c))


_central = central  # explain.py's and answer.py's name for it


def _fastest(cases: list[Case], backend: str) -> Case | None:
    rows = [c for c in cases if c.get("backend") == backend]
    return min(rows, key=_central) if rows else None
