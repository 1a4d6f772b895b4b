"""The findings page: one row per finding, its upstream link or `new`, its reproducer — in headless Chromium."""

from __future__ import annotations

import shutil
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

from matloss import paths
from matloss.findings import grouping, page

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run"]  # fmt: skip


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def found():
    rows = pd.read_csv(paths.findings_csv(), keep_default_na=False, na_values=[""])
    return grouping.group(rows)


def test_the_page_lists_every_finding(found, tmp_path):
    index = page.write(found, tmp_path / "findings")
    html = index.read_text()
    assert html.count("<tr class=") == len(found)
    for f in found[found["class"] == "defect"].to_dict("records"):
        assert f'id="{f["id"]}"' in html and f"repro/{f['id']}.py" in html
        assert (tmp_path / "findings" / "repro" / f"{f['id']}.py").is_file()
    assert "new" in html and "github.com/pytorch/pytorch/issues/104675" in html
    assert '<a href="../index.html">' in html and '<a href="../accuracy/index.html">' in html


def test_the_page_renders_in_chromium(found, tmp_path):
    if CHROMIUM is None:
        pytest.fail("Chromium is not installed; install it with: apt-get update && apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    site = tmp_path / "site"
    page.write(found, site / "findings")
    (site / "index.html").write_text('<!doctype html><title>asv</title><link rel="icon" href="data:,">')
    (site / "accuracy").mkdir()
    (site / "accuracy" / "index.html").write_text('<!doctype html><title>accuracy</title><link rel="icon" href="data:,">')
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    problems: list[str] = []
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            tab = browser.new_page()
            tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            tab.on("pageerror", lambda e: problems.append(str(e)))
            tab.on("response", lambda r: problems.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
            tab.goto(f"{base}/findings/index.html", wait_until="networkidle")
            cells = tab.eval_on_selector_all("#findings tbody tr", "rows => rows.map(r => [r.className, r.cells[9].innerText])")
            repro_links = tab.eval_on_selector_all("#findings a[href^='repro/']", "as => as.map(a => a.href)")
            tab.screenshot(path=str(tmp_path / "findings.png"), full_page=False)
            statuses = [tab.request.get(url).status for url in repro_links]
            tab.click("text=accuracy pages")
            tab.wait_for_load_state()
            landed = tab.url
            browser.close()
    finally:
        server.shutdown()
    assert not problems, problems
    assert len(cells) == len(found)
    defects = [upstream for cls, upstream in cells if cls == "defect"]
    assert defects and all(u == "new" or "/issues/" in u for u in defects), defects
    assert repro_links and set(statuses) == {200}
    assert landed.endswith("/accuracy/index.html")
    assert (tmp_path / "findings.png").stat().st_size > 10_000
