"""`paritybench report`: the docs' benchmark figures, rendered from the committed baseline.

    paritybench report                 # print every block, rendered from the baseline
    paritybench report --check         # exit 1 and name the docs whose blocks are stale
    paritybench report --write         # re-render the blocks in the docs, in place
    paritybench report RUN.json [BASELINE.json] --out page.html   # one self-contained HTML page

The baseline is the committed one that results/BASELINE names (``--run FILE`` for any other file). The docs are
README.md, results/README.md and docs/*.md; their blocks sit between ``<!-- report:NAME -->`` and
``<!-- /report:NAME -->`` (paritybench/report/docs.py). Bad input: one line, exit 2.
"""
from __future__ import annotations

from pathlib import Path

from ..report import docs
from ..store import resultfile


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="the docs' benchmark figures from the committed baseline",
                       description=__doc__)
    p.add_argument("--run", dest="run_file", metavar="RUN.json", help="the result file (default: the committed baseline, named in results/BASELINE)")
    p.add_argument("files", nargs="*", metavar="RUN.json [BASELINE.json]",
                   help="with --out: the run, and optionally a baseline to gate it against")
    p.add_argument("--out", metavar="PAGE.html", help="write one self-contained HTML page (a new file)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--check", action="store_true", help="exit 1 if a doc's block differs from the run's")
    g.add_argument("--write", action="store_true", help="re-render the docs' blocks in place")
    p.set_defaults(run=run)


def _docs() -> list[Path]:
    return [docs.ROOT / d for d in docs.DOCS if (docs.ROOT / d).is_file()]


def run(args) -> int:
    if args.out or args.files:
        return _page(args)
    path = Path(args.run_file) if args.run_file else docs.baseline_path()
    r = resultfile.load(path, "run")
    if args.check:
        bad = docs.stale(_docs(), r)
        for p in bad:
            print(f"stale: {p} (re-render: paritybench report --write)")
        print(f"{len(_docs()) - len(bad)} of {len(_docs())} docs match {path.name}")
        return 1 if bad else 0
    if args.write:
        for p in _docs():
            text = p.read_text()
            new = docs.fill(text, r)
            if new != text:
                p.write_text(new)
                print(f"rewrote {p}")
        return 0
    for name, fn in docs.BLOCKS.items():
        print(f"## {name}\n{fn(r)}")
    return 0


def _page(args) -> int:
    from ..render import page
    from ..store.files import check_new, write_new

    if not args.out:
        raise ValueError("out: got nothing; allowed: --out PAGE.html with RUN.json [BASELINE.json]")
    if not 1 <= len(args.files) <= 2 or args.check or args.write or args.run_file:
        raise ValueError(f"files: got {len(args.files)} files; allowed: RUN.json [BASELINE.json] with --out "
                         "(and no --run, --check or --write)")
    check_new(args.out, "out")  # before any work
    run_ = resultfile.load(args.files[0], "run")
    base = resultfile.load(args.files[1], "baseline") if len(args.files) == 2 else None
    write_new(args.out, page.page(run_, base), "out")
    print(f"wrote {args.out}")
    return 0
