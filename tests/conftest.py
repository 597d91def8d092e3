"""Shared fixtures: the shipped operator data, loaded once."""

from __future__ import annotations

import pytest

from denwa.core.operator_data.bundle import OperatorData
from denwa.core.operator_data.loader import load_operator_data


@pytest.fixture(scope="session")
def data() -> OperatorData:
    """The shipped defaults (service-page values and marked sample data)."""
    return load_operator_data()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that uses the database also runs on PostgreSQL (scripts/test's second pass)."""
    for item in items:
        if item.get_closest_marker("django_db"):
            item.add_marker(pytest.mark.database)
