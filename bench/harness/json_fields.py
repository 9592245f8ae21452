"""What the suite adds to pytest-benchmark's JSON: machine_info (versions, devices, threads, malloc,
numerics), the cases' floor ratios and rooflines (the copy bandwidth measured at the end of the run),
and the ``paritybench`` block (profile, phases, skips, replicas, interrupted, not_run)."""
from __future__ import annotations

import os
import time

from bench import frameworks, matrix, timing
from bench.harness.state import _PROGRESS, _SETTINGS, _SKIPPED, _STARTED


def add_machine_info(config, machine_info):
    machine_info.update(frameworks.versions())
    machine_info["devices"] = frameworks.device_names()
    machine_info["gpu"] = frameworks.gpu_info()
    if os.environ.get("PARITYBENCH_GPU_HOST"):  # bench/gpu_host.py: its versions and the GPU tests' outcome
        import json
        machine_info["gpu_host"] = json.loads(os.environ["PARITYBENCH_GPU_HOST"])
    machine_info["threads"] = frameworks.thread_counts()
    machine_info["threads"]["set"] = _SETTINGS.get("threads")
    machine_info["malloc"] = frameworks.malloc_info()
    machine_info["paritybench_profile"] = _SETTINGS.get("profile")
    from impls import numenv
    machine_info["numeric"] = numenv.describe(
        [b for b in ("torch", "jax") if b in (_SETTINGS.get("backends") or ())])


def add_run_fields(config, benchmarks, output_json):
    infos = [b.get("extra_info", {}) for b in output_json.get("benchmarks", [])]
    timing.add_floor_ratios(infos)
    bandwidth, t0 = {}, time.time()
    if not _SETTINGS.get("interrupted"):  # an interrupted run is saved at once, unmeasured
        from bench import bandwidth as bw
        for device in sorted({i["device"] for i in infos if i.get("kind") in matrix.STEP_KINDS}):
            try:  # a failed measurement (out of memory, say) must not cost the run its JSON
                bandwidth[device] = bw.measure(device, _SETTINGS.get("backends") or matrix.BACKENDS)
            except Exception as e:  # noqa: BLE001 - recorded, and the rooflines stay None
                bandwidth[device] = {"error": f"{type(e).__name__}: {e}"}
    timing.add_rooflines(infos, bandwidth)
    _PROGRESS["phases"]["bandwidth"] = time.time() - t0
    output_json["paritybench"] = {"bandwidth": bandwidth,"profile": _SETTINGS.get("profile"), "processes": _SETTINGS.get("processes"),
                                  "wall_seconds": time.time() - _STARTED[0],
                                  "phase_seconds": {k: round(v, 1) for k, v in _PROGRESS["phases"].items()},
                                  "skipped": [{"case": n, "reason": w} for n, w in _SKIPPED],
                                  "planted": _SETTINGS.get("plant") or {},
                                  "deadline": _SETTINGS.get("deadline"),
                                  "replicas": _SETTINGS.get("replica_info") or {},
                                  "cache_repairs": _SETTINGS.get("cache_repairs") or [],
                                  "interrupted": bool(_SETTINGS.get("interrupted")),
                                  "not_run": [n for n in _PROGRESS["items"] if n not in _PROGRESS["done"]]}
