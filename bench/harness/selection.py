"""Which collected cases run: those outside the profile, or of backends, devices or models not chosen,
deselected at collection (and counted in one line each); a case that would start after --deadline
skips with the reason."""
from __future__ import annotations

import time

import pytest

from bench.harness.state import _SETTINGS, _STARTED


def _backend_device(params: dict) -> tuple:
    """(backend, device) of a collected case from its parameters (None where it has none)."""
    c = params.get("case") or params.get("floor_case") or params.get("op_case")
    if hasattr(c, "backend"):  # not pytest's NOTSET of an empty parameter set
        return c.backend, c.device
    return params.get("backend"), params.get("device")


def _model(params: dict) -> str:
    """The model a collected case times: a model case's (impls/models), else the seed's."""
    c = params.get("model_case")
    return getattr(c, "model", None) or params.get("model_name") or "seed"


def deselect(config, items):
    """Deselect (not skip) what this run did not ask for: cases of another profile (a test
    module's ``in_profile``) and backends, devices or models left out by --backend / --device /
    --model."""
    s = getattr(config, "paritybench_settings", None)
    if not s:
        return
    keep, gone = [], {"profile": [], "choice": []}
    for item in items:
        params = item.callspec.params if hasattr(item, "callspec") else {}
        in_profile = getattr(getattr(item, "module", None), "in_profile", None)
        backend, device = _backend_device(params)
        if in_profile is not None and not in_profile(s["profile"], item.originalname, params):
            gone["profile"].append(item)
        elif ((backend and backend not in s["backends"]) or (device and device not in s["devices"])
              or (backend == "reference" and device == "gpu")  # numpy has no GPU: not a case
              or _model(params) not in s.get("models", (_model(params),))):
            gone["choice"].append(item)
        else:
            keep.append(item)
    if gone["profile"] or gone["choice"]:
        config.hook.pytest_deselected(items=gone["profile"] + gone["choice"])
        items[:] = keep
    _SETTINGS["deselected"] = {k: len(v) for k, v in gone.items()}


def deselected_lines(config, start_path, items):
    d = _SETTINGS.get("deselected") or {}
    lines = []
    if d.get("profile"):
        lines.append(f"paritybench: {d['profile']} cases outside the {_SETTINGS.get('profile')} profile deselected "
                     "(--profile full runs every case)")
    if d.get("choice"):
        lines.append(f"paritybench: {d['choice']} cases of backends/devices/models not chosen (--backend, --device, --model) "
                     "or that cannot exist (numpy on a GPU) deselected")
    return lines


def skip_past_deadline(item):
    """--deadline: a case that would start after it skips, with the reason, and is listed as such."""
    deadline = _SETTINGS.get("deadline")
    if deadline is not None and time.time() - _STARTED[0] >= deadline:
        pytest.skip(f"deadline: the run's --deadline of {deadline:g} s was spent before this case")
