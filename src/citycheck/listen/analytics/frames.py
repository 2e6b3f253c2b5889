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
from citycheck.labels import labels_under

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
RESOLUTIONS: dict[str, tuple[str, str]] = labels_under("hotline.resolution")

_REQUIRED_ORDERS = ("order_id", "requested_at", "category")


def _first_bad(s: pd.Series, conv: pd.Series) -> int | None:
    """Row of the first value that is present but did not convert (None when all did)."""
    cand = conv.isna() & s.notna()
    if not cand.any():
        return None
    sub = s[cand]
    bad = sub.astype(str).str.strip() != ""
    if not bad.any():
        return None
    return int(s.index.get_indexer([bad.index[bad.to_numpy()][0]])[0])


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
            if isinstance(s.dtype, pd.CategoricalDtype):
                if s.isna().any():
                    if "" not in s.cat.categories:
                        s = s.cat.add_categories([""])
                    s = s.fillna("")
                out[col] = s
            elif pd.api.types.is_string_dtype(s.dtype) and s.dtype != object:
                out[col] = s.fillna("") if s.isna().any() else s
            else:
                out[col] = s.astype(object).where(s.notna(), "").astype(str)
        elif kind == "datetime":
            if isinstance(s.dtype, pd.DatetimeTZDtype):
                s = s.dt.tz_localize(None)
            if pd.api.types.is_datetime64_dtype(s.dtype):
                out[col] = s.astype("datetime64[ns]")
                continue
            conv = pd.to_datetime(s, errors="coerce", format="mixed")
            i = _first_bad(s, conv)
            if i is not None:
                raise InputError(source, col, s.iloc[i], f"not a date/time (row {i + 1})")
            out[col] = conv.astype("datetime64[ns]")
        elif kind == "float":
            if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
                out[col] = s.astype(float)
                continue
            conv = pd.to_numeric(s, errors="coerce")
            i = _first_bad(s, conv)
            if i is not None:
                raise InputError(source, col, s.iloc[i], f"not a number (row {i + 1})")
            out[col] = conv.astype(float)
        else:
            out[col] = pd.to_numeric(s, errors="coerce").fillna(0).astype(np.int64)
    return _frame(out, df.index)


def _frame(columns: dict[str, pd.Series], index: pd.Index) -> pd.DataFrame:
    """A frame from columns without consolidating them into 2-D blocks (a full copy of every
    column, seconds at ten million rows)."""
    frame = pd.DataFrame(index=index)
    for name, s in columns.items():
        frame[name] = s
    return frame


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
    bad = ~res.isin(["", *RESOLUTIONS])
    if bad.any():
        raise InputError(source, "resolution", res[bad].iloc[0], f"use one of {list(RESOLUTIONS)}")
    for c in orders.columns:
        if c not in ORDER_COLUMNS:
            out[c] = orders[c]
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
    # integer codes for orders and kinds: every step below is a numpy pass or an integer groupby
    oid, ids = pd.factorize(ev["order_id"])
    seq = ev["seq"].to_numpy(np.int64)
    order = np.lexsort((seq, oid))
    oid, seq = oid[order], seq[order]
    kind = ev["kind"].to_numpy(dtype=object)[order]
    at = ev["at"].to_numpy("datetime64[ns]")[order]
    unit = ev["unit"].to_numpy(dtype=object)[order]
    score = ev["score"].to_numpy(float)[order]
    resolution = ev["resolution"].to_numpy(dtype=object)[order]
    kcode, kinds = pd.factorize(kind)
    kinds = list(kinds)

    def is_kind(*names: str) -> np.ndarray:
        wanted = [kinds.index(n) for n in names if n in kinds]
        return np.isin(kcode, wanted)

    n = len(ids)

    def agg(mask: np.ndarray, values: np.ndarray, how: str, fill):  # type: ignore[no-untyped-def]
        out = pd.Series(values[mask]).groupby(oid[mask]).agg(how)
        full = pd.Series(fill, index=np.arange(n), dtype=out.dtype if len(out) else None)
        full.loc[out.index] = out.to_numpy()
        return full.to_numpy()

    reopen = is_kind("reopen")
    last_reopen = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last_reopen, oid[reopen], seq[reopen])
    after = seq > last_reopen[oid]
    nat = np.datetime64("NaT", "ns")
    facts = pd.DataFrame({"order_id": np.asarray(ids)})
    facts["requested_at"] = agg(is_kind("accept"), at, "min", nat)
    facts["unit"] = agg(is_kind("dispatch"), unit, "last", "")
    facts["responded_at"] = agg(is_kind(*response_kinds), at, "min", nat)
    facts["closed_at"] = agg(is_kind("close") & after, at, "max", nat)
    facts["score"] = agg(is_kind("rate") & after & ~np.isnan(score), score, "last", np.nan)
    stated = is_kind("callback", "rate") & after & (resolution != "")
    facts["resolution"] = agg(stated, resolution, "last", "")
    facts["reopen_count"] = np.bincount(oid[reopen], minlength=n).astype(np.int64)
    for c in ("requested_at", "responded_at", "closed_at"):
        facts[c] = facts[c].astype("datetime64[ns]")
    return facts
