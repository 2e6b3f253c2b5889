"""Schemathesis against the published OpenAPI schema of the running server: no server error.

Bounded: a fixed number of examples per operation, derandomised so CI runs are repeatable.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from citycheck.listen.settings import HotlineSettings
from citycheck.listen.store import Hotline, Intake

from .conftest import fresh_db_url
from .live_server import LiveServer

_STATE: dict[str, str] = {}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    db_url = fresh_db_url("sqlite", tmp_path_factory.mktemp("fuzz"))
    h = Hotline(HotlineSettings(db_url=db_url, secret="test-secret"))  # as LiveServer
    _STATE["admin"] = h.create_staff("admin", "admin")
    for i in range(5):
        h.submit(Intake(f"问题 {i}", service_code="urban", lat=39.97, lon=116.36 + i / 100))
    h.close()
    srv = LiveServer(db_url, env={"CITYCHECK_HOTLINE_RATE_LIMIT_PER_MINUTE": "100000"}).start()
    yield srv
    srv.stop()


schema = schemathesis.pytest.from_fixture("openapi_schema")


@pytest.fixture(scope="module")
def openapi_schema(live):
    return schemathesis.openapi.from_url(live.url + "/openapi.json")


@schema.parametrize()
@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error(case):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {_STATE['admin']}"},
        checks=[not_a_server_error],
        timeout=30,
    )
