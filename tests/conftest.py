"""Fixtures shared by the test suite."""

import pytest

from factory.layout import load_plant
from support import ROOT, EventFactory


@pytest.fixture(scope="session")
def plant():
    return load_plant(ROOT / "factory.yaml")


@pytest.fixture
def events():
    return EventFactory()
