"""Where does a torch-compiled step go, against the floor?  (not a test: run it as a script)

    .venv/bin/python -m bench.studies.probe_floor [--threads 1] [--n 1000000]

Times, interleaved in one process (minimum of 12 calls of 10 steps, so that load from other
processes hurts every figure alike), each against torch's floor pass sum(sin(w x) + cos(w x)):
  compiled  torch-compiled Runner.advance: forward, loss and gradient in one graph
            (torch.func.grad_and_value), then the compiled optimizer.step
  eager     the seed's loop: module forward, loss.backward(), optimizer.step
  fwd+bwd two graphs   the module's forward compiled and loss.backward(): AOTAutograd's two graphs
            (extern mm for Linear(1, 1), the backward recomputes sin and cos): what the compiled
            variant was before it became one graph
and, if JAX is installed, jax's floor against jax-jit and jax-scan steps.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import impls
from bench import frameworks
from impls import Problem, Recipe


def _best(fns: dict, reps: int = 12, k: int = 10) -> dict:
    for f in fns.values():
        f(3)
    res = {name: [] for name in fns}
    for _ in range(reps):
        for name, f in fns.items():
            t0 = time.perf_counter()
            f(k)
            res[name].append((time.perf_counter() - t0) / k)
    return {name: min(v) for name, v in res.items()}


def _print(label: str, best: dict, floor: str) -> None:
    print(label + ", ".join(f"{k} {v * 1e6:.0f} us ({v / best[floor]:.2f}x)" for k, v in best.items()))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--n", type=int, default=1_000_000)
    a = ap.parse_args()
    frameworks.pin_threads(a.threads)
    data = impls.generate(Problem(n=a.n, x_max=1000, seed=0))
    recipe = Recipe(optimizer="sgd", lr=4e-4, w0=1.5, steps=1, dtype="float32")
    w0 = np.array([1.5])
    if frameworks.installed("torch"):
        import torch

        tb = impls.get("torch")
        r = tb.prepare(data, recipe, "compiled", "cpu")
        eager = tb.prepare(data, recipe, "eager", "cpu")
        two_graph_fwd = torch.compile(eager._forward, dynamic=False)

        def two_graphs(k):  # the module's forward compiled, then loss.backward(): AOTAutograd's two graphs
            for _ in range(k):
                eager.optimizer.zero_grad()
                two_graph_fwd()[0].backward()

        best = _best({"floor": tb.floor(data, w0, "float32", "cpu"), "compiled": r.advance,
                      "eager": eager.advance, "fwd+bwd two graphs": two_graphs})
        _print(f"torch threads={a.threads} n={a.n}: ", best, "floor")
    if frameworks.installed("jax"):
        jb = impls.get("jax")
        best = _best({"floor": jb.floor(data, w0, "float32", "cpu"),
                      "jit": jb.prepare(data, recipe, "jit", "cpu").advance,
                      "scan": jb.prepare(data, recipe, "scan", "cpu").advance})
        _print(f"jax   threads={a.threads} n={a.n}: ", best, "floor")


if __name__ == "__main__":
    main()
