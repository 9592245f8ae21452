"""The run's shared state, filled by the hooks as the run goes (bench/conftest.py, bench/harness/):
the validated settings and what the run recorded, the cases skipped, the start time, pytest's config,
the progress of the cases and the terminal reporter."""
from __future__ import annotations

import time

_SETTINGS = {}
_SKIPPED: list[tuple[str, str]] = []
_STARTED = [time.time()]
_CONFIG: list = []
_PROGRESS = {"items": {}, "done": {}, "took": {}, "phases": {}}  # items: nodeid -> test function, in run order
_TR = [None]
_SKIPPED_IDS: set = set()
