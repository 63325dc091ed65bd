"""Fixtures shared by the test suite."""

import pytest

from factory.layout import load_plant
from support import ROOT, EventFactory, build_factory


@pytest.fixture(scope="session")
def plant():
    return load_plant(ROOT / "factory.yaml")


@pytest.fixture
def events():
    return EventFactory()


@pytest.fixture
def factory(events, tmp_path):
    """An in-process app with orders UA and UB and the people mia, wes and ada (support.build_factory)."""
    return build_factory(events, tmp_path)
