"""Fixtures shared by the test suite."""

import itertools

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


@pytest.fixture(scope="session")
def postgres():
    """A private PostgreSQL server for this test process (tests/postgres_server.py), started on first use."""
    from postgres_server import PostgresServer

    server = PostgresServer()
    yield server
    server.close()


_databases = itertools.count(1)


@pytest.fixture
def postgres_url(postgres):
    """The URL of a new, empty database on the private server."""
    return postgres.create_database(f"test_{next(_databases)}")
