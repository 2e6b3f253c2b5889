"""From the hotline store (:class:`citycheck.listen.store.Hotline`) to the analytics frames.

Two set-based reads (orders, event log) — no personal field is read: requesters appear only by
their pseudonymous ``account_id``/``device_id``. The event log is folded with
:func:`~citycheck.listen.analytics.frames.order_facts`; the response deadline of each order is
the hotline's own clock (sign-for, else first-contact deadline from
:func:`citycheck.listen.deadlines.compute_clocks`, working-day calendar included), and its
closure deadline is the stored ``close_due`` (extensions included). Times are converted to the
hotline's local time zone and made naive, as the frames expect.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import select

from citycheck.listen.analytics.frames import normalise_events, normalise_orders, order_facts

__all__ = ["frames_from_store"]


def _local(s: pd.Series, tz: ZoneInfo) -> pd.Series:
    t = pd.to_datetime(s, utc=True)
    return t.dt.tz_convert(tz).dt.tz_localize(None).astype("datetime64[ns]")


def frames_from_store(hotline) -> tuple[pd.DataFrame, pd.DataFrame]:  # type: ignore[no-untyped-def]
    """Read the orders and their event log from a hotline store.

    Parameters
    ----------
    hotline : citycheck.listen.store.Hotline

    Returns
    -------
    (orders, events) : DataFrames
        In the formats of :mod:`~citycheck.listen.analytics.frames`. Linked duplicates are
        kept (each caller is called back and rates) with their ``duplicate_of`` column.
    """
    from citycheck.listen.deadlines import compute_clocks
    from citycheck.listen.domain import Event, EventKind, derive_state
    from citycheck.listen.models import Order, OrderEvent

    tz = ZoneInfo(hotline.settings.timezone)
    cols = [
        Order.id,
        Order.service_code,
        Order.request_type,
        Order.lat,
        Order.lon,
        Order.description_public,
        Order.account_id,
        Order.device_id,
        Order.requested_at,
        Order.close_due,
        Order.duplicate_of,
        Order.status,
    ]
    ecols = [
        OrderEvent.order_id,
        OrderEvent.seq,
        OrderEvent.kind,
        OrderEvent.at,
        OrderEvent.actor,
        OrderEvent.role,
        OrderEvent.unit,
        OrderEvent.reason,
        OrderEvent.data,
    ]
    with hotline.engine.connect() as c:
        rows = c.execute(select(*cols).order_by(Order.id)).all()
        erows = c.execute(select(*ecols).order_by(OrderEvent.order_id, OrderEvent.seq)).all()
    o = pd.DataFrame(rows, columns=[x.key for x in cols])
    e = pd.DataFrame(erows, columns=[x.key for x in ecols])
    if o.empty:
        return normalise_orders(pd.DataFrame(columns=["order_id", "requested_at", "category"])), (
            normalise_events(pd.DataFrame(columns=["order_id", "kind", "at"]))
        )
    data = e["data"].map(lambda d: d if isinstance(d, dict) else {})
    events = pd.DataFrame(
        {
            "order_id": e["order_id"].astype(str),
            "seq": e["seq"].astype(np.int64),
            "kind": e["kind"].astype(str),
            "at": _local(e["at"], tz),
            "unit": e["unit"].fillna("").astype(str),
            "score": pd.to_numeric(data.map(lambda d: d.get("score")), errors="coerce"),
            "resolution": data.map(lambda d: d.get("resolution") or ""),
        }
    )
    facts = order_facts(events).set_index("order_id")
    # response deadline: the hotline's own clocks, from each order's derived state
    respond_due = {}
    for oid, grp in e.groupby("order_id", sort=False):
        evs = [
            Event(
                EventKind(k),
                at if at.tzinfo else at.replace(tzinfo=ZoneInfo("UTC")),
                a,
                r,
                u,
                re,
                d or {},
            )
            for k, at, a, r, u, re, d in zip(
                grp["kind"],
                grp["at"],
                grp["actor"],
                grp["role"],
                grp["unit"],
                grp["reason"],
                grp["data"],
                strict=True,
            )
        ]
        clocks = compute_clocks(derive_state(evs), hotline.catalogue, hotline.calendar)
        respond_due[str(oid)] = clocks.sign_due or clocks.contact_due
    ids = o["id"].astype(str)
    requester = o["account_id"].fillna(o["device_id"]).fillna("").astype(str)
    orders = pd.DataFrame(
        {
            "order_id": ids,
            "requested_at": _local(o["requested_at"], tz),
            "category": o["service_code"].fillna("").astype(str),
            "unit": ids.map(facts["unit"]).fillna(""),
            "lat": o["lat"].astype(float),
            "lon": o["lon"].astype(float),
            "text": o["description_public"].fillna("").astype(str),
            "requester": requester,
            "request_type": o["request_type"].fillna("").astype(str),
            "responded_at": ids.map(facts["responded_at"]),
            "respond_due_at": _local(ids.map(respond_due), tz),
            "closed_at": ids.map(facts["closed_at"]),
            "due_at": _local(o["close_due"], tz),
            "resolution": ids.map(facts["resolution"]).fillna(""),
            "score": ids.map(facts["score"]),
            "reopen_count": ids.map(facts["reopen_count"]).fillna(0),
            "status": o["status"].astype(str),
            "duplicate_of": o["duplicate_of"].astype("Int64").astype(str).replace("<NA>", ""),
        }
    )
    return normalise_orders(orders, source="hotline store"), events
