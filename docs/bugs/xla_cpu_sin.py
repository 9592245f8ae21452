"""Minimal repro: on the CPU, XLA's float32 sin costs 10-20x numpy's and torch's, and YNNPACK
fusion splits a fused sum(sin + cos) into passes that cost as much again. No paritybench code;
jax, numpy and (optionally) torch.

    XLA_FLAGS=--xla_cpu_multi_thread_eigen=false taskset -c 0 python docs/bugs/xla_cpu_sin.py

Prints ns per element for one sin over 1e6 float32 arguments in three ranges (jnp.sin under jit,
np.sin, torch.sin), then sum(sin(w x) + cos(w x)) under jit with and without
compiler_options={"xla_cpu_experimental_ynn_fusion_type": ""}. Medians of 15 calls, one thread.
"""
import platform
import statistics
import time

import jax
import jax.numpy as jnp
import jaxlib
import numpy as np

N = 1_000_000


def ns(fn, reps=15):
    fn()
    t = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    return statistics.median(t) / N * 1e9


def main():
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    rng = np.random.default_rng(0)
    x = rng.integers(0, 1000, N).astype(np.float32)
    print(f"jax {jax.__version__}, jaxlib {jaxlib.__version__}, numpy {np.__version__}, "
          f"torch {torch.__version__ if torch else '-'}, {platform.processor() or platform.machine()}")
    jsin = jax.jit(jnp.sin)
    print(f"{'arguments':<22}{'jnp.sin':>10}{'np.sin':>10}{'torch.sin':>11}   ns per element")
    for label, a in (("[0, 1)", rng.uniform(0, 1, N).astype(np.float32)),
                     ("[0, 1500)", rng.uniform(0, 1500, N).astype(np.float32)),
                     ("1.5 * integers < 1000", np.float32(1.5) * x)):
        ja = jax.device_put(a)
        row = [ns(lambda: jsin(ja).block_until_ready()), ns(lambda: np.sin(a))]
        row.append(ns(lambda: torch.sin(torch.from_numpy(a))) if torch else float("nan"))
        print(f"{label:<22}" + "".join(f"{v:>10.2f}" for v in row[:2]) + f"{row[2]:>11.2f}")
    xj = jax.device_put(x)
    f = lambda w: (jnp.sin(w * xj) + jnp.cos(w * xj)).sum()  # noqa: E731
    for opts in (None, {"xla_cpu_experimental_ynn_fusion_type": ""}):
        g = jax.jit(f, compiler_options=opts)
        print(f"sum(sin(w x) + cos(w x)), compiler_options={opts}: "
              f"{ns(lambda: g(np.float32(1.5)).block_until_ready()):.2f} ns per element")


if __name__ == "__main__":
    main()
