"""Build the asv dashboard (``matloss publish``: ``asv publish``) so that it also works without internet access.

asv's page template loads jQuery, flot, bootstrap, md5 and stupidtable from public CDNs, which a
machine without internet (and the dashboard test) cannot reach: the page shows "airspeed velocity
error". This runs ``asv publish``, then points those tags at local copies of the same releases,
installed from the npm registry with npm into ``.tools/asv-web`` (``--install-assets``, or
``./dev setup``) and copied under ``<html>/vendor/``. Without them the page keeps the CDN links
(fine for GitHub Pages) and this says so.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import paths

ROOT = paths.root()
ASSET_DIR = ROOT / ".tools" / "asv-web"
RESULTS = ROOT / "results"

#: CDN URL in asv's index.html -> (npm package@version, file inside the package)
ASSETS: dict[str, tuple[str, str]] = {
    "https://code.jquery.com/jquery-3.3.1.min.js": ("jquery@3.3.1", "dist/jquery.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.min.js": ("flot@0.8.3", "jquery.flot.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.time.min.js": ("flot@0.8.3", "jquery.flot.time.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.selection.min.js": ("flot@0.8.3", "jquery.flot.selection.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.categories.min.js": ("flot@0.8.3", "jquery.flot.categories.js"),
    "https://cdn.jsdelivr.net/npm/flot-orderbars@1.0.0/js/jquery.flot.orderBars.js": (
        "flot-orderbars@1.0.0",
        "js/jquery.flot.orderBars.js",
    ),
    # stupidtable 1.0.1 is not on npm; 1.1.3 has the same $.fn.stupidtable API
    "https://cdnjs.cloudflare.com/ajax/libs/stupidtable/1.0.1/stupidtable.min.js": ("stupid-table-plugin@1.1.3", "stupidtable.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/blueimp-md5/2.19.0/js/md5.min.js": ("blueimp-md5@2.19.0", "js/md5.min.js"),
    "https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/js/bootstrap.min.js": ("bootstrap@3.1.1", "dist/js/bootstrap.min.js"),
    "https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/css/bootstrap.min.css": ("bootstrap@3.1.1", "dist/css/bootstrap.min.css"),
}
#: other files a vendored file refers to (bootstrap's css loads ../fonts/*)
EXTRA_DIRS = {"bootstrap@3.1.1": ["dist/fonts"]}

PACKAGES = sorted({pkg for pkg, _ in ASSETS.values()})
INSTALL = f"npm install --prefix {ASSET_DIR.relative_to(ROOT)} --no-save --no-audit --no-fund " + " ".join(PACKAGES)

_TAG = re.compile(r"<(script|link)\b[^>]*?\b(?:src|href)=\"(https://[^\"]+)\"[^>]*>")


def _pkg_dir(spec: str) -> Path:
    return ASSET_DIR / "node_modules" / spec.rsplit("@", 1)[0]


def assets_present() -> bool:
    return all((_pkg_dir(pkg) / path).is_file() for pkg, path in ASSETS.values())


def install_assets() -> None:
    if shutil.which("npm") is None:
        raise SystemExit(f"[publish] npm is needed to install the dashboard's libraries (apt-get install -y npm), then: {INSTALL}")
    ASSET_DIR.mkdir(parents=True, exist_ok=True)
    print(f"[publish] $ {INSTALL}", flush=True)
    subprocess.run(INSTALL.split(), cwd=ROOT, check=True)


def localise(html_dir: Path) -> list[str]:
    """Rewrite the CDN tags of ``html_dir``/*.html to ``vendor/``; return the CDN URLs left as they were."""
    vendor = html_dir / "vendor"
    unknown: list[str] = []

    def replace(m: re.Match) -> str:
        kind, url = m.group(1), m.group(2)
        if url not in ASSETS:
            unknown.append(url)
            return m.group(0)
        pkg, path = ASSETS[url]
        local = f"vendor/{pkg.rsplit('@', 1)[0]}/{path}"
        if kind == "script":
            return f'<script src="{local}" onerror="js_load_failure()">'
        return f'<link rel="stylesheet" href="{local}">'

    for page in sorted(html_dir.glob("*.html")):
        text = page.read_text()
        new = _TAG.sub(replace, text)
        if new != text:
            page.write_text(new)
    for pkg, path in set(ASSETS.values()):
        dst = vendor / pkg.rsplit("@", 1)[0] / path
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_pkg_dir(pkg) / path, dst)
    for pkg, dirs in EXTRA_DIRS.items():
        for d in dirs:
            shutil.copytree(_pkg_dir(pkg) / d, vendor / pkg.rsplit("@", 1)[0] / d, dirs_exist_ok=True)
    return sorted(set(unknown))


#: the pages matloss writes beside asv's, linked from its navigation bar
SITE_LINKS = (("accuracy/index.html", "Accuracy"), ("findings/index.html", "Findings"), ("recommend/index.html", "Which framework"))
_NAV = '<li id="nav-li-regressions">'


def link_pages(html_dir: Path) -> None:
    """Add the accuracy and findings pages to asv's navigation bar (before its Regressions tab)."""
    index = Path(html_dir) / "index.html"
    text = index.read_text()
    if _NAV not in text or "matloss-site-link" in text:
        return
    links = "".join(f'<li class="matloss-site-link"><a href="{href}">{label}</a></li>' for href, label in SITE_LINKS)
    index.write_text(text.replace(_NAV, links + _NAV, 1))


def shared_params(files: list[dict]) -> list[str]:
    """The machine/environment fields (``params``) every one of ``files`` records."""
    keys = [set(f.get("params", {})) for f in files]
    return sorted(set.intersection(*keys)) if keys else []


def stage_results(tmp: Path) -> Path:
    """A copy of ``results/`` for ``asv publish`` whose files agree on their fields; the config to publish it with.

    asv turns a result file's ``params`` (the machine's fields, python, the matrix) into graph
    paths, and its page requests a graph for every combination of the values it offers. When a
    machine's later runs record fields its earlier ones did not (``asv machine`` given ``--arch``,
    ``--os``, ``--num_cpu``), the page asks for the newer combination for benchmarks that only
    the older files hold: HTTP 404, and those benchmarks drop out of the list. So each machine's
    files are published with only the fields all of them carry (their values kept, so runs under
    another python or torch stay separate series). The committed results are not touched.
    """
    import asv.util

    staged = tmp / "results"
    staged.mkdir(parents=True)
    shutil.copyfile(RESULTS / "benchmarks.json", staged / "benchmarks.json")
    for machine in sorted(p.parent for p in RESULTS.glob("*/machine.json")):
        out = staged / machine.name
        shutil.copytree(machine, out)
        runs = {p: json.loads(p.read_text()) for p in sorted(out.glob("*.json")) if p.name != "machine.json"}
        keep = shared_params(list(runs.values()))
        for path, data in runs.items():
            if set(data.get("params", {})) != set(keep):
                data["params"] = {k: data["params"][k] for k in keep}
                path.write_text(json.dumps(data))
    conf = asv.util.load_json(str(ROOT / "asv.conf.json"), js_comments=True)
    for key in ("repo", "benchmark_dir", "env_dir", "html_dir"):
        conf[key] = str((ROOT / conf[key]).resolve())
    conf["results_dir"] = str(staged)
    config = tmp / "asv.conf.json"
    config.write_text(json.dumps(conf))
    return config


def publish(html_dir: Path | None = None, log=sys.stdout) -> Path:
    """``asv publish`` into ``html_dir`` (default: asv.conf.json's ``html/``), libraries served locally; the index path."""
    html_dir = Path(html_dir) if html_dir else ROOT / "html"
    with tempfile.TemporaryDirectory(prefix="matloss-publish-") as tmp:
        config = stage_results(Path(tmp))
        cmd = [sys.executable, "-m", "asv", "publish", "--config", str(config), "--html-dir", str(html_dir)]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"asv publish failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
    link_pages(html_dir)
    if not assets_present():
        print(f"[publish] the dashboard loads its libraries from CDNs (no local copies); to view it offline: {INSTALL}", file=log)
    else:
        for url in localise(html_dir):
            print(f"[publish] warning: no local copy of {url} (asv's template changed?); left as is", file=sys.stderr)
    return html_dir / "index.html"
