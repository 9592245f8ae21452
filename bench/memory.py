"""Peak resident memory a case adds to its process (Linux): the CPU memory figure of every backend.

    with PeakRSS() as m:      # resets the kernel's high-water mark (VmHWM) at the start
        ...build, compile, time the case...
    m.increase_bytes          # VmHWM at the end - VmRSS at the start; None where unsupported

What it counts: every page the case made resident (the data on the device, compiled code, the
framework's allocator pools, the recorded history), at its peak. What it misses: memory that
earlier cases freed and the allocator reuses (so it is a lower bound in a long process), and
nothing on a GPU. Resetting VmHWM is writing "5" to /proc/self/clear_refs (Linux >= 4.0,
Documentation/filesystems/proc.rst).
"""
from __future__ import annotations

import re

_STATUS = "/proc/self/status"


def _kib(field: str) -> int | None:
    try:
        with open(_STATUS) as f:
            m = re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.M)
    except OSError:
        return None
    return int(m.group(1)) if m else None


def reset_peak() -> bool:
    """Reset this process's VmHWM to its current RSS; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class PeakRSS:
    """Context manager: ``increase_bytes`` = peak RSS during the block - RSS at its start."""

    def __init__(self):
        self.increase_bytes: int | None = None
        self._start = None

    def __enter__(self):
        self._start = _kib("VmRSS") if reset_peak() else None
        return self

    def __exit__(self, *exc):
        peak = _kib("VmHWM")
        if self._start is not None and peak is not None:
            self.increase_bytes = max(0, peak - self._start) * 1024
        return False
