"""Minimal repro: inductor's on-disk cache serves CPU kernels across a change of ATEN_CPU_CAPABILITY
and they compute wrong numbers. No paritybench code; torch (CPU build) and numpy only.

    python docs/bugs/inductor_cache_cpu_capability.py

On a CPU with AVX-512 it runs the same torch.compile'd Adam step of sin(x @ w)^2 MSE three times,
each in a fresh process: (1) native capability, cache dir D (fills it); (2) ATEN_CPU_CAPABILITY=avx2,
the same D; (3) ATEN_CPU_CAPABILITY=avx2, a new, empty cache dir. (2) should equal (3).
"""
import json
import os
import subprocess
import sys
import tempfile

CHILD = r"""
import json, numpy as np, torch
x = np.random.RandomState(0).randint(0, 1000, 1000).astype(np.float32).reshape(-1, 1)
x, y = torch.from_numpy(x), torch.from_numpy(x % 2)
w = torch.nn.Parameter(torch.tensor([[1.5]]))
opt = torch.optim.Adam([w], lr=0.01)

@torch.compile(dynamic=False)
def step():
    loss = ((torch.sin(x @ w) ** 2 - y) ** 2).mean()
    loss.backward()
    return loss

losses = []
for _ in range(3):
    opt.zero_grad()
    losses.append(float(step()))
    opt.step()
print(json.dumps({"capability": torch.backends.cpu.get_cpu_capability(), "losses": losses}))
"""


def run(cache: str, capability: str | None) -> dict:
    env = dict(os.environ, TORCHINDUCTOR_CACHE_DIR=cache)
    env.pop("ATEN_CPU_CAPABILITY", None)
    if capability:
        env["ATEN_CPU_CAPABILITY"] = capability
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True,
                         check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    import torch
    print(f"torch {torch.__version__}, native capability {torch.backends.cpu.get_cpu_capability()}")
    with tempfile.TemporaryDirectory() as shared, tempfile.TemporaryDirectory() as fresh:
        a = run(shared, None)
        b = run(shared, "avx2")
        c = run(fresh, "avx2")
    for label, r in (("1 native, cache D      ", a), ("2 avx2,   same cache D ", b),
                     ("3 avx2,   fresh cache  ", c)):
        print(f"{label} {r['capability']:>8}  losses " + " ".join(f"{v:.6f}" for v in r["losses"]))
    wrong = max(abs(p - q) for p, q in zip(b["losses"], c["losses"])) > 1e-5
    print("BUG REPRODUCED: run 2 differs from run 3" if wrong else "not reproduced: run 2 equals run 3")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
