"""The answer block (`paritybench answer`), the one-page HTML report and partial (interrupted) runs.

Inputs: the SYNTHETIC fixture tests/data/run_synthetic.json (tests/data/make_synthetic.py)."""
from __future__ import annotations

import base64
import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from paritybench import answer, cli, resultfile

DATA = Path(__file__).parent / "data"
RUN = DATA / "run_synthetic.json"


def main(args, capsys):
    rc = cli.main(args)
    out, err = capsys.readouterr()
    return rc, out, err


def test_answer_names_the_faster_framework_per_band_with_its_interval(capsys):
    run = resultfile.load(RUN)
    ans = answer.answer(run)
    assert [(b["n"], b["band"]) for b in ans["bands"]] == [
        (1000, "overhead-bound"), (100000, "middle"), (1000000, "throughput-bound")]
    for b in ans["bands"]:
        t, j = b["torch"], b["jax"]
        assert b["jax_over_torch"] == pytest.approx(j["seconds_per_step"] / t["seconds_per_step"])
        lo, hi = b["jax_over_torch_ci95"]
        assert lo <= b["jax_over_torch"] <= hi and hi / lo < 1.3  # the fixture's noise is a few %
    text = answer.lines(ans)
    assert len(text) <= 12
    assert "jax 5.06x faster [4.84, 5.19]" in text[1] and "torch-compiled 27.4 us, jax-scan 5.4 us" in text[1]
    assert "30 of 32 cases end as the float64 reference does" in text[4]
    rc, out, _ = main(["answer", str(RUN), "--json"], capsys)
    assert rc == 0 and json.loads(out)["bands"][0]["jax"]["variant"] == "scan"


def partial_doc(tmp_path) -> Path:
    d = json.loads(RUN.read_text())
    d["paritybench"].update(interrupted=True, not_run=["bench/test_tools.py::test_plot"])
    p = tmp_path / "partial.json"
    p.write_text(json.dumps(d))
    return p


def test_partial_runs_are_said_to_be_partial(tmp_path, capsys):
    p = partial_doc(tmp_path)
    line = f"PARTIAL RUN: partial.json was interrupted; {len(resultfile.load(RUN).cases)} cases measured, 1 not run"
    rc, out, _ = main(["compare", str(p)], capsys)
    assert rc == 0 and out.splitlines()[0] == line
    rc, out, _ = main(["compare", str(RUN), str(p)], capsys)
    assert line in out.splitlines()
    rc, out, _ = main(["answer", str(p)], capsys)
    assert "PARTIAL RUN: interrupted, 1 cases not run" in out.splitlines()[0]


def test_plot_says_a_run_is_partial(tmp_path, capsys):
    rc, out, _ = main(["plot", str(partial_doc(tmp_path)), "--out", str(tmp_path / "pics"), "--only",
                       "throughput"], capsys)
    assert rc == 0 and out.splitlines()[0].startswith("PARTIAL RUN: partial.json was interrupted")
    assert (tmp_path / "pics" / "throughput.png").is_file()


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.ids, self.srcs, self.text = [], set(), [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        self.ids.add(a.get("id"))
        for k in ("src", "href"):
            if a.get(k):
                self.srcs.append(a[k])

    def handle_data(self, data):
        self.text.append(data)


def test_report_page_is_one_self_contained_file(tmp_path, capsys):
    out = tmp_path / "page.html"
    rc, text, _ = main(["report", str(partial_doc(tmp_path)), str(RUN), "--out", str(out)], capsys)
    assert rc == 0 and text.strip() == f"wrote {out}"
    page = _Page()
    page.feed(out.read_text())
    assert {"answer", "partial", "gate", "plots", "tables", "machine"} <= page.ids
    assert "script" not in page.tags and "link" not in page.tags
    assert len(page.srcs) == 1 and page.srcs[0].startswith("data:image/png;base64,")
    assert base64.b64decode(page.srcs[0].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    body = "".join(page.text)
    assert "paritybench answer:" in body and "PARTIAL RUN" in body and "no regression" in body
    # never overwritten; checked before any work
    rc, _, err = main(["report", str(RUN), "--out", str(out)], capsys)
    assert rc == 2 and "out: got" in err and "does not exist yet" in err
    rc, _, err = main(["report", str(RUN)], capsys)
    assert rc == 2 and "out: got nothing" in err


BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def test_report_page_in_a_headless_browser(tmp_path, capsys):
    browser = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if browser is None:
        pytest.skip(f"no headless browser installed (looked for {', '.join(BROWSERS)})")
    out = tmp_path / "page.html"
    assert main(["report", str(RUN), "--out", str(out)], capsys)[0] == 0
    shot = tmp_path / "shot.png"
    r = subprocess.run([browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--window-size=1200,2400", "--enable-logging=stderr", "--v=0",
                        f"--screenshot={shot}", out.as_uri()], capture_output=True, text=True, timeout=120)
    console = [line for line in r.stderr.splitlines() if "CONSOLE" in line and ("ERROR" in line or "Uncaught" in line)]
    assert not console, console
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image
    img = matplotlib.image.imread(shot)
    assert (img[..., :3] < 0.5).any(axis=-1).mean() > 0.01  # text and the plot drawn, not a blank page
