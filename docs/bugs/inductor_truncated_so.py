"""Minimal repro: an interrupt during inductor's C++ build leaves a truncated kernel in its on-disk
cache, and every later run that needs that kernel fails ("file too short"). No paritybench code;
torch (CPU build) only. Upstream: pytorch/pytorch#102539.

    python docs/bugs/inductor_truncated_so.py [--trials 10]

1. A reference run of a tiny torch.compile'd function in a fresh cache directory (TORCHINDUCTOR_CACHE_DIR
   and TMPDIR both new), its cache watched every millisecond: when the kernel's ``*.main.cpp``
   appears, and when its ``.so`` appears and reaches its final size (the build's write window).
2. Trials, each in a fresh cache: the same run, SIGINT to its whole process group (as Ctrl-C in a
   terminal sends it) at a chosen delay after the kernel's ``*.main.so`` appeared, the delays
   spread over the reference's write window and past it; what each left in the cache.
3. For the first trial that left a truncated file: the same run again, not interrupted, on its
   cache: its last error line.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import torch
@torch.compile
def f(x):
    return (torch.sin(x) ** 2).sum()
print("result", float(f(torch.arange(1000.0))), flush=True)
"""
ELF = b"\x7fELF"


def artifacts(cache: str) -> dict[str, int]:
    """{path: bytes} of the compiled objects (.so, .o) under ``cache``."""
    out = {}
    for root, _, names in os.walk(cache):
        for n in names:
            if n.endswith((".so", ".o")):
                p = os.path.join(root, n)
                try:
                    out[p] = os.path.getsize(p)
                except OSError:
                    pass
    return out


def truncated(path: str) -> str | None:
    """Why ``path`` is not a whole ELF object (empty, no ELF magic, section table past its end), else None."""
    with open(path, "rb") as f:
        head = f.read(64)
    size = os.path.getsize(path)
    if size == 0:
        return "empty"
    if head[:4] != ELF or len(head) < 64:
        return f"{size} bytes, no ELF header"
    shoff = int.from_bytes(head[0x28:0x30], "little")
    end = shoff + int.from_bytes(head[0x3A:0x3C], "little") * int.from_bytes(head[0x3C:0x3E], "little")
    return f"{size} bytes, its section table ends at {end}" if end > size else None


def start(cache: str) -> subprocess.Popen:
    env = dict(os.environ, TORCHINDUCTOR_CACHE_DIR=os.path.join(cache, "inductor"), TMPDIR=cache)
    return subprocess.Popen([sys.executable, "-c", CHILD], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def main_cpp(cache: str) -> bool:
    return any(n.endswith(".main.cpp") for _, _, ns in os.walk(cache) for n in ns)


def watch_reference(cache: str) -> dict:
    """Seconds after ``*.main.cpp`` appeared at which its .so appeared and reached its final size."""
    p = start(cache)
    t_cpp = None
    seen: dict[str, list] = {}  # .so path -> [first seen, first seen non-empty, last size change, size]
    while p.poll() is None:
        now = time.perf_counter()
        if t_cpp is None and main_cpp(cache):
            t_cpp = now
        if t_cpp is not None:
            for path, size in artifacts(cache).items():
                if path.endswith(".main.so"):
                    rec = seen.setdefault(path, [now, None, now, size])
                    if size and rec[1] is None:
                        rec[1] = now
                    if size != rec[3]:
                        rec[2:] = [now, size]
        time.sleep(0.001)
    out, err = p.communicate()
    if p.returncode != 0 or t_cpp is None or not seen:
        raise SystemExit(f"reference run: exit {p.returncode}, main.cpp seen {t_cpp is not None}: "
                         f"{(err.strip().splitlines() or ['no output'])[-1]}")
    first, filled, last, size = next(iter(seen.values()))
    return {"so_appears": first - t_cpp, "so_filled": (filled or last) - t_cpp, "so_complete": last - t_cpp,
            "so_bytes": size}


def interrupt(cache: str, delay: float, timeout: float = 120.0) -> tuple[int | None, dict]:
    """SIGINT to the run's process group ``delay`` s after ``*.main.so`` appeared; (exit code, artifacts)."""
    p = start(cache)
    t_so = None
    while p.poll() is None:
        now = time.perf_counter()
        if t_so is None and any(k.endswith(".main.so") for k in artifacts(cache)):
            t_so = now
        if t_so is not None and now - t_so >= delay:
            os.killpg(p.pid, signal.SIGINT)
            break
        time.sleep(0.001)
    try:
        p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
    return p.returncode, artifacts(cache)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=10, help="interrupted runs (default 10)")
    args = ap.parse_args()
    import torch
    print(f"torch {torch.__version__}, python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    root = tempfile.mkdtemp(prefix="inductor-truncated-so-")
    try:
        ref = watch_reference(os.path.join(root, "ref"))
        a, b = ref["so_appears"], ref["so_complete"]
        print(f"reference: from main.cpp's appearance, main.so appears at {a:.3f} s, is empty until "
              f"{ref['so_filled']:.3f} s and complete ({ref['so_bytes']} bytes) at {b:.3f} s: an incomplete "
              f"main.so exists for {1e3 * (b - a):.0f} ms (polled every ms)")
        # delays after main.so appeared: spread over twice the reference's write window
        n = max(2, args.trials)
        delays = [2 * (b - a) * i / (n - 1) for i in range(n)]
        bad_cache = None
        for i, d in enumerate(delays):
            cache = os.path.join(root, f"t{i}")
            rc, objs = interrupt(cache, d)
            bad = {p: why for p in objs if (why := truncated(p))}
            what = "; ".join(f"{os.path.basename(p)}: {why}" for p, why in bad.items()) or "nothing truncated"
            print(f"SIGINT {1e3 * d:4.0f} ms after main.so appeared: exit {rc}, {len(objs)} objects, {what}")
            if bad and bad_cache is None:
                bad_cache = cache
        if bad_cache is None:
            print("not reproduced: no interrupt left a truncated file")
            return 0
        p = start(bad_cache)
        out, err = p.communicate(timeout=600)
        lines = err.strip().splitlines() or out.strip().splitlines() or ["no output"]
        last = next((x for x in reversed(lines) if "too short" in x or "ELF" in x), lines[-1])
        print(f"next run on that cache: exit {p.returncode}: {last.strip()}")
        print("BUG REPRODUCED" if p.returncode else "the next run recovered")
        return 1 if p.returncode else 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
