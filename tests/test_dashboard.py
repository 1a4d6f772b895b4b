"""The asv dashboard, published from the committed results and opened in headless Chromium.

Publishes ``results/`` into a temporary directory with ``matloss publish`` (asv publish, then the
page's libraries served locally), serves it on 127.0.0.1 from a thread, and checks in a
real browser that the benchmark list lists the speed benchmarks and that a benchmark's graph is
drawn with data points, with no console error, page error or failed request. Screenshots go to
the test's tmp dir and to html/screenshots/.

Installs nothing: without Chromium, or without the page's libraries, it fails with the command
that installs them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")
INSTALL_CHROMIUM = "apt-get update && apt-get install -y chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip
GRAPH = "bench_speed.Forward.time_forward"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if CHROMIUM is None:
        pytest.fail(f"Chromium is not installed; install it with: {INSTALL_CHROMIUM}")
    from matloss import dashboard as publish

    if not publish.assets_present():
        pytest.fail(f"the dashboard's libraries are not installed; install them with: {publish.INSTALL}")
    speed = [p for p in (ROOT / "results").glob("*/*.json") if p.name != "machine.json" and GRAPH in p.read_text()]
    assert speed, "no speed results under results/: run ./dev run first"
    html = tmp_path_factory.mktemp("dashboard") / "html"
    subprocess.run([sys.executable, "-m", "matloss", "publish", "--html-dir", str(html)], cwd=ROOT, check=True, capture_output=True)
    assert (html / "index.html").is_file()
    assert "https://" not in (html / "index.html").read_text().split("<body")[0], "a library is still loaded from a CDN"
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(html)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield html, f"http://127.0.0.1:{server.server_port}/index.html"
    server.shutdown()


@pytest.fixture
def browser(tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=ARGS, viewport={"width": 1400, "height": 900}
        )
        yield ctx
        ctx.close()


def _watch(page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    return problems


def _screenshot(page, tmp_path: Path, name: str) -> Path:
    out = tmp_path / f"{name}.png"
    page.screenshot(path=str(out), full_page=False)
    keep = ROOT / "html" / "screenshots"
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(out, keep / out.name)
    return out


def test_benchmark_list_renders(site, browser, tmp_path):
    html, url = site
    page = browser.new_page()
    problems = _watch(page)
    page.goto(url + "#/summarylist", wait_until="networkidle")
    page.wait_for_selector("#summarylist-body table tbody tr", timeout=30_000)
    rows = page.eval_on_selector_all("#summarylist-body table tbody tr", "els => els.map(e => e.innerText)")
    shot = _screenshot(page, tmp_path, "dashboard-list")
    assert not problems, problems
    index = json.loads((html / "index.json").read_text())
    assert GRAPH in index["benchmarks"] and "bench_speed.Backward.time_backward" in index["benchmarks"]
    assert any(r.startswith(GRAPH) for r in rows) and any(r.startswith("bench_speed.Backward.time_backward") for r in rows)
    assert any("'logdet'" in r and "'torch'" in r for r in rows)
    nav = page.eval_on_selector_all("li.matloss-site-link a", "as => as.map(a => [a.innerText, a.getAttribute('href')])")
    assert nav == [["Accuracy", "accuracy/index.html"], ["Findings", "findings/index.html"],
                   ["Which framework", "recommend/index.html"]], nav
    assert shot.stat().st_size > 10_000


def test_graph_renders_with_data(site, browser, tmp_path):
    html, url = site
    page = browser.new_page()
    problems = _watch(page)
    page.goto(url + "#" + GRAPH, wait_until="networkidle")
    page.wait_for_selector("#main-graph canvas.flot-base", timeout=30_000)
    page.wait_for_function("() => { const p = $('#main-graph').data('plot'); return p && p.getData().length > 0 }", timeout=30_000)
    series = page.evaluate("() => $('#main-graph').data('plot').getData().map(s => [s.label, s.data.filter(d => d[1] !== null).length])")
    size = page.eval_on_selector("#main-graph canvas.flot-base", "c => [c.width, c.height]")
    shot = _screenshot(page, tmp_path, "dashboard-graph")
    assert not problems, problems
    assert size[0] > 300 and size[1] > 200
    assert sum(n for _, n in series) >= 1, series  # at least one plotted point
    assert shot.stat().st_size > 10_000
