"""docs/gpu.md's generated blocks (``paritybench report``):

  roofline     the baseline's copy bandwidth and, per framework, its fastest float32 SGD step at the
               largest n against the roofline (bytes a step must move / that bandwidth)
  gpu-run      the newest committed GPU run, results/bench-gpu-*.json (``make gpu``): per n, each
               framework's fastest variant, floor and roofline ratios, GPU and versions
  device-ulps  the newest results/device-ulps-<device>-*.json of each device (bench/studies/device_ulps.py):
               max error in float32 ulps of sin, cos, sqrt, div, pow per framework and variant
"""
from __future__ import annotations

from pathlib import Path

from ..store import resultfile
from ..store.files import newest_json
from ..text.tables import power10, us
from ..store.resultfile import Run

ROOT = Path(__file__).resolve().parents[2]


def _x(r) -> str:
    return "-" if not isinstance(r, (int, float)) else f"{r:.2f}x"


def _fastest(cases, backend: str):
    mine = [c for c in cases if c.get("backend") == backend]
    return min(mine, key=lambda c: c.seconds) if mine else None


def _sgd_f32(run: Run, device: str):
    return [c for c in run.of_kind("throughput") if c.get("device") == device and c.get("E") == 1
            and c.get("dtype") == "float32" and c.get("optimizer") == "sgd"]


def block_roofline(run: Run) -> str:
    bw = (run.doc_extra or {}).get("bandwidth") or {}
    cpu = bw.get("cpu") or {}
    if not cpu.get("bytes_per_second"):
        return (f"`{Path(run.path).name}` measured no copy bandwidth (a run from before the roofline): "
                "no roofline here yet.\n")
    cases = _sgd_f32(run, "cpu")
    n = max((c.get("n") for c in cases), default=None)
    by = ", ".join(f"{b} {v / 1e9:.1f} GB/s" for b, v in sorted((cpu.get("by_backend") or {}).items()))
    threads = ((run.machine_info or {}).get("threads") or {}).get("set")
    out = [f"`{Path(run.path).name}`: copy bandwidth {cpu['bytes_per_second'] / 1e9:.1f} GB/s (best of {by}; "
           f"{cpu.get('buffer_bytes', 0) >> 20} MiB buffers, {threads} thread(s)). At n = {power10(n) if n else '-'}, "
           "float32 SGD, E = 1:", "",
           "| framework | fastest variant | per step | roofline per step | step / roofline |", "|---|---|---|---|---|"]
    for b in ("reference", "torch", "jax"):
        c = _fastest([c for c in cases if c.get("n") == n], b)
        if c is not None:
            out.append(f"| {b} | {c.get('variant')} | {us(c.seconds)} | {us(c.get('roofline_seconds_per_step'))} | "
                       f"{_x(c.get('roofline_ratio'))} |")
    return "\n".join(out) + "\n"


def block_gpu_run(run: Run) -> str:
    found = sorted((ROOT / "results").glob("bench-gpu-*.json"))
    if not found:
        return ("No GPU run is committed yet: `make gpu` on a GPU host writes results/bench-gpu-<time>.json, "
                "and `paritybench report --write` fills this block from it.\n")
    g = resultfile.load(found[-1], "gpu run")
    info = g.machine_info or {}
    dev = (info.get("devices") or {})
    gpu = info.get("gpu") or {}
    bw = ((g.doc_extra or {}).get("bandwidth") or {}).get("gpu") or {}
    out = [f"`results/{found[-1].name}`: {dev.get('torch_gpu') or dev.get('jax_gpu')}, driver {gpu.get('driver')}, "
           f"CUDA {gpu.get('torch_cuda')} (torch); torch {info.get('torch')}, jax {info.get('jax')}; copy bandwidth "
           f"{(bw.get('bytes_per_second') or 0) / 1e9:.0f} GB/s. Float32 SGD, E = 1, fastest variant per framework:", "",
           "| n | torch | jax | torch / jax | torch / own floor | jax / own floor | torch / roofline | jax / roofline |",
           "|---|---|---|---|---|---|---|---|"]
    cases = _sgd_f32(g, "gpu")
    for n in sorted({c.get("n") for c in cases}):
        t, j = (_fastest([c for c in cases if c.get("n") == n], b) for b in ("torch", "jax"))
        cell = lambda c: "-" if c is None else f"{c.get('variant')} {us(c.seconds)}"  # noqa: E731
        out.append(f"| {power10(n)} | {cell(t)} | {cell(j)} | {_x(t.seconds / j.seconds) if t and j else '-'} | "
                   f"{_x(t and t.get('floor_ratio'))} | {_x(j and j.get('floor_ratio'))} | "
                   f"{_x(t and t.get('roofline_ratio'))} | {_x(j and j.get('roofline_ratio'))} |")
    skipped = (g.doc_extra or {}).get("skipped") or []
    if skipped:
        out += ["", f"{len(skipped)} cases skipped, e.g. {skipped[0]['case']}: {skipped[0]['reason']}"]
    return "\n".join(out) + "\n"


def block_device_ulps(run: Run) -> str:
    out = []
    for device in ("cpu", "gpu"):
        found = newest_json(ROOT / "results", f"device-ulps-{device}-*.json")
        if found is None:
            out += [f"{device}: no committed results/device-ulps-{device}-*.json "
                    f"(python -m bench.studies.device_ulps --device {device})", ""]
            continue
        path, doc = found
        if not doc.get("ulps"):
            out += [f"`results/{path.name}`: no framework measured", ""]
            continue
        m = doc.get("machine") or {}
        d = m.get("devices") or {}
        where = d.get("torch_gpu") or d.get("jax_gpu") if device == "gpu" else d.get("cpu")
        ops = list(next(iter(doc["ulps"].values())))
        out += [f"`results/{path.name}` ({where}; torch {m.get('torch')}, jax {m.get('jax')}): max error in "
                "float32 ulps against float64", "",
                "| framework | " + " | ".join(ops) + " | gradient rel. error |", "|---" * (len(ops) + 2) + "|"]
        grad = doc.get("gradient_relative_error") or {}
        for name, r in doc["ulps"].items():
            g = grad.get(name.split("-")[0])
            out.append(f"| {name} | " + " | ".join(f"{r[o]['max']:.2f}" for o in ops)
                       + f" | {'-' if g is None or name.endswith('compiled') else f'{g:.1e}'} |")
        out += ["", f"Gradient: torch's and JAX's float32 `loss_and_grad` at w = 1.5 on the seed's data, relative "
                f"to float64 at the same rounded arguments; the derived bound is "
                f"{grad.get('derived_bound', float('nan')):.1e}.", ""]
    return "\n".join(out)


BLOCKS = {"roofline": block_roofline, "gpu-run": block_gpu_run, "device-ulps": block_device_ulps}
