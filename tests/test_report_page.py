"""The one-page HTML report (`paritybench report RUN [BASELINE] --out page.html`): its structure, and
the page in a real browser (headless Chromium: `make test` installs Debian's chromium where none is).

Inputs: the SYNTHETIC fixture tests/data/run_synthetic.json (tests/data/make_synthetic.py) and copies
of it changed in known ways (a planted slowdown, cases removed, another CPU).
"""
from __future__ import annotations

import base64
import html
import io
import json
import os
import shutil
import signal
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from paritybench import cli

DATA = Path(__file__).parent / "data"
RUN = DATA / "run_synthetic.json"
SLOW = "test_step[torch-compiled-cpu-f32-n1000-sgd-E1]"  # planted 1.6x slower in the new run
DROPPED = ("test_step[jax-jit-cpu-f32-n100000-sgd-E1]", "test_step[jax-jit-cpu-f32-n1000000-sgd-E1]")
FIGURES = {"fig-gate", "fig-time-to-train", "fig-step-time", "fig-agreement"}


def main(args, capsys):
    rc = cli.main(args)
    out, err = capsys.readouterr()
    return rc, out, err


def derived(tmp_path, name: str, slow: float = 1.0, drop=(), cpu: str | None = None, partial=False) -> Path:
    """A copy of the fixture: case SLOW's steps ``slow`` times slower against its floor, ``drop``
    removed, the CPU renamed to ``cpu``, or marked interrupted."""
    d = json.loads(RUN.read_text())
    d["benchmarks"] = [b for b in d["benchmarks"] if b["name"] not in drop]
    for b in d["benchmarks"]:
        if b["name"] == SLOW:
            e = b["extra_info"]
            e["process_paired_ratios"] = [[v * slow for v in g] for g in e["process_paired_ratios"]]
            e["paired_ratios"] = [v * slow for v in e["paired_ratios"]]
            e["floor_ratio"] *= slow
    if cpu:
        d["machine_info"]["numeric"]["cpu_model"] = cpu
        d["machine_info"]["cpu"]["brand_raw"] = cpu
    if partial:
        d["paritybench"].update(interrupted=True, not_run=["bench/test_tools.py::test_plot"])
    p = tmp_path / f"{name}.json"
    p.write_text(json.dumps(d))
    return p


class Page(HTMLParser):
    """Tags, ids, src/href values, figures (id, img attributes, caption) and <details> summaries."""

    def __init__(self, text: str):
        super().__init__()
        self.tags, self.ids, self.srcs, self.figures, self.summaries, self.text = [], set(), [], {}, [], []
        self._fig = self._in = None
        self.rows: dict[str, list[list[str]]] = {}
        self._table = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        self.ids.add(a.get("id"))
        self.srcs += [a[k] for k in ("src", "href") if a.get(k)]
        if tag == "figure":
            self._fig = self.figures.setdefault(a.get("id"), {"caption": ""})
        elif tag == "img" and self._fig is not None:
            self._fig["img"] = a
        elif tag == "table":
            self._table = self.rows.setdefault(a.get("id") or str(len(self.rows)), [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        self._in = tag

    def handle_endtag(self, tag):
        if tag == "figure":
            self._fig = None
        elif tag == "table":
            self._table = None
        self._in = None

    def handle_data(self, data):
        self.text.append(data)
        if self._in == "figcaption" and self._fig is not None:
            self._fig["caption"] += data
        elif self._in == "summary":
            self.summaries.append(data)
        elif self._in in ("td", "span") and self._table is not None and self._table:
            self._table[-1].append(data)


def page_with_baseline(tmp_path, capsys) -> Path:
    old = derived(tmp_path, "old", drop=DROPPED[:1])
    new = derived(tmp_path, "new", slow=1.6, drop=DROPPED[1:])
    out = tmp_path / "page.html"
    rc, text, err = main(["report", str(new), str(old), "--out", str(out)], capsys)
    assert rc == 0 and text.strip() == f"wrote {out}", err
    return out


def test_report_page_leads_with_the_answer_then_the_gate_and_the_figures(tmp_path, capsys):
    out = page_with_baseline(tmp_path, capsys)
    text = out.read_text()
    page = Page(text)
    assert "script" not in page.tags and "link" not in page.tags and "iframe" not in page.tags
    assert all(s.startswith("data:image/png;base64,") for s in page.srcs)  # nothing from outside
    assert set(page.figures) == FIGURES
    for fid, f in page.figures.items():
        png = base64.b64decode(f["img"]["src"].split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n", fid
        w, h = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")  # IHDR
        assert (w, h) == (int(f["img"]["width"]), int(f["img"]["height"])) and w > 100 and h > 100, fid
        assert f["img"]["alt"] and 20 < len(f["caption"]) < 240 and "\n" not in f["caption"], fid
    # order: the answer, the gate's verdicts, then the figures, the tables, the machine
    pos = [text.index(s) for s in ('id="answer"', 'id="gate"', 'id="fig-gate"', 'id="fig-time-to-train"',
                                   'id="fig-step-time"', 'id="fig-agreement"', 'id="tables"', 'id="machine"')]
    assert pos == sorted(pos)
    body = "".join(page.text)
    assert "REGRESSION (1)" in body and "torch-compiled-cpu-f32-n1000-sgd-E1: slower, 1.6" in body
    assert "2 cases are in one file only: 1 only in the baseline, 1 only in this run." in body
    assert "only in the baseline (1)" in page.summaries and "only in this run (1)" in page.summaries
    assert any(s.startswith("every case of this run") for s in page.summaries)
    assert len(text.encode()) < 3e6


def test_machine_info_is_a_table_with_the_differences_first(tmp_path, capsys):
    new = derived(tmp_path, "new", cpu="Planted CPU 9000")
    out = tmp_path / "page.html"
    assert main(["report", str(new), str(RUN), "--out", str(out)], capsys)[0] == 0
    page = Page(out.read_text())
    rows = [r for r in page.rows["machine-table"] if r]
    assert all(len(r) in (2, 3) for r in rows)  # field, value (and the baseline's value, in a note)
    assert rows[0][:2] == ["CPU", "Planted CPU 9000 "] and "baseline: AMD EPYC" in rows[0][2]
    assert all(len(r) == 2 for r in rows[1:])  # nothing else differs
    assert {"threads per process", "torch", "jax / jaxlib", "numpy", "processes per case"} <= {r[0] for r in rows}
    assert "the full machine record (machine_info)" in page.summaries
    assert "fig-gate" not in page.figures  # no slower or faster case to draw


def test_report_page_marks_partial_runs_and_refuses_bad_input(tmp_path, capsys):
    out = tmp_path / "page.html"
    rc, text, _ = main(["report", str(derived(tmp_path, "partial", partial=True)), "--out", str(out)], capsys)
    assert rc == 0
    page = Page(out.read_text())
    assert {"answer", "partial", "plots", "tables", "machine"} <= page.ids and "gate" not in page.ids
    assert "PARTIAL RUN" in "".join(page.text)
    # never overwritten; checked before any work
    rc, _, err = main(["report", str(RUN), "--out", str(out)], capsys)
    assert rc == 2 and "out: got" in err and "does not exist yet" in err
    rc, _, err = main(["report", str(RUN)], capsys)
    assert rc == 2 and "out: got nothing" in err


# ---------------------------------------------------------------- the page in a real browser

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
         "--force-device-scale-factor=1", "--enable-logging=stderr", "--v=0")
WIDTH = 1280
# Appended to a copy of the page (the page itself has no script): at load, each <img>'s state
# (complete, natural size: 0 where the browser could not decode its header) and laid-out box, and
# the document's height, as JSON in <pre id="probe">. Whether its pixels were decoded and drawn:
# the screenshot of the page itself (``shown``).
PROBE = """<script>
window.addEventListener('load', () => {
  const out = [];
  for (const img of document.images) {
    const r = img.getBoundingClientRect(), f = img.closest('figure');
    out.push({id: f ? f.id : '', complete: img.complete, nw: img.naturalWidth, nh: img.naturalHeight,
              x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height});
  }
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify({images: out, height: document.documentElement.scrollHeight});
  document.body.appendChild(pre);
});
</script>"""


def _alive(pgid: int) -> list[int]:
    """Processes of group ``pgid`` that are not zombies (a container's init may never reap them)."""
    out = []
    for d in Path("/proc").iterdir():
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(d.name))
    return out


def chromium(browser: str, tmp: Path, page: Path, height: int, *args: str, timeout: float = 60) -> tuple[str, str]:
    """Run headless ``browser`` on ``page`` in a WIDTH x ``height`` window with a new empty profile and
    ``args``, in its own process group;
    (stdout, stderr). Bounded: killed after ``timeout`` s; nothing of its group outlives the call."""
    profile = Path(os.path.realpath(tmp)) / f"profile-{time.monotonic_ns()}"
    profile.mkdir()
    p = subprocess.Popen([browser, *FLAGS, f"--user-data-dir={profile}", f"--window-size={WIDTH},{height}",
                          *args, page.as_uri()], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        pytest.fail(f"{browser} did not finish within {timeout} s")
    end = time.monotonic() + 5
    while _alive(p.pid) and time.monotonic() < end:  # its helpers end with it; a few ms
        time.sleep(0.05)
    left = _alive(p.pid)
    if left:
        os.killpg(p.pid, signal.SIGKILL)
    assert not left, f"{browser} left processes behind: {left}"
    assert p.returncode == 0, err[-2000:]
    return out, err


def console_messages(stderr: str) -> list[str]:
    """The page's console messages in Chromium's log (--enable-logging=stderr --v=0): lines
    'INFO:CONSOLE...] "message", source: ...'. The page has no script: any such line came from the
    browser itself (a resource it could not load, markup it rejected)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def probe(browser: str, tmp: Path, page: Path) -> dict:
    """The probe's report on a copy of ``page`` (see PROBE)."""
    copy = tmp / f"probe-{page.name}"
    copy.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    dom, _ = chromium(browser, tmp, copy, 1000, "--dump-dom")
    start = dom.index('<pre id="probe">') + len('<pre id="probe">')
    return json.loads(html.unescape(dom[start:dom.index("</pre>", start)]))


def shown(shot: np.ndarray, img: dict, src: np.ndarray) -> float:
    """Correlation between the screenshot's pixels in ``img``'s box and the figure's own PNG
    ``src``, both averaged over a 24 x 24 grid of blocks (grey levels): near 1 where the figure
    is drawn there, near 0 (or undefined: 0) for a blank or a different picture."""
    def grid(a):
        g = a[..., :3].mean(axis=-1)
        ys = np.linspace(0, g.shape[0], 25).astype(int)
        xs = np.linspace(0, g.shape[1], 25).astype(int)
        return np.array([[g[ys[i]:ys[i + 1], xs[j]:xs[j + 1]].mean() for j in range(24)] for i in range(24)])
    x, y = round(img["x"]), round(img["y"])
    region = shot[y:y + round(img["h"]), x:x + round(img["w"])]
    a, b = grid(region).ravel(), grid(src).ravel()
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def pictures(page: Path) -> dict:
    """{figure id: its PNG decoded here (H, W, channels floats)}."""
    import matplotlib.image
    return {fid: matplotlib.image.imread(io.BytesIO(base64.b64decode(f["img"]["src"].split(",", 1)[1])))
            for fid, f in Page(page.read_text()).figures.items()}


def check_in_browser(browser: str, tmp: Path, page: Path, expected: dict | None = None) -> list[str]:
    """What is wrong with ``page`` in ``browser``: console messages, an image not loaded, shown at
    (near) zero size, or whose box on the screenshot does not show the picture ``expected`` there
    ({figure id: pixels}; default: the page's own PNGs). Empty: nothing."""
    import matplotlib.image

    report = probe(browser, tmp, page)
    shot = tmp / f"{page.stem}.png"
    _, err = chromium(browser, tmp, page, min(report["height"] + 40, 12000), f"--screenshot={shot}")
    problems = [f"console: {m}" for m in console_messages(err)]
    pixels = matplotlib.image.imread(shot)
    expected = pictures(page) if expected is None else expected
    if [i["id"] for i in report["images"]] != list(expected):
        problems.append(f"images laid out: {[i['id'] for i in report['images']]}; expected {list(expected)}")
    for img in report["images"]:
        if not img["complete"] or img["nw"] == 0 or img["nh"] == 0:
            problems.append(f"{img['id']}: not loaded ({img})")
        elif img["w"] < 50 or img["h"] < 50:
            problems.append(f"{img['id']}: shown at {img['w']} x {img['h']} px")
        else:
            r = shown(pixels, img, expected[img["id"]])
            if r < 0.9:
                problems.append(f"{img['id']}: the screenshot's box does not show it (correlation {r:.2f})")
    return problems


def test_report_page_in_a_headless_browser(tmp_path, capsys):
    browser = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if browser is None:
        pytest.skip(f"no headless browser installed (looked for {', '.join(BROWSERS)}; "
                    "`make test` installs Debian's chromium where it runs as root)")
    out = page_with_baseline(tmp_path, capsys)
    assert check_in_browser(browser, tmp_path, out) == []
    # the checks can fail: a figure whose PNG signature is spoiled, another swapped for a blank one,
    # and a console message, on a copy of the same page
    figs = Page(out.read_text()).figures
    bad = out.read_text()
    spoiled = figs["fig-step-time"]["img"]["src"]
    bad = bad.replace(spoiled, spoiled.replace("base64,iVBORw0KGgo", "base64,AAAAAAAAAAA"))
    blank = figs["fig-agreement"]["img"]
    bad = bad.replace(blank["src"], _blank_png(int(blank["width"]), int(blank["height"])))
    bad = bad.replace("</body>", "<script>console.error('planted')</script></body>")
    broken = tmp_path / "broken.html"
    broken.write_text(bad)
    problems = check_in_browser(browser, tmp_path, broken, pictures(out))
    assert [p.split(":")[0] for p in problems] == ["console", "fig-step-time", "fig-agreement"], problems


def _blank_png(w: int, h: int) -> str:
    import matplotlib.image
    buf = io.BytesIO()
    matplotlib.image.imsave(buf, np.ones((h, w, 3)), format="png")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def test_time_to_train_is_drawn_from_startup_cases_where_the_run_has_them(tmp_path, capsys):
    from test_time_to_train import with_starts  # the synthetic run plus made-up startup cases

    for run, words in ((with_starts(tmp_path), "in a fresh process"), (RUN, "no startup cases in this file")):
        out = tmp_path / f"page-{run.stem}.html"
        assert main(["report", str(run), "--out", str(out)], capsys)[0] == 0
        assert words in Page(out.read_text()).figures["fig-time-to-train"]["caption"]


def test_gate_plots_are_bounded_and_the_rest_is_said(tmp_path, capsys, monkeypatch):
    from paritybench.render import page as html_report
    monkeypatch.setattr(html_report, "GATE_PLOTS", 0)
    out = tmp_path / "page.html"
    assert main(["report", str(derived(tmp_path, "new", slow=1.6)), str(RUN), "--out", str(out)], capsys)[0] == 0
    page = Page(out.read_text())
    assert "fig-gate" not in page.figures
    assert "1 more slower or faster cases, not drawn: every case is in the table below." in "".join(page.text)
