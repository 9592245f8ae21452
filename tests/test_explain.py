"""`paritybench explain`: a step's time attributed to its ops, the shares of a cross-framework
ratio, the machine's floor, and the tiers kept apart. Checked on a small hand-made run whose
parts are known exactly (ns per element, n = 1e6)."""
from __future__ import annotations

import json

import pytest

from paritybench import cli
from paritybench.gate import compare
from paritybench.render import one_run
from paritybench.analyses import explain
from paritybench.store import resultfile

N = 1_000_000


def _bench(name: str, kind: str, seconds: float, per: int = 4, **info) -> dict:
    """A pytest-benchmark record: ``per`` steps or passes per call of ``seconds`` each."""
    call = seconds * per
    st = {k: call for k in ("min", "max", "mean", "median", "q1", "q3", "ld15iqr", "hd15iqr")}
    st.update(iqr=0.0, stddev=0.0, rounds=12, iterations=1, outliers="0;0", ops=1 / call, total=12 * call)
    key = "passes_per_call" if kind in ("floor", "op") else "steps_per_call"
    info = dict(kind=kind, device="cpu", dtype="float32", n=N, E=1, **{key: per}, **info)
    return {"name": f"test[{name}]", "fullname": f"bench/x.py::test[{name}]", "group": None,
            "params": None, "param": None, "extra_info": info, "stats": st, "options": {}}


def _ops(backend: str, tier: str, ns: dict) -> list[dict]:
    return [_bench(f"op-{backend}-{tier}-{o}", "op", v * 1e-9 * N, backend=backend, tier=tier, op=o)
            for o, v in ns.items()]


def _step(backend, variant, kind, ns, **extra):
    return _bench(f"{backend}-{variant}", kind, ns * 1e-9 * N, backend=backend, variant=variant,
                  optimizer="sgd", tier="tuned" if kind == "tuned" else "default", **extra)


def run_doc() -> dict:
    b = [
        _step("torch", "compiled", "throughput", 1.5, floor_ratio=1.5),
        _step("torch", "eager", "throughput", 14.0),
        _step("jax", "scan", "throughput", 45.0, floor_ratio=1.5),
        _step("jax", "scan-tuned", "tuned", 4.0),
        _bench("floor-torch", "floor", 1.0e-9 * N, backend="torch"),
        _bench("floor-jax", "floor", 30e-9 * N, backend="jax"),
        *_ops("torch", "default", dict(read=0.3, sin=0.8, cos=0.9, sincos=1.0, rest=0.5)),
        *_ops("jax", "default", dict(read=1.0, sin=15.0, cos=15.0, sincos=30.0, rest=6.0)),
        *_ops("jax", "tuned", dict(read=0.5, sin=1.5, cos=1.5, sincos=0.8, rest=1.5)),
    ]
    return {"machine_info": {"node": "x"}, "commit_info": {"id": "abc"}, "benchmarks": b,
            "datetime": "2026-11-26T00:00:00", "version": "5.3.1"}


@pytest.fixture
def run(tmp_path):
    p = tmp_path / "run.json"
    p.write_text(json.dumps(run_doc()))
    return resultfile.load(p, "run")


def test_parts_are_the_ops_and_sum_to_the_step(run):
    ops = explain._ops(run)
    jax = next(c for c in run.of_kind("throughput") if c.label == "jax-scan")
    p = explain.parts(jax, ops)
    assert p["read"] == pytest.approx(1.0) and p["sin+cos"] == pytest.approx(29.0)
    assert p["rest"] == pytest.approx(5.0) and p["other"] == pytest.approx(45.0 - 35.0)
    assert sum(p[k] for k in explain.PARTS) == pytest.approx(p["step"]) == pytest.approx(45.0)
    eager = next(c for c in run.of_kind("throughput") if c.label == "torch-eager")
    assert explain.parts(eager, ops)["other"] == pytest.approx(14.0 - 1.2)  # the unfused passes


def test_shares_add_up_to_the_ratio_and_name_the_op(run):
    a = {x["scope"]: x for x in explain.attributions(run)}
    d = a["default"]
    assert (d["slower"], d["faster"]) == ("jax-scan", "torch-compiled")
    assert d["ratio"] == pytest.approx(30.0)
    assert 1 + sum(d["shares"].values()) == pytest.approx(d["ratio"])
    # torch: read 0.3, sin+cos 0.7, rest 0.2, other 0.3; jax: 1, 29, 5, 10 -> shares / 1.5 ns
    assert d["shares"]["sin+cos"] == pytest.approx((29.0 - 0.7) / 1.5)
    assert d["explains"] == "sin+cos"
    t = a["any tier"]  # the tuned tier competes only here
    assert t["slower"] == "jax-scan-tuned" and t["ratio"] == pytest.approx(4.0 / 1.5)
    assert 1 + sum(t["shares"].values()) == pytest.approx(t["ratio"])
    assert "sin+cos explains most" in explain.sentence(d) and "= 30.0x = 1 + sin+cos +18.9x" in explain.sentence(d)


def test_machine_floor_is_the_cheapest_sincos_of_any_framework_and_tier(run):
    (key, (sec, who)), = explain.machine_floor(run).items()
    assert who == "jax tuned sincos" and sec == pytest.approx(0.8e-9 * N)
    rows = explain.step_table(run)[0].rows
    tc = next(r for r in rows if r[0] == "torch-compiled")
    assert tc[-1] == pytest.approx(1.5 / 0.8) and tc[-2] == pytest.approx(1.5)


def test_goal_line_within_and_not_within(run):
    assert explain.goal_lines(run) == ["float32 n=1e6 sgd: best jax jax-scan-tuned / best torch "
                                       "torch-compiled = 2.67x: within 3x"]
    assert "NOT within 2x" in explain.goal_lines(run, ratio=2.0)[0]


def test_tiers_stay_apart_in_compare_tables(run):
    tables = one_run.run_tables(run)
    titles = [t.title for t in tables]
    default = next(t for t in tables if t.title.startswith("n=1000000"))
    tuned = next(t for t in tables if t.title.startswith("tuned tier: "))
    assert all(r[0] != "jax-scan-tuned" for r in default.rows)
    assert [r[0] for r in tuned.rows] == ["jax-scan-tuned"]  # no default floors beside it either
    ops = next(t for t in tables if t.title.startswith("ops: "))
    jt = next(r for r in ops.rows if r[0] == "jax tuned")
    assert jt[1:6] == pytest.approx([0.5, 1.5, 1.5, 0.8, 1.5]), titles


def test_op_cases_are_per_pass_and_labelled(run):
    c = next(c for c in run.of_kind("op") if c.get("op") == "sin" and c.get("tier") == "tuned")
    assert c.seconds == pytest.approx(1.5e-9 * N) and c.label == "op-jax-tuned-sin"
    assert next(c for c in run.of_kind("op") if c.get("tier") == "default").label.startswith("op-torch-")


def test_explain_command(run, capsys, tmp_path):
    assert cli.main(["explain", run.path]) == 0
    out = capsys.readouterr().out
    assert "where the step goes, ns per element" in out and "sin+cos explains most" in out
    assert cli.main(["explain", run.path, "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert {a["scope"] for a in got["attributions"]} == {"default", "any tier"}
    bare = run_doc()
    bare["benchmarks"] = [b for b in bare["benchmarks"] if b["extra_info"]["kind"] != "op"]
    p = tmp_path / "bare.json"
    p.write_text(json.dumps(bare))
    assert cli.main(["explain", str(p)]) == 0
    assert "no step case here has op cases" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    assert cli.main(["explain", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "paritybench explain: error: run:" in err[0]


def test_tuned_and_op_cases_are_gated_like_steps(tmp_path):
    """A tuned step or an op 1.5x slower against its floor, in rounds that do not overlap, is a
    regression in compare (one process: judged on its rounds, with a noise profile's run-to-run sd
    for the case; without one a one-process case is too noisy, never slower: docs/compare.md)."""
    def with_rounds(d, factor):
        for b in d["benchmarks"]:
            e = b["extra_info"]
            if e["kind"] in ("tuned", "op", "throughput"):
                r = [2.0 + 0.01 * i for i in range(12)]
                e["paired_ratios"] = [v * (factor if b["fullname"].endswith(("scan-tuned]", "tuned-sin]")) else 1)
                                      for v in r]
                e["floor_ratio"] = sorted(e["paired_ratios"])[6]
        return d
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(with_rounds(run_doc(), 1.0)))
    new.write_text(json.dumps(with_rounds(run_doc(), 1.5)))
    a, b = resultfile.load(old, "old"), resultfile.load(new, "new")
    entry = {"sd_process": 0.0, "df_process": 0, "sd_run": 0.02, "df_run": 20, "runs": 21}
    profile = {"cases": {k: entry for k in a.cases}, "runs": ["r"] * 21, "path": "profile.json"}
    d = compare.compare_runs(a, b, profile=profile)
    slower = {r.case for r in d.rows if r.verdict == "slower"}
    assert slower == {"jax-scan-tuned", "op-jax-tuned-sin"}, d.rows
    d = compare.compare_runs(a, b, profile=None)
    assert not any(r.verdict == "slower" for r in d.rows), d.rows
    assert {r.verdict for r in d.rows if r.case in ("jax-scan-tuned", "op-jax-tuned-sin")} == {"too noisy"}


def test_parts_from_paired_ratios_cancel_the_machines_drift(tmp_path):
    """With paired floor ratios, a part is step x ratio(op) / ratio(step): ops timed while the
    machine ran 2x slower (their seconds doubled, their ratios to the floor unchanged) give the
    same parts."""
    d = run_doc()
    for b in d["benchmarks"]:
        e = b["extra_info"]
        if e["kind"] == "op" and e["backend"] == "jax" and e["tier"] == "default":
            ns = b["stats"]["median"] / e["passes_per_call"] / N * 1e9
            e["floor_ratio"] = ns / 30.0  # the jax floor pass: 30 ns per element
            for k in ("min", "max", "mean", "median", "q1", "q3"):
                b["stats"][k] *= 2  # timed in a slow minute
        if e.get("variant") == "scan":
            e["floor_ratio"] = 45.0 / 30.0
    p = tmp_path / "drift.json"
    p.write_text(json.dumps(d))
    run = resultfile.load(p, "run")
    jax = next(c for c in run.of_kind("throughput") if c.label == "jax-scan")
    got = explain.parts(jax, explain._ops(run))
    assert got["read"] == pytest.approx(1.0) and got["sin+cos"] == pytest.approx(29.0)
    assert got["rest"] == pytest.approx(5.0) and got["step"] == pytest.approx(45.0)
