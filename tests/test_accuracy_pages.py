"""The accuracy pages: PNG figures and the HTML index, opened in headless Chromium."""

from __future__ import annotations

import math
import shutil
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

from matloss import accuracy
from matloss.report import accuracy_pages, figure_groups
from matloss_ref import list_losses

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
INSTALL = "apt-get update && apt-get install -y chromium"


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    out = tmp_path_factory.mktemp("acc") / "sweep"
    grid = accuracy.Grid.quick(frameworks=("numpy",), losses=("logdet", "logdet_naive", "spectral"), seeds=2)
    return accuracy.sweep(grid, out, jobs=1, progress=False)


def test_naive_and_stable_share_a_figure():
    groups = figure_groups()
    assert ["logdet", "logdet_naive"] in groups
    assert ["mvn_nll", "mvn_nll_naive"] in groups and ["logdet_divergence", "logdet_divergence_naive"] in groups
    assert sorted(n for g in groups for n in g) == list_losses()


def test_pages_written(table, tmp_path):
    index = accuracy_pages(table, tmp_path / "accuracy")
    html = index.read_text()
    assert '<a href="../index.html">' in html  # next to, and linking to, the asv dashboard
    for png in ("logdet__logdet_naive.png", "spectral.png"):
        assert (tmp_path / "accuracy" / png).stat().st_size > 10_000
        assert f'src="{png}"' in html
    assert "det.png" not in html  # only losses in the table are drawn


def test_markers_for_failures(tmp_path):
    """A NaN returned where the loss is defined shows up in the figure's legend as a failure marker."""
    rows = []
    for k, e in ((1.0, 1e-16), (1e4, 1e-12), (1e8, 1e-8)):
        rows.append(dict(framework="torch", device="cpu", dtype="float64", mode="eager", loss="det", n=8, svd_mode=3,
                         kappa=k, kappa_decade=int(round(math.log10(k))), seed=0, kappa_true=k,
                         status="ok", value_error=e, grad_error=e, grad_defined=True, grad_well_posed=True,
                         R_value=0.1, R_grad=0.1, u=2.0**-53, version="x", error=""))
    rows.append(dict(rows[-1], seed=1, status="nan_returned", value_error=float("nan"), grad_error=float("nan")))
    table = pd.DataFrame(rows)
    index = accuracy_pages(table, tmp_path / "acc")
    assert "det" in index.read_text()
    from matplotlib import image

    img = image.imread(tmp_path / "acc" / "det.png")
    assert img.shape[0] > 100


def test_page_renders_in_chromium(table, tmp_path):
    if CHROMIUM is None:
        pytest.fail(f"Chromium is not installed; install it with: {INSTALL}")
    from playwright.sync_api import sync_playwright

    site = tmp_path / "site"
    accuracy_pages(table, site / "accuracy")
    (site / "index.html").write_text('<!doctype html><title>asv</title><link rel="icon" href="data:,">')
    handler = partial(SimpleHTTPRequestHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    errors: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                      "--disable-sync", "--no-first-run"],
            )
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"http://127.0.0.1:{server.server_port}/accuracy/index.html", wait_until="networkidle")
            images = page.eval_on_selector_all("img", "els => els.map(e => [e.getAttribute('src'), e.complete, e.naturalWidth])")
            page.screenshot(path=str(tmp_path / "accuracy.png"), full_page=True)
            page.click("text=speed dashboard (asv)")
            page.wait_for_load_state()
            landed = page.url
            browser.close()
    finally:
        server.shutdown()
    assert len(images) == 2, images
    assert all(complete and width > 100 for _, complete, width in images), images
    assert not errors, errors
    assert landed.endswith("/index.html") and "/accuracy/" not in landed
    assert (tmp_path / "accuracy.png").stat().st_size > 10_000
