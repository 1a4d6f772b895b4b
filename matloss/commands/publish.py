"""Publish the asv dashboard from the repository's results/ into html/ (asv publish), with the page's
libraries served from local copies where they are installed (``--install-assets``, from npm)."""

from __future__ import annotations

from pathlib import Path

HELP = "the asv dashboard into html/ (asv publish, libraries served locally)"
ORDER = 51


def add_arguments(p) -> None:
    p.add_argument("--html-dir", type=Path, default=None, help="output directory (default: the repository's html/)")
    p.add_argument("--install-assets", action="store_true", help="only install the page's libraries (npm)")


def run(ns) -> int:
    from matloss import dashboard

    if ns.install_assets:
        if not dashboard.assets_present():
            dashboard.install_assets()
        print(f"[publish] the dashboard's libraries are in {dashboard.ASSET_DIR}/node_modules")
        return 0
    index = dashboard.publish(ns.html_dir)
    print(f"[publish] dashboard: {index.resolve()}")
    return 0
