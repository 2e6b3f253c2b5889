"""Sensor readings over HTTP: API key, the CSV checks per item, gaps across batches, no loss."""

from __future__ import annotations

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from citycheck.web.ingest import create_ingest_app, parse_api_keys

KEY = "k-0123456789abcdef"
URL = "/lifeline/v1/readings"


def _r(ts: str, value, unit="m", sensor="P1", quantity="pressure") -> dict:
    return {
        "timestamp": ts,
        "sensor_id": sensor,
        "quantity": quantity,
        "value": value,
        "unit": unit,
    }


@pytest.fixture
def client(sensor_store):
    app = create_ingest_app(sensor_store, {"scada": KEY})
    with TestClient(app) as c:
        yield c, sensor_store


def test_api_key_required(client):
    c, store = client
    body = {"readings": [_r("2026-07-01 00:00", 35.0)]}
    assert c.post(URL, json=body).status_code == 401
    assert c.post(URL, json=body, headers={"X-API-Key": "wrong-key-000000000"}).status_code == 401
    assert store.count() == 0
    ok = c.post(URL, json=body, headers={"X-API-Key": KEY})
    assert ok.status_code == 200 and ok.json()["feed"] == "scada" and store.count() == 1


def test_batch_checked_item_by_item_and_nothing_stored_is_lost(client):
    c, store = client
    h = {"X-API-Key": KEY}
    first = [
        _r("2026-07-01 00:00", 35.2),
        _r("2026-07-01 00:15", 345.0, "kPa"),  # converted: 35.18 m
        _r("2026-07-01 00:30", 352.0),  # 352 "m" of head: kPa sent as metres
        _r("2026-07-01 00:45", 35.0),
        _r("2026-07-01 00:45", 35.0),  # identical duplicate
        _r("2026-07-01 01:00", 34.8),
        _r("2026-07-01 01:00", 30.1),  # same time, another value
        _r("2026-07-01 01:15", "abc"),
        _r("2026-07-01 01:15", 35.0, "furlong"),
        _r("2026-07-01 01:30", 0.8, "%vol", "G1", "gas"),  # 16 %LEL
    ]
    res = c.post(URL, json={"readings": first}, headers=h).json()
    rej = {(r["item"], r["field"]) for r in res["rejected"]}
    assert rej == {(2, "value"), (5, "timestamp"), (6, "timestamp"), (7, "value"), (8, "unit")}
    assert "kPa" in next(r["problem"] for r in res["rejected"] if r["item"] == 2)
    assert res["inserted"] == 4 and res["duplicates_identical"] == 1
    before = store.readings()
    t0 = int(pd.Timestamp("2026-07-01 00:00", tz="Asia/Shanghai").timestamp())
    p1 = dict(zip(before["ts"], before["value"], strict=False))
    assert p1[t0 + 900] == pytest.approx(345.0 / 9.80665)
    assert before.loc[before["sensor_id"] == "G1", "value"].iloc[0] == pytest.approx(16.0)

    # a second batch re-sends 00:00 with another value and resumes at 03:00 (a gap since 00:45)
    second = [_r("2026-07-01 00:00", 99.0), _r("2026-07-01 03:00", 35.1)]
    second += [_r(f"2026-07-01 03:{m:02d}", 35.0) for m in (15, 30, 45)]
    res2 = c.post(URL, json={"readings": second}, headers=h).json()
    assert res2["inserted"] == 4
    assert res2["conflicts"] == [
        {"sensor_id": "P1", "quantity": "pressure", "ts": t0, "stored": 35.2, "new": 99.0}
    ]
    gaps = [g for g in res2["gaps"] if g["sensor_id"] == "P1"]
    assert [(g["start_ts"], g["end_ts"]) for g in gaps] == [(t0 + 2700, t0 + 3 * 3600)]
    after = store.readings()
    kept = after.merge(before, on=["sensor_id", "quantity", "ts"], suffixes=("", "_before"))
    assert len(kept) == len(before) and (kept["value"] == kept["value_before"]).all()

    # a malformed batch (item without a value field) is refused whole; nothing changes
    bad = {"readings": [{"timestamp": "2026-07-01 04:00", "sensor_id": "P1"}]}
    assert c.post(URL, json=bad, headers=h).status_code == 422
    assert c.post(URL, json={"readings": []}, headers=h).status_code == 422
    assert store.count() == len(after)


def test_api_keys_from_text():
    assert parse_api_keys("a=0123456789abcdef; b = fedcba9876543210 ;") == {
        "a": "0123456789abcdef",
        "b": "fedcba9876543210",
    }
    with pytest.raises(ValueError, match=r"'a'.*16 characters"):
        parse_api_keys("a=short")
    with pytest.raises(ValueError, match="at least one API key"):
        create_ingest_app(None, {})
