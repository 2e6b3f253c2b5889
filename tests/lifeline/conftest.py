"""Fixtures: EPANET network models shipped in the wntr wheel (real utility networks)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

#: PostgreSQL for the sensor-store tests, as for the hotline's (e.g.
#: postgresql+psycopg://postgres@127.0.0.1:55432/citycheck); each test gets its own schema.
PG_URL = os.environ.get("CITYCHECK_TEST_PG_URL")
if os.environ.get("CI") and not PG_URL:
    raise RuntimeError("CI must provide PostgreSQL for the lifeline store tests (see .ci/run)")
STORE_BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(params=STORE_BACKENDS)
def store_target(request, tmp_path) -> str:
    """Where a sensor store lives: an SQLite file, or a fresh schema in PostgreSQL."""
    if request.param == "sqlite":
        yield str(tmp_path / "sensors.db")
        return
    schema = "t_" + uuid.uuid4().hex[:12]
    yield f"{PG_URL}#{schema}"
    from citycheck.lifeline.monitoring.store_pg import PgSensorStore

    with PgSensorStore(PG_URL, schema=schema) as pg:
        pg.drop()


@pytest.fixture
def sensor_store(store_target):
    """An open sensor store on each backend."""
    from citycheck.lifeline.monitoring.store_pg import open_store

    store = open_store(store_target)
    yield store
    store.close()


def wntr_network(name: str) -> Path:
    """Path of a network model shipped in wntr's ``library/networks`` (Net3, ky4, ky10 ...)."""
    import wntr

    path = Path(wntr.__file__).parent / "library" / "networks" / f"{name}.inp"
    if not path.exists():
        raise FileNotFoundError(f"wntr does not ship {path}")
    return path


@pytest.fixture(scope="session")
def net3() -> Path:
    return wntr_network("Net3")


@pytest.fixture(scope="session")
def ky4() -> Path:
    return wntr_network("ky4")


@pytest.fixture(scope="session")
def ky10() -> Path:
    return wntr_network("ky10")


#: A hand-made network whose answers can be worked out on paper (LPS units, metres).
#:   R1 --P1-- J1 --P2-- J2 --P3-- J3
#:                        |         |
#:                        P5       P4
#:                        |         |
#:                        +-- J4 ---+        and J2 --P6-- J5 (a dead end)
SMALL_INP = """[TITLE]
hand-made test network
[JUNCTIONS]
;ID  Elev  Demand  Pattern
 J1  10   1.0
 J2  10   2.0
 J3  10   3.0
 J4  10   4.0
 J5  10   5.0
[RESERVOIRS]
 R1  80
[PIPES]
;ID  N1  N2  Length  Diam  Rough  Minor  Status
 P1  R1  J1  500  300  130  0  Open
 P2  J1  J2  500  300  130  0  Open
 P3  J2  J3  400  200  130  0  Open
 P4  J3  J4  400  200  130  0  Open
 P5  J4  J2  400  200  130  0  Open
 P6  J2  J5  300  150  130  0  Open
[COORDINATES]
 R1  0  0
 J1  500  0
 J2  1000  0
 J3  1400  0
 J4  1200  -300
 J5  1000  300
[OPTIONS]
 Units  LPS
 Headloss  H-W
[TIMES]
 Duration  0
[END]
"""


@pytest.fixture()
def small_inp(tmp_path) -> Path:
    path = tmp_path / "small.inp"
    path.write_text(SMALL_INP)
    return path
