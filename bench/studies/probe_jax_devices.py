"""Does a one-process, two-CPU-device sharded training step run, or hang? (issue #10's question)

    .venv/bin/python -m bench.studies.probe_jax_devices

Each variant runs in a fresh subprocess (20 s timeout): jax with 2 CPU devices, x (1e6 float32)
sharded over them with NamedSharding, w replicated, 20 jitted SGD steps of the seed's loss (one
jitted step per call, or fused with lax.scan), under the CPU pinning and XLA flags the bench uses.
Prints one line per variant: exit status and the final loss, or TIMEOUT.
"""
from __future__ import annotations

import os
import subprocess
import sys

CHILD = """
import os, faulthandler, numpy as np
if os.environ.get("PIN"):
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:int(os.environ["PIN"])])
faulthandler.dump_traceback_later(15, exit=True)
if os.environ.get("TORCH"):
    import torch  # noqa: F401
import jax, jax.numpy as jnp
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
if not os.environ.get("FORCE"):
    jax.config.update("jax_num_cpu_devices", 2)
m = Mesh(np.array(jax.devices()), ("d",))
S = NamedSharding(m, P("d"))
x = jax.device_put(np.linspace(0, 1, 10**6, dtype=np.float32), S)
y = jax.device_put(np.sin(0.7 * np.asarray(x)) ** 2, S)
w = jax.device_put(jnp.float32(0.1), NamedSharding(m, P()))
loss = lambda w, x, y: jnp.mean((jnp.sin(w * x) ** 2 - y) ** 2)
def step(w, x, y):
    l, g = jax.value_and_grad(loss)(w, x, y)
    return w - 0.1 * g, l
if os.environ.get("SCAN"):
    run = jax.jit(lambda w, x, y: jax.lax.scan(lambda w, _: step(w, x, y), w, None, length=20))
    w, ls = run(w, x, y); l = ls[-1]
else:
    jstep = jax.jit(step)
    for _ in range(20):
        w, l = jstep(w, x, y)
print("OK loss", float(l), "devices", len(jax.devices()))
"""

BENCH = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"  # bench/frameworks.py, 1 thread
FORCE = "--xla_force_host_platform_device_count=2"
VARIANTS = {
    "unpinned": {},
    "pinned to 1 CPU": {"PIN": "1"},
    "pinned, bench flags": {"PIN": "1", "XLA_FLAGS": BENCH},
    "pinned, bench flags, PJRT_NPROC=4": {"PIN": "1", "XLA_FLAGS": BENCH, "PJRT_NPROC": "4"},
    "scan, pinned, bench flags": {"PIN": "1", "XLA_FLAGS": BENCH, "SCAN": "1"},
    "torch first, pinned, bench flags": {"PIN": "1", "XLA_FLAGS": BENCH, "TORCH": "1"},
    "force flag, unpinned": {"XLA_FLAGS": FORCE, "FORCE": "1"},
    "force flag, pinned, bench flags": {"PIN": "1", "XLA_FLAGS": BENCH + " " + FORCE, "FORCE": "1"},
}


def main() -> int:
    for name, env in VARIANTS.items():
        try:
            r = subprocess.run([sys.executable, "-c", CHILD], env={**os.environ, **env}, capture_output=True,
                               text=True, timeout=20)
            tail = (r.stdout + r.stderr).strip().splitlines()
            print(f"{name}: exit {r.returncode}: {tail[-1] if tail else ''}", flush=True)
        except subprocess.TimeoutExpired:
            print(f"{name}: TIMEOUT (20 s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
