"""Shared fixtures: an isolated exact-result cache per test session, GPU detection."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def _exact_cache(tmp_path_factory):
    """Point the exact cache at a per-session directory unless the user set one on purpose."""
    if "MATLOSS_CACHE_DIR" not in os.environ or os.environ.get("CI"):
        os.environ["MATLOSS_CACHE_DIR"] = str(tmp_path_factory.mktemp("exact-cache"))
    yield
