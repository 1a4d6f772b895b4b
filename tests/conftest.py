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


@pytest.fixture(autouse=True)
def _cpus_left_as_they_were():
    """A test that imports ``suites`` in pytest's own process pins that process, every thread of it and
    every process it starts later to one CPU (``suites/_cpus.py``, as in an asv benchmark process);
    left so, the rest of the session, of both pytest-xdist workers where both import it, would share
    that one core. Each test's end puts every thread back on the CPUs the process had before it."""
    before = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    yield
    if before is not None and os.sched_getaffinity(0) != before:
        _suites_cpus().pin_threads(before)


def _suites_cpus():
    """``suites/_cpus.py`` alone: importing it through the package would run ``suites/__init__.py``, which pins."""
    import importlib.util

    from matloss import paths

    spec = importlib.util.spec_from_file_location("_cpus_alone", paths.root() / "suites" / "_cpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _fresh_implementations_under_mutmut():
    """Under mutation testing (``./dev mutate``), each test builds the framework implementations anew.

    The adapters build a loss's implementation once per process, from the factory in the loss file.
    mutmut maps each mutant to the tests that call its function, so with that cache only the first
    test of a run would be recorded as calling a factory, and a mutant in it would be checked by
    that one test alone.
    """
    if "MUTANT_UNDER_TEST" in os.environ:
        from matloss.frameworks import get_framework, list_frameworks

        for name in list_frameworks():
            get_framework(name).__dict__.pop("_fns", None)
    yield


# -- hypothesis profiles (tests/test_properties.py) ---------------------------------------------
# "ci" (the default) is bounded for the CI budget and derandomised, so two runs draw the same
# inputs; "deep" is a longer randomised local run (./dev test --hypothesis-profile=deep);
# "mutation" is the short one ./dev mutate selects, as every mutant reruns the tests. A failure
# prints the shrunk example, the sampling call that rebuilds its
# inputs, and the seed to rerun it with.
try:
    from hypothesis import HealthCheck, settings
except ImportError:  # the property tests skip themselves without hypothesis
    pass
else:
    _common = dict(deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    settings.register_profile("ci", max_examples=25, derandomize=True, database=None, **_common)
    settings.register_profile("deep", max_examples=250, **_common)
    settings.register_profile("mutation", max_examples=10, derandomize=True, database=None, **_common)
    settings.load_profile(os.environ.get("MATLOSS_HYPOTHESIS_PROFILE", "ci"))
