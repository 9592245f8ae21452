"""docs/compare.md's generated blocks on the gate's noise and resolution (``paritybench report``; the
verdicts across machines and versions are report/ab.py's):
  gate-study     every committed results/gate-study-*/ judged by today's gate, with each pair's
                 resolution;
  resolution-study  the newest results/resolution-study-*/study-*.json (bench/studies/resolution_study.py):
                 A/A false calls over many case-sets, planted slowdowns' detection, quiet and beside a hog;
  noise-profile  the newest results/noise-profile-*.json (bench/studies/noise_profile.py);
  process-conditions  every committed results/process-conditions-*.json (bench/studies/process_conditions.py):
                 the between-process sd per case under each condition a process was started in;
  memory-control  the newest results/memory-control-*.json (bench/studies/memory_control.py);
  ab-power       the newest results/ab-power-*.json (bench/studies/ab_power.py): planted slowdowns
                 caught and false verdicts in one interleaved ab, its processes in groups of P.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from ..store.files import study_block
from ..store.resultfile import Run

ROOT = Path(__file__).resolve().parents[2]


def _dirs(pattern: str) -> list[Path]:
    return sorted(d for d in (ROOT / "results").glob(pattern) if d.is_dir())


def block_gate_study(run: Run) -> str:
    """The committed gate studies' A/A pairs and planted runs, judged by today's gate, each pair with
    its resolution summary."""
    from ..gate import rules as V, study
    dirs = study.study_dirs()
    if not dirs:
        return "no committed gate study (results/gate-study-*/)\n"
    out = [f"Judged by today's gate with its defaults (per case a threshold from its own noise, at most "
           f"{V.ALPHA:g} false verdicts per case, at least {100 * V.MIN_EFFECT:.0f}%; one process a side: at "
           f"least {100 * V.ROUNDS_ONLY_MIN_EFFECT:.0f}% and only with a noise profile's run-to-run sd for the "
           "case, else too noisy). Noise profile: each pair's own (`gate.noise.find_profile`), else an assumed "
           "run-to-run sd."]
    for d in dirs:
        f = study.gate_study_figures(d)
        first = f["first"]
        threads = (first.machine_info.get("threads") or {}).get("set")
        cpu = (first.machine_info.get("numeric") or {}).get("cpu_model", "?")
        procs = first.doc_extra.get("processes") or 1
        how = (f"{procs} processes per case" if procs > 1
               else "1 process per case (before replicas: judged on rounds only)")
        out += ["", f"`results/{d.name}`: {threads} thread{'' if threads == 1 else 's'}, {how}, {cpu}, "
                    f"{first.datetime[:16]} UTC", "",
                "| A/A pair | apart | slower | faster | too noisy | cases | resolution: median / 90% / worst | largest change |",
                "|---|---|---|---|---|---|---|---|"]
        for g in f["aa"]:
            res = [r.resolution for r in g["rows"] if r.resolution is not None]
            res.sort()
            noisy = sum(r.verdict == "too noisy" for r in g["rows"])
            summ = (f"{100 * res[len(res) // 2]:.0f}% / {100 * res[min(len(res) - 1, -(-9 * len(res) // 10) - 1)]:.0f}% / "
                    f"{100 * res[-1]:.0f}%") if res else "-"
            out.append(f"| {g['pair']} | {g['gap_min']:.0f} min | {len(g['slower'])} | {len(g['faster'])} | {noisy} | "
                       f"{g['cases']} | {summ} | {100 * (math.exp(g['max_effect']) - 1):.0f}% |")
        for g in f["aa"]:
            for label in ("slower", "faster"):
                if g[label]:
                    out += ["", f"{g['pair']}, called {label}: " + ", ".join(f"`{c}`" for c in g[label])]
        if f["planted"]:
            for c, r in f["planted"]["rows"].items():
                factor = f["planted"]["plant"][c]
                out += ["", f"Planted {factor:.2f}x in `{c}`, against the last A/A run: "
                        + (f"**{r.verdict}**, measured change {r.effect:.2f}x, resolution "
                           f"{100 * r.resolution:.1f}%" if r and r.resolution is not None else
                           f"**{r.verdict}**" if r else "case missing")
                        + f"; other cases called slower: {len(f['planted']['other_slower'])}."]
    return "\n".join(out) + "\n"


def block_resolution_study(run: Run) -> str:
    d = next((d for d in reversed(_dirs("resolution-study-*")) if list(d.glob("study-*.json"))), None)
    if d is None:
        return "no committed results/resolution-study-*/study-*.json (python -m bench.studies.resolution_study)\n"
    f = sorted(d.glob("study-*.json"))[-1]
    doc = json.loads(f.read_text())
    s, runs = doc["summary"], doc["figures"]["runs"]
    out = [f"`{f.relative_to(ROOT)}` (analysed {doc['when'][:16]} UTC; profile used: "
           f"{doc.get('profile') or 'none'}). Runs of `bench/test_throughput.py` (the seed model's steps and "
           "floors, default profile, CPU, 1 thread):", "",
           "| run | processes | planted in every step | hog (procs:on s:off s) | wall s |", "|---|---|---|---|---|"]
    for n, m in runs.items():
        out.append(f"| {n} | {m['processes']} | {m.get('plant_all') or '-'} | "
                   f"{':'.join(str(x) for x in m['hog']) if m.get('hog') else '-'} | {m['wall_seconds']:.0f} |")
    out += ["", "A/A: false verdicts (every 'slower' or 'faster' here is false), Clopper-Pearson 95% intervals:", "",
            "| case-sets | condition | sets | case-comparisons | false slower | false faster | per 1,000 (95% CI) | sets with a false verdict (95% CI) | too noisy per set |",
            "|---|---|---|---|---|---|---|---|---|"]
    for key, e in s.items():
        if not key.startswith(("splits_", "pairs_", "ab_")):
            continue
        kind, cond = key.split("_", 1)
        what = {"splits": "4 vs 3 splits of one 8-process run's replicas", "pairs": "separate runs (the committed studies' disjoint pairs, each judged with a profile of the other runs; the study's own runs with the committed profile)",
                "ab": "`paritybench ab` A/A (quick profile, 4 per side)"}[kind]
        lo, hi = e["false_per_1000_ci95"]
        slo, shi = e["sets_ci95"]
        out.append(f"| {what} | {cond} | "
                   f"{e['case_sets']} | {e['case_comparisons']} | {e['false_slower']} | {e['false_faster']} | "
                   f"{e['false_per_1000']:.2f} ({lo:.2f}-{hi:.2f}) | {e['sets_with_a_false_call']} ({100 * slo:.0f}%-{100 * shi:.0f}%) | "
                   f"{e['too_noisy_per_set']:.1f} |")
    plants = [(k, e) for k, e in s.items() if k.startswith("plant_")]
    if plants:
        out += ["", "Planted slowdowns (every step case of a run planted; each planted run against the A/A runs of "
                "its condition): detected = called 'slower'.", "",
                "| condition | planted | size | tries | slower | too noisy | faster (false) | detected |",
                "|---|---|---|---|---|---|---|---|"]
        for k, e in sorted(plants):
            _, cond, factor, size = k.split("_")
            out.append(f"| {cond} | {float(factor):.2f}x | {size} | {e['tries']} | {e['slower']} | {e['too_noisy']} | "
                       f"{e['false_faster']} | {100 * e['slower'] / e['tries']:.0f}% |" if e["tries"] else
                       f"| {cond} | {float(factor):.2f}x | {size} | 0 | - | - | - | - |")
    res = doc.get("resolution")
    if res:
        out += ["", "Resolution of the quiet separate-run pairs (the gate between two `make bench` runs):", ""]
        out += [f"- {line}" for line in res]
    return "\n".join(out) + "\n"


@study_block("noise-profile-*.json", "bench.studies.noise_profile")
def block_noise_profile(p: Path, doc: dict) -> str:
    cases = doc["cases"]
    sd_run = sorted(e["sd_run"] for e in cases.values())
    sd_p = sorted(e["sd_process"] for e in cases.values())
    wide = sorted(cases.items(), key=lambda kv: -kv[1]["sd_run"])[:6]
    out = [f"`results/{p.name}`: {len(cases)} cases from {len(doc['runs'])} A/A runs "
           f"({', '.join(f'`{r}`' for r in doc['runs'])}).", "",
           f"- run-to-run sd of a case's mean (at least {100 * 0.005:.1f}%): median {100 * sd_run[len(sd_run) // 2]:.1f}%, "
           f"largest {100 * sd_run[-1]:.1f}%",
           f"- between-process sd within a run: median {100 * sd_p[len(sd_p) // 2]:.1f}%, largest {100 * sd_p[-1]:.1f}%",
           "", "| case | run-to-run sd | between-process sd | runs |", "|---|---|---|---|"]
    out += [f"| {k.split('[')[-1][:-1]} | {100 * e['sd_run']:.1f}% | {100 * e['sd_process']:.1f}% | {e['runs']} |"
            for k, e in wide]
    return "\n".join(out) + "\n"


def block_process_conditions(run: Run) -> str:
    files = sorted((ROOT / "results").glob("process-conditions-*.json"))
    if not files:
        return "no committed results/process-conditions-*.json (python -m bench.studies.process_conditions)\n"
    out = []
    for p in files:
        doc = json.loads(p.read_text())
        sd = doc["between_process_sd"]
        conds = list(sd)
        out += [f"`results/{p.name}`: {doc['runs']} fresh one-process runs per condition, interleaved; "
                "between-process sd of the paired ratio's median:", "",
                "| case | " + " | ".join(conds) + " |", "|---|" + "---|" * len(conds)]
        out += [f"| {c} | " + " | ".join(f"{100 * sd[k][c]:.1f}%" for k in conds) + " |" for c in sd[conds[0]]]
        out.append("")
    return "\n".join(out)


def memory_control_table(result: dict) -> list[str]:
    """bench/studies/memory_control.py's figures per case, as a markdown table."""
    out = ["| case | window sd | process sd | lag-1 | adjusted window sd | sd of process means | adjusted |",
           "|---|---|---|---|---|---|---|"]
    for c, r in result.items():
        out.append(f"| {c} | {100 * r['window_sd']:.1f}% | {100 * r['process_sd']:.1f}% | {r['lag1']:+.2f} | "
                   f"{100 * r['adjusted_window_sd']:.1f}% | {100 * r['process_means_sd']:.1f}% | "
                   f"{100 * r['adjusted_process_means_sd']:.1f}% |")
    return out


@study_block("memory-control-*.json", "bench.studies.memory_control")
def block_memory_control(p: Path, doc: dict) -> str:
    head = (f"`results/{p.name}`: {doc['processes']} fresh processes one after another, {doc['seconds']} s "
            f"each, {doc['window']}-second windows, {doc.get('cpu') or 'CPU not recorded'}; copies of "
            f"{doc['l3_bytes'] >> 20} MiB (l3) and {doc['dram_bytes'] >> 20} MiB (dram):")
    return "\n".join([head, ""] + memory_control_table(doc["result"])) + "\n"


def ab_power_table(doc: dict) -> list[str]:
    """bench/studies/ab_power.py's figures as a markdown table."""
    out = ["| P a side | groups | planted: caught (too noisy) of tries | unplanted: false verdicts of comparisons (95% CI per 1,000) | resolve 5% at n >= 1e5 | resolve 10% at n = 1e3 |",
           "|---|---|---|---|---|---|"]
    for p, t in doc["by_processes"].items():
        caught = "; ".join(f"{k}: {v['slower']} ({v['too noisy']}) of {v['tries']}" for k, v in sorted(t["planted"].items()))
        u = t["unplanted"]
        lo, hi = u["false_per_1000_ci95"]
        n_large, n_small = doc["cases"]["large"], doc["cases"]["small"]
        out.append(f"| {p} | {t['groups']} | {caught} | {u['slower'] + u['faster']} of {u['comparisons']} "
                   f"({lo:.1f}-{hi:.1f}) | {', '.join(str(x) for x in t['resolve']['large'])} of {n_large} | "
                   f"{', '.join(str(x) for x in t['resolve']['small'])} of {n_small} |")
    return out


@study_block("ab-power-*.json", "bench.studies.ab_power")
def block_ab_power(p: Path, doc: dict) -> str:
    planted = sorted({f"{v:g}x" for v in doc["planted"].values()})
    head = (f"`results/{p.name}`, from `{doc['ab_dir']}`: {len(doc['planted'])} step cases planted slower on "
            f"side B ({', '.join(planted)}), the other {doc['cases']['large'] + doc['cases']['small'] - len(doc['planted'])} "
            "left as they were; each group of P processes a side judged by compare's rule on its own:")
    return "\n".join([head, ""] + ab_power_table(doc)) + "\n"


BLOCKS = {"gate-study": block_gate_study, "resolution-study": block_resolution_study,
          "noise-profile": block_noise_profile, "process-conditions": block_process_conditions,
          "memory-control": block_memory_control, "ab-power": block_ab_power}
