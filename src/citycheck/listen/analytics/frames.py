"""The two tables every analytics function takes: orders and their event log.

Whatever the source — the hotline store, a CSV export of past orders (NYC 311, a Chinese
message board) or a generated log — it is turned into these two pandas DataFrames first, so that
every rate, hotspot and theme is computed by the same code.

Orders (one row per work order; :data:`ORDER_COLUMNS`)
------------------------------------------------------
==================  ==================  ==========================================================
column              dtype               meaning
==================  ==================  ==========================================================
``order_id``        str                 unique id
``requested_at``    datetime64[ns]      when the request was accepted (naive local time)
``category``        str                 category id of the city's catalogue (or the source's type)
``unit``            str                 handling (lead) unit; "" when never dispatched
``area``            str                 area the place lies in (district, borough, street office)
``lat``, ``lon``    float               WGS84 position; NaN when unknown
``text``            str                 public text (title and description); "" when none
``requester``       str                 pseudonymous requester id; "" when unknown
``request_type``    str                 consult / help / complaint / report / suggestion
``responded_at``    datetime64[ns]      first response (sign-for or first contact); NaT when none
``respond_due_at``  datetime64[ns]      response deadline; NaT when the city sets none
``closed_at``       datetime64[ns]      closure that stands (not undone by a reopening); NaT open
``due_at``          datetime64[ns]      closure deadline (extensions included); NaT when none
``resolution``      str                 resolved / partly / unresolved / "" (not assessed)
``score``           float               satisfaction score 1..5 at the call-back; NaN not rated
``reopen_count``    int                 how often the order was reopened
==================  ==================  ==========================================================

Only ``order_id``, ``requested_at`` and ``category`` are required; :func:`normalise_orders` adds
the others with their "unknown" values.

Events (the append-only log; :data:`EVENT_COLUMNS`)
---------------------------------------------------
``order_id`` (str), ``seq`` (int, order within one order's log), ``kind`` (str, the hotline's
``EventKind`` values: accept, dispatch, sign, contact, reply, close, callback, rate, reopen, ...),
``at`` (datetime64), ``unit`` (str), ``score`` (float, rate events), ``resolution`` (str,
callback or rate events; "" when not stated). :func:`order_facts` folds it into the order
columns above.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from citycheck.io.errors import InputError

__all__ = [
    "EVENT_COLUMNS",
    "ORDER_COLUMNS",
    "RESOLUTIONS",
    "normalise_events",
    "normalise_orders",
    "order_facts",
]

ORDER_COLUMNS: dict[str, str] = {
    "order_id": "str",
    "requested_at": "datetime",
    "category": "str",
    "unit": "str",
    "area": "str",
    "lat": "float",
    "lon": "float",
    "text": "str",
    "requester": "str",
    "request_type": "str",
    "responded_at": "datetime",
    "respond_due_at": "datetime",
    "closed_at": "datetime",
    "due_at": "datetime",
    "resolution": "str",
    "score": "float",
    "reopen_count": "int",
}

EVENT_COLUMNS: dict[str, str] = {
    "order_id": "str",
    "seq": "int",
    "kind": "str",
    "at": "datetime",
    "unit": "str",
    "score": "float",
    "resolution": "str",
}

#: Resolution outcomes recorded at the call-back (zh, en).
RESOLUTIONS: dict[str, tuple[str, str]] = {
    "resolved": ("已解决", "resolved"),
    "partly": ("部分解决", "partly resolved"),
    "unresolved": ("未解决", "unresolved"),
}

_REQUIRED_ORDERS = ("order_id", "requested_at", "category")


def _coerce(df: pd.DataFrame, spec: dict[str, str], source: str) -> pd.DataFrame:
    out = {}
    n = len(df)
    for col, kind in spec.items():
        if col not in df.columns:
            if kind == "str":
                out[col] = pd.Series([""] * n, index=df.index, dtype=object)
            elif kind == "datetime":
                out[col] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
            elif kind == "float":
                out[col] = pd.Series(np.nan, index=df.index, dtype=float)
            else:
                out[col] = pd.Series(0, index=df.index, dtype=np.int64)
            continue
        s = df[col]
        if kind == "str":
            out[col] = s.astype(object).where(s.notna(), "").astype(str)
        elif kind == "datetime":
            if isinstance(s.dtype, pd.DatetimeTZDtype):
                s = s.dt.tz_localize(None)
            conv = pd.to_datetime(s, errors="coerce")
            bad = conv.isna() & s.notna() & (s.astype(str).str.strip() != "")
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise InputError(source, col, s.iloc[i], f"not a date/time (row {i + 1})")
            out[col] = conv.astype("datetime64[ns]")
        elif kind == "float":
            conv = pd.to_numeric(s, errors="coerce")
            bad = conv.isna() & s.notna()
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise InputError(source, col, s.iloc[i], f"not a number (row {i + 1})")
            out[col] = conv.astype(float)
        else:
            out[col] = pd.to_numeric(s, errors="coerce").fillna(0).astype(np.int64)
    return pd.DataFrame(out, index=df.index)


def normalise_orders(orders: pd.DataFrame, *, source: str = "orders") -> pd.DataFrame:
    """Check an orders table and give it every column of :data:`ORDER_COLUMNS`.

    Parameters
    ----------
    orders : DataFrame
        At least ``order_id``, ``requested_at`` and ``category``; other columns optional.
    source : str
        Name of the input, used in error messages.

    Returns
    -------
    DataFrame
        A new frame with exactly the :data:`ORDER_COLUMNS` plus any extra columns of the input
        (kept at the end); the input is not modified.

    Raises
    ------
    InputError
        A required column is missing, a value does not parse, a score is outside 1..5, an
        ``order_id`` repeats, or a resolution is not one of :data:`RESOLUTIONS`.
    """
    for col in _REQUIRED_ORDERS:
        if col not in orders.columns:
            raise InputError(source, col, None, f"missing column; need {list(_REQUIRED_ORDERS)}")
    out = _coerce(orders, ORDER_COLUMNS, source)
    if out["requested_at"].isna().any():
        i = int(np.flatnonzero(out["requested_at"].isna().to_numpy())[0])
        raise InputError(source, "requested_at", orders["requested_at"].iloc[i], "empty")
    dup = out["order_id"].duplicated()
    if dup.any():
        raise InputError(source, "order_id", out.loc[dup, "order_id"].iloc[0], "repeated")
    sc = out["score"]
    bad = sc.notna() & ~sc.between(1, 5)
    if bad.any():
        raise InputError(source, "score", sc[bad].iloc[0], "satisfaction scores are 1..5")
    res = out["resolution"]
    bad = (res != "") & ~res.isin(list(RESOLUTIONS))
    if bad.any():
        raise InputError(source, "resolution", res[bad].iloc[0], f"use one of {list(RESOLUTIONS)}")
    extra = [c for c in orders.columns if c not in ORDER_COLUMNS]
    if extra:
        out = pd.concat([out, orders[extra]], axis=1)
    return out.reset_index(drop=True)


def normalise_events(events: pd.DataFrame, *, source: str = "events") -> pd.DataFrame:
    """Check an event log and give it every column of :data:`EVENT_COLUMNS`.

    Raises
    ------
    InputError
        ``order_id``, ``kind`` or ``at`` missing, or a value that does not parse.
    """
    for col in ("order_id", "kind", "at"):
        if col not in events.columns:
            raise InputError(source, col, None, "missing column")
    out = _coerce(events, EVENT_COLUMNS, source)
    if "seq" not in events.columns:
        out["seq"] = out.groupby("order_id", sort=False).cumcount().astype(np.int64)
    return out.reset_index(drop=True)


def order_facts(
    events: pd.DataFrame,
    *,
    response_kinds: tuple[str, ...] = ("sign", "contact"),
) -> pd.DataFrame:
    """Fold an event log into the per-order facts the rates need (vectorised, no Python loop).

    Parameters
    ----------
    events : DataFrame
        The log (:data:`EVENT_COLUMNS`).
    response_kinds : tuple of str
        Event kinds that count as the unit's response (the first one is ``responded_at``).

    Returns
    -------
    DataFrame
        One row per order: ``order_id``, ``requested_at`` (the accept event), ``unit`` (the last
        dispatch's unit), ``responded_at``, ``closed_at`` (the last close, NaT when a reopen
        followed it), ``resolution`` and ``score`` (the last call-back/rate after the last
        reopen), ``reopen_count``.
    """
    ev = normalise_events(events)
    ev = ev.sort_values(["order_id", "seq"], kind="stable")
    facts = pd.DataFrame(index=pd.Index(ev["order_id"].unique(), name="order_id"))

    def last_at(mask: pd.Series) -> pd.Series:
        return ev.loc[mask].groupby("order_id")["at"].max()

    facts["requested_at"] = ev.loc[ev["kind"] == "accept"].groupby("order_id")["at"].min()
    disp = ev.loc[ev["kind"] == "dispatch"]
    facts["unit"] = disp.groupby("order_id")["unit"].last()
    facts["unit"] = facts["unit"].fillna("")
    facts["responded_at"] = ev.loc[ev["kind"].isin(response_kinds)].groupby("order_id")["at"].min()
    # an order's last reopen voids every close, call-back and rating before it
    last_reopen = ev.loc[ev["kind"] == "reopen"].groupby("order_id")["seq"].max()
    ev["_after"] = ev["seq"] > ev["order_id"].map(last_reopen).fillna(-1)
    facts["closed_at"] = last_at((ev["kind"] == "close") & ev["_after"])
    rated = ev.loc[(ev["kind"] == "rate") & ev["_after"] & ev["score"].notna()]
    facts["score"] = rated.groupby("order_id")["score"].last()
    stated = ev.loc[ev["kind"].isin(["callback", "rate"]) & ev["_after"] & (ev["resolution"] != "")]
    facts["resolution"] = stated.groupby("order_id")["resolution"].last()
    facts["resolution"] = facts["resolution"].fillna("")
    reopens = (ev["kind"] == "reopen").groupby(ev["order_id"], sort=False).sum()
    facts["reopen_count"] = reopens.reindex(facts.index).fillna(0).astype(np.int64)
    return facts.reset_index()
