"""The memory bandwidth of the roofline: device-to-device copies timed in the run itself.

A step must read x and y once (``timing.step_bytes``); at the device's copy bandwidth that takes
``roofline_seconds_per_step``, a bound no variant can beat by much once the data no longer fit in a
cache (below that, on a CPU, a cache serves faster than memory and the ratio can fall under 1). A
copy reads and writes; a stream that only reads can run somewhat faster than the copy's rate, so
at the largest n a ratio slightly under 1 is possible and not an error.

  measure(device, backends)  {"bytes_per_second": best, "by_backend": {...}, "buffer_bytes", "method"}

Each available backend copies one buffer into another (``Backend.copy``: np.copyto, torch
``copy_``, ``jax.device_put(may_alias=False)``); a copy moves 2 x buffer bytes (read + write).
Best of ``REPS`` calls of ``K`` copies after one warm-up call (which also touches every page); the
fastest backend gives the bound (the device's, not one framework's). Buffers far above any cache:
128 MiB on a CPU, 1 GiB on a GPU.
"""
from __future__ import annotations

import time

import impls

BUFFER_BYTES = {"cpu": 128 << 20, "gpu": 1 << 30}
K, REPS = 4, 5


def copy_bytes_per_second(backend: str, device: str, nbytes: int) -> float:
    """Bytes moved per second (read + write) by ``backend``'s copy: best of REPS calls of K copies."""
    run = impls.get(backend).copy(nbytes, device)
    run(1)
    best = float("inf")
    for _ in range(REPS):
        t0 = time.perf_counter()
        run(K)
        best = min(best, time.perf_counter() - t0)
    return 2 * nbytes * K / best


def measure(device: str, backends) -> dict:
    """The device's copy bandwidth, measured now by every available backend of ``backends``."""
    nbytes = BUFFER_BYTES[device]
    by = {b: copy_bytes_per_second(b, device, nbytes) for b in backends if impls.available(b, device)[0]}
    if not by:
        return {}
    return {"bytes_per_second": max(by.values()), "by_backend": by, "buffer_bytes": nbytes,
            "method": f"best of {REPS} calls of {K} device-to-device copies per backend; "
                      "2 x buffer bytes per copy; the fastest backend"}
