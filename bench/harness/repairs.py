"""Cache repairs during a run (bench/cache_repair.py does the scanning): the scan before the run,
each repair recorded for the JSON (``paritybench.cache_repairs``) and said in one line, and a case
whose compile failed to load a truncated object run once more."""
from __future__ import annotations

import os

from bench import cache_repair
from bench.harness.state import _SETTINGS, _TR


def _repaired(repairs: list, when: str) -> None:
    """Record cache repairs (``paritybench.cache_repairs`` in the JSON) and say them in one line."""
    if not repairs:
        return
    _SETTINGS.setdefault("cache_repairs", []).extend(dict(r.as_dict(), when=when) for r in repairs)
    text = cache_repair.line(repairs, when)
    tr = _TR[0]
    if tr is not None:
        tr.write_line(text)
    else:  # before the session started (the scan in pytest_configure): said at its start
        _SETTINGS.setdefault("cache_lines", []).append(text)


def scan_before_run() -> None:
    """The suite's compile caches scanned for files an interrupted compile left cut short
    (PARITYBENCH_CACHE_SCAN=no skips it)."""
    if os.environ.get("PARITYBENCH_CACHE_SCAN", "yes") != "no":
        _repaired(cache_repair.repair_owned(), "before the run")


def retry_failed_load(item):
    """A case whose compile failed to load a truncated object from the suite's inductor cache
    ("file too short", "invalid ELF header"): the object is removed, said, and the case run once more."""
    try:
        return (yield)
    except Exception as e:
        text, cause = [], e
        while cause is not None and len(text) < 8:
            text.append(f"{type(cause).__name__}: {cause}")
            cause = cause.__cause__ or cause.__context__
        fixed = [r for d in cache_repair.inductor_dirs(cache_repair.inductor_base())
                 for r in cache_repair.failed_load("\n".join(text), d)]
        if not fixed:
            raise
        _repaired(fixed, f"{item.name} failed to load them")
        return item.runtest()
