"""A contract change made anywhere (CLI, console, ISP event) republishes the SIP snapshot."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from denwa.core.operator_data.bundle import OperatorData
from denwa.subscribers.services import add_subscriber, stop
from denwa.subscribers.snapshot import snapshot_path

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def read() -> dict[str, Any]:
    return json.loads(snapshot_path().read_text(encoding="utf-8"))


def test_stopping_a_subscriber_publishes_the_new_state(
    data: OperatorData, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        add_subscriber(data, "05055500001", "K1", date(2003, 7, 1), "test", "pw")
    assert len(callbacks) == 1  # one publication per transaction, however many saves
    assert read()["subscribers"]["05055500001"][0] == "active"
    with django_capture_on_commit_callbacks(execute=True):
        stop("05055500001", date(2003, 8, 1), "abuse", "test")
    assert read()["subscribers"]["05055500001"][0] == "stopped"
    assert "tariffs.csv" in read()["data_key"]
