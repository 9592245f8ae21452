"""Sparse parity's bench step against the plain loops an expert would write (issue #29, item 5).

  python -m bench.studies.probe_model_loop [--config paper|matmul] [--rounds R] [--out PATH]

Times, interleaved round robin (each round: every function once, K steps a call, the K the bench's
calibration picks for the suite's variant; µs per step, median of R rounds; one thread):
  suite torch-compiled  the bench case's step (``bench.runners.build_step``): torch_model's runner,
                        torch.optim's update in one compiled graph, batches from the numpy
                        generator one chunk at a time, every step's loss kept on the device
  suite jax-scan        the same for jax_model's scan (k steps in one lax.scan; the host draws and
                        copies the k batches per call); suite jax-jit and torch-eager likewise
  plain torch.compile   nn.Sequential(Linear, ReLU, Linear) under torch.compile, loss.backward()
                        and torch.optim.SGD(weight_decay) with its step compiled, as PyTorch's
                        tutorials write it; a fresh batch per step drawn on the device
                        (torch.randint), the loss kept per step
  plain jax.jit         one jitted step (value_and_grad, optax.chain(add_decayed_weights, sgd)),
                        a fresh batch per step from jax.random inside the step, a host loop
  plain jax scan        the same step in lax.scan over K steps in one jitted call
ratio = suite / plain, per round (the two timed in the same second), median over rounds. The
plain loops draw their batches with their framework's own generator (not spec.batches'): the
data differ, the work per step does not. A one-time measurement for the bench's README, not a
benchmark (those are bench/test_throughput.py's ``test_model_step``).
"""
from __future__ import annotations

import statistics
import sys

from bench.studies import study

CONFIGS = {"paper": (("n_bits", 30), ("k", 3), ("width", 1000), ("batch", 32)),
           "matmul": (("n_bits", 30), ("k", 3), ("width", 4096), ("batch", 1024))}


def plain_torch(cfg, secret, optim):
    """k -> None: the plain compiled torch loop (see the module docstring)."""
    import torch
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(cfg.n, cfg.width), torch.nn.ReLU(), torch.nn.Linear(cfg.width, 1))
    opt = torch.optim.SGD(model.parameters(), lr=optim.lr, weight_decay=optim.weight_decay)
    fwd = torch.compile(model)
    opt_step = torch.compile(opt.step)
    s = torch.as_tensor(secret)
    gen = torch.Generator().manual_seed(0)

    def run(k: int) -> None:
        losses = []
        for _ in range(k):
            x = (torch.randint(0, 2, (cfg.batch, cfg.n), generator=gen) * 2 - 1).float()
            y = x[:, s].prod(dim=1)
            opt.zero_grad(set_to_none=True)
            loss = torch.relu(1 - y * fwd(x).squeeze(-1)).mean()
            loss.backward()
            opt_step()
            losses.append(loss.detach())
        torch.stack(losses)

    return run


def plain_jax(cfg, secret, optim, scan: bool):
    """k -> None: the plain jax.jit (or lax.scan) loop (see the module docstring)."""
    import jax
    import jax.numpy as jnp
    import optax
    s = jnp.asarray(secret)
    k1, k2 = jax.random.split(jax.random.PRNGKey(0))
    params = {"W1": jax.random.uniform(k1, (cfg.width, cfg.n), minval=-0.1, maxval=0.1),
              "b1": jnp.zeros(cfg.width), "w2": jax.random.uniform(k2, (cfg.width,), minval=-0.03, maxval=0.03),
              "b2": jnp.zeros(())}
    opt = optax.chain(optax.add_decayed_weights(optim.weight_decay), optax.sgd(optim.lr))

    def loss_fn(p, x, y):
        f = jax.nn.relu(x @ p["W1"].T + p["b1"]) @ p["w2"] + p["b2"]
        return jax.nn.relu(1 - y * f).mean()

    def step(carry, _):
        p, st, key = carry
        key, sub = jax.random.split(key)
        x = jax.random.rademacher(sub, (cfg.batch, cfg.n), jnp.float32)
        y = jnp.prod(x[:, s], axis=1)
        loss, g = jax.value_and_grad(loss_fn)(p, x, y)
        upd, st = opt.update(g, st, p)
        return (optax.apply_updates(p, upd), st, key), loss

    state = {"c": (params, opt.init(params), jax.random.PRNGKey(1))}
    if scan:
        import functools

        @functools.partial(jax.jit, static_argnums=1)
        def many(carry, k):
            return jax.lax.scan(step, carry, None, length=k)

        def run(k: int) -> None:
            state["c"], losses = many(state["c"], k)
            jax.block_until_ready(losses)
        return run
    one = jax.jit(step)

    def run(k: int) -> None:
        losses = []
        for _ in range(k):
            state["c"], loss = one(state["c"], None)
            losses.append(loss)
        jax.block_until_ready(losses)

    return run


def main(argv=None) -> int:
    ap = study.parser(__doc__, "probe-model-loop")
    ap.add_argument("--config", default="paper", choices=sorted(CONFIGS))
    ap.add_argument("--rounds", type=study.positive_int, default=15)
    args = ap.parse_args(argv)
    out = study.out_path(args.out, "probe-model-loop")
    from bench import frameworks, matrix, runners
    frameworks.pin_threads(1)
    frameworks.set_malloc("steady")
    from impls.models import get
    from impls.models.sparse_parity import spec
    config = CONFIGS[args.config]
    model = get("sparse-parity")
    cfg = model.config(**dict(config))
    secret = spec.secret(cfg, matrix.SEED)
    fns = {}
    for backend, variant in (("torch", "eager"), ("torch", "compiled"), ("jax", "jit"), ("jax", "scan")):
        fns[f"suite {backend}-{variant}"] = runners.build_step(
            matrix.ModelCase("sparse-parity", backend, variant, "cpu", "float32", config))[1]
    fns["plain torch.compile"] = plain_torch(cfg, secret, model.optim)
    fns["plain jax.jit"] = plain_jax(cfg, secret, model.optim, scan=False)
    fns["plain jax scan"] = plain_jax(cfg, secret, model.optim, scan=True)
    ks, compile_s = {}, {}
    for name, fn in fns.items():
        ks[name], _, compile_s[name] = runners.warm(fn)
        print(f"{name}: K={ks[name]}, compile {compile_s[name]:.2f} s", flush=True)
    per = {name: [] for name in fns}
    for _ in range(args.rounds):
        for name, fn in fns.items():
            per[name].append(runners.timed(fn, ks[name]) / ks[name])
    med = {name: statistics.median(v) for name, v in per.items()}
    pairs = {"torch-compiled / plain torch.compile": ("suite torch-compiled", "plain torch.compile"),
             "torch-eager / plain torch.compile": ("suite torch-eager", "plain torch.compile"),
             "jax-jit / plain jax.jit": ("suite jax-jit", "plain jax.jit"),
             "jax-scan / plain jax scan": ("suite jax-scan", "plain jax scan"),
             "jax-scan / plain jax.jit": ("suite jax-scan", "plain jax.jit")}
    ratios = {label: statistics.median(x / y for x, y in zip(per[a], per[b])) for label, (a, b) in pairs.items()}
    for name in fns:
        print(f"  {name:<22} {med[name] * 1e6:9.1f} us/step  (K={ks[name]})")
    for label, r in ratios.items():
        print(f"  {label:<38} {r:.2f}x")
    study.save(out, {"study": "probe_model_loop", "config": dict(config), "rounds": args.rounds,
                     "threads": 1, "steps_per_call": ks, "compile_seconds": compile_s,
                     "seconds_per_step": per, "median_seconds_per_step": med, "ratios": ratios,
                     "versions": frameworks.versions()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
