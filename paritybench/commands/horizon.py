"""`paritybench horizon`: the first non-negative integer each backend misclassifies with w.

Default w: the best representable pi/2 of the dtype (fl32(pi/2) or fl64(pi/2)). float32 is
exhaustive (x = 0..2^24+1 through each backend's own float32 sin); float64 is the proof-backed
bound plus an exact scan, checked in each backend (see ``impls.horizon``).
"""
from __future__ import annotations

import json

from impls import horizon as hz
from impls import registry
from impls.spec import DTYPES, canonical_device

from .train import _number
from ..store.files import check_new, write_new


def add_parser(sub) -> None:
    p = sub.add_parser("horizon", help="first misclassified integer per backend and dtype", description=__doc__)
    p.add_argument("--dtype", nargs="+", default=list(DTYPES), help=" and/or ".join(DTYPES) + " (default: both)")
    p.add_argument("--w", type=_number(float), default=None, help="the weight (default: fl(pi/2) of each dtype)")
    p.add_argument("--backend", nargs="+", metavar="NAME", help="backends (default: all available)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--json", metavar="FILE", help="write the results here (new file)")
    p.set_defaults(run=run)


def run(args) -> int:
    device = canonical_device(args.device)
    for dt in args.dtype:
        hz._check_dtype(dt)
    names = args.backend or list(registry.BACKENDS)
    for b in names:
        registry.check_variant(b, None)  # unknown backend -> ValueError
    if args.w is not None:
        hz.rounded(args.w, "float64")
    if args.json:
        check_new(args.json, field="json")
    rows = []
    for dt in args.dtype:
        w = hz.best_pi_half(dt) if args.w is None else args.w
        D, k = hz.offset(w, dt)
        safe = hz.safe_bound(w, dt)
        print(f"{dt}: w = {hz.rounded(w, dt)!r}  D = w - (pi/2 + {k} pi) = {D:.6e}  "
              f"proved correct below {safe}  (pi/4 / |D| = {abs(3.141592653589793 / 4 / D):.6e})")
        for b in names:
            ok, why = registry.available(b, device if b != "reference" else "cpu")
            if not ok:
                print(f"  {b:<10} skipped ({why})")
                continue
            r = hz.horizon(b, w, dt, device if b != "reference" else "cpu")
            print(f"  {b:<10} first misclassified x = {r.first}  (exact-sin model: {r.model_first}; "
                  f"{r.how}; agrees: {r.checks.get('agrees_with_model')})")
            rows.append({"backend": b, "dtype": dt, "w": r.w, "offset": r.offset, "first": r.first,
                         "model_first": r.model_first, "safe_bound": r.safe_bound, "how": r.how,
                         "checks": r.checks})
    if args.json:
        write_new(args.json, json.dumps({"kind": "horizon", "rows": rows}, indent=1), field="json")
        print(f"wrote {args.json}")
    return 0
