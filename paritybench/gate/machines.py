"""Which runs are comparable: the machine_info fields that make two runs different hardware, the
software whose change keeps the verdicts (the upgrade question), and the backends each package
can move (docs/compare.md, "Across hardware").
"""
from __future__ import annotations

from ..store.resultfile import Run, flatten

# The machine (machine_info paths): when any differs, two runs are different hardware and no timing
# verdict is drawn unless asked (``--across-machines``): no time, and not even a step/floor ratio,
# travels between CPUs (docs/compare.md, "Across hardware").
HARDWARE_FIELDS = ("numeric.cpu_model", "numeric.isa", "numeric.numpy_simd.found", "numeric.torch.cpu_capability",
                   "numeric.torch.threads", "numeric.jax.xla_cpu_max_isa", "numeric.thread_env",
                   "threads.set", "cpu.brand_raw", "devices")
# The software, by what it can change: a package name -> its machine_info paths. When only these
# differ, verdicts stay: that is the upgrade question ("did jax 0.10 make this slower here?").
SOFTWARE_FIELDS = {"torch": ("numeric.torch.version", "torch"),
                   "jax": ("numeric.jax.version", "jax", "jaxlib", "optax"),
                   "numpy": ("numpy", "numeric.numpy_blas"),
                   "libc": ("numeric.libc",), "malloc": ("malloc.mode",)}
# Which backends' timings a package can move (libc and malloc: every backend's).
AFFECTS = {"torch": ("torch",), "jax": ("jax",), "numpy": ("reference",),
           "libc": ("reference", "torch", "jax"), "malloc": ("reference", "torch", "jax")}
KEY_FIELDS = HARDWARE_FIELDS + tuple(f for fs in SOFTWARE_FIELDS.values() for f in fs)


def key_differences(old: Run, new: Run, fields: tuple[str, ...] = KEY_FIELDS) -> list[str]:
    """'field: old -> new' for each of ``fields`` that differs (absent in both: not listed)."""
    a, b = flatten(old.machine_info), flatten(new.machine_info)

    def pick(flat: dict, key: str):
        hits = {k: v for k, v in flat.items() if k == key or k.startswith(key + ".")}
        return None if not hits else (hits[key] if key in hits else tuple(sorted(hits.items())))

    out = []
    for k in fields:
        va, vb = pick(a, k), pick(b, k)
        if va != vb:
            out.append(f"{k}: {_brief(va)} -> {_brief(vb)}")
    return out


def hardware_differences(old: Run, new: Run) -> list[str]:
    """The HARDWARE_FIELDS that differ: non-empty means no timing verdict by default."""
    return key_differences(old, new, HARDWARE_FIELDS)


def changed_software(old: Run, new: Run) -> dict[str, list[str]]:
    """{package: its differing fields} for each SOFTWARE_FIELDS package whose fields differ."""
    return {pkg: d for pkg, fields in SOFTWARE_FIELDS.items() if (d := key_differences(old, new, fields))}


def affected_backends(changed) -> set[str]:
    """The backends whose timings the changed packages can move (AFFECTS)."""
    return {b for pkg in changed for b in AFFECTS[pkg]}


def _brief(v) -> str:
    if v is None:
        return "(absent)"
    if isinstance(v, tuple):  # a flattened list/dict
        text = ",".join(str(x[1]) for x in v)
        return text if len(text) <= 40 else text[:37] + "..."
    return str(v)
