"""Truncated artifacts in the compile caches the suite owns: found, removed, said (issue #34).

An interrupt (Ctrl-C, SIGTERM, a killed replica) during a compile can leave a cached file cut
short, and the compilers trust what they find: inductor builds a kernel only if its ``.o``/``.so``
is missing and then loads it ("file too short", pytorch/pytorch#102539, every later run of the
case fails); JAX writes a cache entry in place and never replaces one, so a cut entry is
compiled anew, with a warning, in every later process. docs/bugs/inductor-truncated-so.md.

Owned caches, and only these are touched:
  inductor  the suite's keyed TORCHINDUCTOR_CACHE_DIR (``paritybench-<numeric key>``,
            impls/torch_backend.py): a ``.so``/``.o`` beside its ``.cpp`` that is empty, has no ELF
            header or ends before its section table; an empty FX graph or AOTAutograd cache entry
  jax       a JAX persistent compilation cache of the suite's own (the replicas' run cache,
            bench/replicas.py): an entry (``*-cache``) that is empty or whose compressed stream
            ends early; an access-time file (``*-atime``) that is not 8 bytes

  scan(kind, directory) -> [Repair]      what is truncated (nothing removed)
  repair(kind, directory) -> [Repair]    the same, removed
  repair_owned(jax_dir=None) -> [Repair] repair every suite inductor directory (and jax_dir)
  failed_load(text, directory) -> [Repair]  the objects a failed load names ("file too short",
                                         "invalid ELF header", ...), removed
  line(repairs, when) -> str             the one line that says what was removed and why
"""
from __future__ import annotations

import os
import re
import zlib
from dataclasses import asdict, dataclass

KINDS = ("inductor", "jax")
ELF_MAGIC = b"\x7fELF"
ELF_HEADER = 64          # bytes of an ELF64 header: what a whole object has at least
OWNED_INDUCTOR = "paritybench-"  # the suite's inductor cache directories start so (torch_backend.key_inductor_cache)
ENTRY_DIRS = ("fxgraph", "aotautograd")  # inductor's pickled cache entries (written whole, then renamed)
# What a loader or linker says about a cut object; the path it names is taken from the same text.
LOAD_ERRORS = re.compile(r"file too short|invalid ELF header|file truncated|file format not recognized|"
                         r"not an ELF file|ELF file too short")
_PATH = re.compile(r"(/[^\s:'\"]+\.(?:so|o))\b")


@dataclass(frozen=True)
class Repair:
    cache: str   # inductor | jax
    root: str    # the cache directory
    path: str    # the removed file, absolute
    why: str

    def as_dict(self) -> dict:
        return asdict(self)


def elf_problem(path: str) -> str | None:
    """Why ``path`` is not a whole ELF object (empty, no ELF header, ends before its section
    table: the linker writes that table last), else None."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(ELF_HEADER)
    except OSError as e:
        return f"unreadable ({e.strerror})"
    if size == 0:
        return "empty (0 bytes)"
    if len(head) < ELF_HEADER or head[:4] != ELF_MAGIC:
        return f"{size} bytes without an ELF header"
    if head[4] != 2:  # ELFCLASS32: the offsets below are ELF64's
        return None
    order = "little" if head[5] == 1 else "big"
    shoff = int.from_bytes(head[0x28:0x30], order)
    end = shoff + int.from_bytes(head[0x3A:0x3C], order) * int.from_bytes(head[0x3C:0x3E], order)
    return f"{size} bytes, cut short (its section table ends at byte {end})" if end > size else None


def _has_source(path: str) -> bool:
    """Whether an inductor object sits beside the ``.cpp`` it is built from (x.so, x.o <- x.cpp;
    x.main.so <- x.main.cpp): a kernel of inductor's, not some other file."""
    return os.path.isfile(path.rsplit(".", 1)[0] + ".cpp")


def jax_entry_problem(path: str) -> str | None:
    """Why a JAX persistent-cache file is cut short, else None: an entry (``*-cache``, zlib or zstd
    compressed) empty or whose stream ends early; an access time (``*-atime``) not 8 bytes."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return f"unreadable ({e.strerror})"
    if path.endswith("-atime"):
        return None if len(data) == 8 else f"access-time file of {len(data)} bytes (8 expected)"
    if not data:
        return "empty (0 bytes)"
    if data[:4] == b"\x28\xb5\x2f\xfd":  # a zstd frame
        try:
            import zstandard
        except ImportError:
            return None  # jax wrote it with zstandard; without it here it cannot be judged
        d = zstandard.ZstdDecompressor().decompressobj()
        try:
            d.decompress(data)
        except zstandard.ZstdError as e:
            return f"{len(data)} bytes that do not decompress ({e})"
        return None if d.eof else f"{len(data)} bytes, its compressed stream ends early"
    d = zlib.decompressobj()
    try:
        d.decompress(data)
    except zlib.error as e:
        return f"{len(data)} bytes that do not decompress ({e})"
    return None if d.eof else f"{len(data)} bytes, its compressed stream ends early"


def owned(kind: str, directory: str | os.PathLike | None) -> bool:
    """Whether ``directory`` is a cache of the suite's own that may be repaired: an inductor
    directory named ``paritybench-*``; a JAX directory is owned when the suite made it (callers
    pass only those)."""
    if kind not in KINDS:
        raise ValueError(f"cache: got {kind!r}; allowed: one of {', '.join(KINDS)}")
    if not directory or not os.path.isdir(directory):
        return False
    return kind == "jax" or os.path.basename(os.path.abspath(directory)).startswith(OWNED_INDUCTOR)


def _files(directory: str):
    for root, _, names in os.walk(directory):  # os.walk does not follow symbolic links
        for n in names:
            p = os.path.join(root, n)
            if not os.path.islink(p):
                yield p


def inductor_dirs(base: str | os.PathLike | None) -> list[str]:
    """The suite's inductor cache directories at ``base`` (TORCHINDUCTOR_CACHE_DIR as set or
    inherited): ``base`` itself if it is one (``paritybench-*``), else its ``paritybench-*``
    subdirectories (one per torch version and CPU key)."""
    if not base or not os.path.isdir(base):
        return []
    base = os.path.abspath(base)
    if os.path.basename(base).startswith(OWNED_INDUCTOR):
        return [base]
    return sorted(e.path for e in os.scandir(base) if e.is_dir(follow_symlinks=False)
                  and e.name.startswith(OWNED_INDUCTOR))


def scan(kind: str, directory: str | os.PathLike | None) -> list[Repair]:
    """The truncated artifacts in cache ``directory`` of ``kind``; [] if it is not owned."""
    if not owned(kind, directory):
        return []
    d = os.path.abspath(directory)
    return [Repair(kind, d, p, why) for p in _files(d) if (why := _problem(kind, d, p))]


def _problem(kind: str, root: str, path: str) -> str | None:
    """Why ``path`` in cache ``root`` of ``kind`` is cut short, else None (also for files not judged)."""
    name = os.path.basename(path)
    if kind == "jax":
        return jax_entry_problem(path) if name.endswith(("-cache", "-atime")) else None
    if name.endswith((".so", ".o")) and _has_source(path):
        return elf_problem(path)
    if os.path.relpath(path, root).split(os.sep)[0] in ENTRY_DIRS and not name.endswith(".lock"):
        return "empty cache entry (0 bytes)" if os.path.getsize(path) == 0 else None
    return None


def _remove(found: list[Repair]) -> list[Repair]:
    """Unlink each file; an inductor object only while holding inductor's lock of its build
    (``locks/<key>.lock``, the lock ``_worker_compile_cpp`` builds under): one another process is
    building now is left alone."""
    import fcntl

    done = []
    for r in found:
        lock = os.path.join(r.root, "locks", os.path.basename(r.path).split(".")[0] + ".lock")
        fd = None
        if r.cache == "inductor" and os.path.isfile(lock):
            fd = os.open(lock, os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue  # being built by another process right now
        try:
            if not _problem(r.cache, r.root, r.path):
                continue  # written whole meanwhile
            os.unlink(r.path)
            done.append(r)
        except FileNotFoundError:
            continue  # another process removed it meanwhile
        finally:
            if fd is not None:
                os.close(fd)  # releases the lock
    return done


def repair(kind: str, directory: str | os.PathLike | None) -> list[Repair]:
    """Remove the truncated artifacts ``scan`` finds; returns what was removed."""
    return _remove(scan(kind, directory))


def failed_load(text: str, directory: str | os.PathLike | None) -> list[Repair]:
    """After a compile or load failed with ``text`` (an exception's message): remove each object it
    names that lies in the owned inductor cache ``directory`` and is not a whole ELF object.
    [] when the text is no such failure, or names nothing there (the failure is not the cache's)."""
    if not LOAD_ERRORS.search(text) or not owned("inductor", directory):
        return []
    d = os.path.realpath(directory)
    found = []
    for p in dict.fromkeys(_PATH.findall(text)):
        real = os.path.realpath(p)
        if os.path.commonpath([real, d]) == d and os.path.isfile(real) and (why := elf_problem(real)):
            found.append(Repair("inductor", d, real, f"{why}; loading it failed"))
    return _remove(found)


def line(repairs: list[Repair], when: str) -> str:
    """One line: what was removed from which cache, and why."""
    if not repairs:
        return ""
    parts = "; ".join(f"{os.path.relpath(r.path, r.root)} ({r.why})" for r in repairs[:4])
    more = f" and {len(repairs) - 4} more" if len(repairs) > 4 else ""
    dirs = sorted({r.root for r in repairs})
    return (f"cache repair ({when}): removed {len(repairs)} truncated file{'s' * (len(repairs) > 1)} "
            f"(what an interrupted compile leaves) from {', '.join(dirs)}: {parts}{more}; compiled again when needed")


def inductor_base() -> str:
    """Inductor's cache directory as this process would choose it: TORCHINDUCTOR_CACHE_DIR, else
    inductor's default, ``$TMPDIR/torchinductor_<user>`` (``default_cache_dir``, without torch)."""
    import getpass
    import tempfile
    if os.environ.get("TORCHINDUCTOR_CACHE_DIR"):
        return os.path.abspath(os.environ["TORCHINDUCTOR_CACHE_DIR"])
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid_{os.getuid()}"
    return os.path.join(tempfile.gettempdir(), "torchinductor_" + re.sub(r'[\\/:*?"<>|]', "_", user))


def repair_owned(jax_dir: str | os.PathLike | None = None) -> list[Repair]:
    """``repair`` every cache this process owns: the suite's inductor directories at
    ``inductor_base()``, and ``jax_dir`` (a JAX cache the suite made) if given."""
    found = [r for d in inductor_dirs(inductor_base()) for r in repair("inductor", d)]
    return found + (repair("jax", jax_dir) if jax_dir else [])
