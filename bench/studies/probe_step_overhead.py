"""Where torch's compiled step loses time against a plain compiled loop (issue #15's 3x on a GPU).

  python -m bench.studies.probe_step_overhead [--device cpu|gpu] [--n 1000] [--optimizer sgd|adam]

Times, interleaved (round robin, median of ROUNDS rounds of K steps, µs per step):
  suite          the suite's compiled variant: ``Runner.advance`` (history recorded, torch.optim's
                 update function in the graph: ``torch_backend.OptimUpdate``)
  optimizer.step the same step with ``optimizer.step()`` inside the compiled graph (the variant
                 before #15), history copied per step as it was then
  plain          a plain compiled loop: w <- w - lr g (sgd) from one compiled function, no history,
                 no torch.optim: the lower bound of what the suite can reach
  graphed        (GPU only) the suite's graphed variant: K steps replayed from one CUDA graph
A one-time measurement for docs/gpu.md, not a benchmark (those are in bench/test_throughput.py).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

ROUNDS, K = 15, 256


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu", choices=("cpu", "gpu"))
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--optimizer", default="sgd", choices=("sgd", "adam"))
    args = ap.parse_args(argv)
    import numpy as np
    import torch

    import impls
    from impls import Problem, Recipe
    from impls import torch_backend as tb
    torch.set_num_threads(1)
    data = impls.generate(Problem(n=args.n, x_max=1000, seed=0))
    recipe = Recipe(optimizer=args.optimizer, lr=4e-4, w0=1.5, steps=1)
    dev = tb.torch_device(args.device)
    fns = {"suite": tb.prepare(data, recipe, "compiled", args.device).advance}

    old = tb.prepare(data, recipe, "eager", args.device)  # its net and torch.optim optimizer

    def with_optimizer_step():
        weight = old.net.fc1.weight

        def objective(w):
            return old.criterion(torch.sin(old.x * w.reshape(1, -1)) ** 2, old.y)

        grad, (_, members) = torch.func.grad_and_value(objective, has_aux=True)(weight.detach())
        weight.grad = grad
        old.optimizer.step()
        return members

    step_old = torch.compile(with_optimizer_step, dynamic=False)

    def old_advance(k):
        w_hist = torch.empty((k, 1), device=dev)
        l_hist = torch.empty_like(w_hist)
        for t in range(k):
            w_hist[t].copy_(old.net.fc1.weight.detach().reshape(-1))
            l_hist[t].copy_(step_old())
        tb.synchronize(dev)

    fns["optimizer.step"] = old_advance
    x = torch.as_tensor(data.x.astype(np.float32), device=dev)
    y = torch.as_tensor(data.y.astype(np.float32), device=dev)
    state = [torch.tensor(1.5, device=dev)]

    @torch.compile(dynamic=False)
    def plain(w):
        s, c = torch.sin(x * w), torch.cos(x * w)
        r = s * s - y
        return w - 4e-4 * (4 * r * s * c * x).mean()

    def plain_advance(k):
        for _ in range(k):
            state[0] = plain(state[0])
        tb.synchronize(dev)

    fns["plain"] = plain_advance
    if dev.type == "cuda":
        fns["graphed"] = tb.prepare(data, recipe, "graphed", args.device).advance
    for fn in fns.values():  # compile, capture, warm
        fn(K)
        fn(K)
    times = {name: [] for name in fns}
    for _ in range(ROUNDS):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn(K)
            times[name].append((time.perf_counter() - t0) / K)
    print(f"torch {torch.__version__}, {args.device}, n={args.n}, {args.optimizer}, one thread; "
          f"median of {ROUNDS} rounds of {K} steps, interleaved")
    base = statistics.median(times["plain"])
    for name, ts in times.items():
        m = statistics.median(ts)
        print(f"  {name:15} {m * 1e6:9.1f} us/step  {m / base:5.2f}x plain")
    return 0


if __name__ == "__main__":
    sys.exit(main())
