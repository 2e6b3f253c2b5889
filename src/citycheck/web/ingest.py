"""Sensor readings over HTTP: batches in, the same checks as a CSV feed, then the store.

``POST /lifeline/v1/readings`` with header ``X-API-Key`` (one key per feed) and a JSON body
``{"readings": [{"timestamp", "sensor_id", "quantity", "value", "unit"?}, ...], "tz"?}``.
Every item goes through :func:`~.ingest.ingest_frame` — unit conversion, implausible values
(kPa sent as metres), duplicates within the batch, conflicts with stored readings (the stored
value is kept) — and the answer names each rejected item by its index in the batch. Gaps are
checked against what is already stored for the batch's sensors, so a gap between two batches is
reported too. Nothing stored is changed by a bad batch.

Run: ``CITYCHECK_LIFELINE_STORE=postgresql://... CITYCHECK_LIFELINE_API_KEYS="feedA=KEY1;feedB=KEY2"
uvicorn citycheck.web.ingest:app_from_env --factory``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from collections.abc import Mapping

import pandas as pd
from fastapi import Depends, FastAPI, Header, HTTPException, Request
from pydantic import BaseModel, Field

from citycheck.lifeline.monitoring.ingest import find_gaps, ingest_frame

__all__ = ["BatchIn", "app_from_env", "create_ingest_app", "parse_api_keys"]

#: How far back stored readings are looked at to find a gap before a batch.
GAP_LOOKBACK_S = 86400


class ReadingIn(BaseModel):
    """One reading as sent; values are checked by the ingest, not here."""

    timestamp: str = Field(..., max_length=64)
    sensor_id: str = Field(..., max_length=128)
    quantity: str = Field(..., max_length=32)
    value: float | str | None
    unit: str | None = Field(None, max_length=16)


class BatchIn(BaseModel):
    """A batch of readings from one feed."""

    readings: list[ReadingIn] = Field(..., min_length=1, max_length=10_000)
    tz: str = Field("Asia/Shanghai", max_length=64, description="zone of naive timestamps")


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def parse_api_keys(text: str) -> dict[str, str]:
    """``"feedA=KEY1;feedB=KEY2"`` to ``{"feedA": "KEY1", ...}``; refuses empty names or keys."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, sep, key = part.partition("=")
        if not sep or not name.strip() or len(key.strip()) < 16:
            raise ValueError(
                f"CITYCHECK_LIFELINE_API_KEYS: {part.split('=')[0]!r} needs NAME=KEY with a key "
                "of at least 16 characters"
            )
        out[name.strip()] = key.strip()
    return out


def _gaps_near(store, accepted: pd.DataFrame) -> pd.DataFrame:
    """Gaps among stored readings of the batch's sensors, ending within the batch's span."""
    frames = []
    for (sid, qty), g in accepted.groupby(["sensor_id", "quantity"]):
        lo, hi = int(g["ts"].min()), int(g["ts"].max())
        frames.append(
            store.readings(sensor_id=sid, quantity=qty, start_ts=lo - GAP_LOOKBACK_S, end_ts=hi + 1)
        )
        frames[-1]["batch_start"] = lo
    if not frames:
        return find_gaps(accepted)
    near = pd.concat(frames, ignore_index=True)
    gaps = find_gaps(near)
    if gaps.empty:
        return gaps
    first = near.groupby(["sensor_id", "quantity"])["batch_start"].first()
    start = first.reindex(pd.MultiIndex.from_frame(gaps[["sensor_id", "quantity"]])).to_numpy()
    return gaps[gaps["end_ts"].to_numpy() >= start].reset_index(drop=True)


def create_ingest_app(
    store,
    api_keys: Mapping[str, str],
    *,
    sensors: pd.DataFrame | None = None,
) -> FastAPI:
    """The ingest web app over a sensor store.

    Parameters
    ----------
    store : SensorStore
    api_keys : mapping
        Feed name -> API key (kept only as SHA-256 digests).
    sensors : DataFrame, optional
        Sensor registry (``sensor_id``, ``quantity``, ``unit``), as for CSV ingest.
    """
    if not api_keys:
        raise ValueError("the ingest endpoint needs at least one API key")
    keys = {name: _digest(k) for name, k in api_keys.items()}
    lock = threading.Lock()
    app = FastAPI(title="citycheck lifeline sensor ingest", version="1")
    app.state.store = store

    def feed_for(x_api_key: str | None = Header(None)) -> str:
        if x_api_key:
            d = _digest(x_api_key)
            for name, k in keys.items():
                if hmac.compare_digest(d, k):
                    return name
        raise HTTPException(401, "a valid X-API-Key header is required")

    @app.post("/lifeline/v1/readings")
    def post_readings(
        batch: BatchIn, request: Request, feed: str = Depends(feed_for)
    ) -> dict[str, object]:
        """Validate and store a batch; the answer lists what was stored and what was not."""
        frame = pd.DataFrame(
            [r.model_dump() for r in batch.readings],
            columns=["timestamp", "sensor_id", "quantity", "value", "unit"],
        ).astype(object)
        source = f"http:{feed}"
        with lock:
            rep = ingest_frame(
                request.app.state.store,
                frame,
                source=source,
                sensors=sensors,
                tz=batch.tz,
                line_offset=0,
            )
            gaps = _gaps_near(request.app.state.store, rep.accepted)
        rejected = rep.rejected.rename(columns={"line": "item"})
        rejected["value"] = rejected["value"].astype(str)
        return {
            "feed": feed,
            "received": rep.rows_read,
            "inserted": rep.inserted,
            "duplicates_identical": rep.duplicates_identical,
            "rejected": rejected.to_dict(orient="records"),
            "conflicts": rep.conflicts.to_dict(orient="records"),
            "gaps": gaps.to_dict(orient="records"),
        }

    return app


def app_from_env() -> FastAPI:
    """App from ``CITYCHECK_LIFELINE_STORE`` (URL or SQLite path) and ``..._API_KEYS``."""
    from citycheck.lifeline.monitoring.store import open_store

    target = os.environ.get("CITYCHECK_LIFELINE_STORE")
    if not target:
        raise RuntimeError("set CITYCHECK_LIFELINE_STORE to a PostgreSQL URL or an SQLite file")
    keys = parse_api_keys(os.environ.get("CITYCHECK_LIFELINE_API_KEYS", ""))
    return create_ingest_app(open_store(target), keys)
