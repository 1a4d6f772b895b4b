"""The main job: findings, the speed suites at HEAD (a representative subset by default), the
dashboard, the quick accuracy grid and its pages, the framework comparison, and one closing summary
of what it found and where to open each page. ``--full`` runs the whole grid (about an hour here)."""

from __future__ import annotations

HELP = "the main job (what ./dev run runs): findings, speed, dashboard, accuracy, compare"
ORDER = 60


def add_arguments(p) -> None:
    p.add_argument("--full", action="store_true", help="the whole speed grid and the default accuracy sweep (about an hour here)")


def run(ns) -> int:
    from matloss.mainjob import run as main_job

    return main_job(full=ns.full)
