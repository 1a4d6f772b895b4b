"""Where outputs go: the repository's ``results/`` and ``html/``, wherever a command is run from.

The repository is ``$MATLOSS_ROOT`` if set; else the checkout this package was imported from (the
directory above ``matloss/`` when it holds ``asv.conf.json``, as in a clone or a worktree); else the
current directory. Every command that writes takes ``--out`` to go elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path


def root() -> Path:
    env = os.environ.get("MATLOSS_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve().parent.parent
    if (here / "asv.conf.json").is_file():
        return here
    return Path.cwd()


def results() -> Path:
    return root() / "results"


def html() -> Path:
    return root() / "html"


def accuracy_out(quick: bool) -> Path:
    """The stem of a sweep's outputs: ``<stem>.csv``, ``<stem>_summary.csv``, ``<stem>/cases/``."""
    return results() / "accuracy" / ("quick" if quick else "sweep")


def findings_csv() -> Path:
    return results() / "findings" / "findings.csv"
