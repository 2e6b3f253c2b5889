"""Adapters from the tables hotlines export to the orders frame of :mod:`.frames`.

Each adapter maps the source's own fields and names the source in every error. I/O stays in
:func:`read_orders`; the mapping functions are pure.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from citycheck.io.errors import InputError
from citycheck.listen.analytics.frames import normalise_orders

__all__ = ["NYC311_FIELDS", "from_cn_messages", "from_nyc311", "read_orders"]

#: NYC 311 export field -> orders column.
NYC311_FIELDS: dict[str, str] = {
    "Unique Key": "order_id",
    "Created Date": "requested_at",
    "Closed Date": "closed_at",
    "Due Date": "due_at",
    "Agency": "unit",
    "Complaint Type": "category",
    "Borough": "area",
    "Latitude": "lat",
    "Longitude": "lon",
    "Descriptor": "text",
}

#: Chinese message-board export field -> orders column.
CN_MESSAGE_FIELDS: dict[str, str] = {
    "留言编号": "order_id",
    "留言时间": "requested_at",
    "一级分类": "category",
    "留言用户": "requester",
}

_NYC_TIME = "%m/%d/%Y %I:%M:%S %p"
_DISTRICT = re.compile(r"[A-Z][0-9]+[区县]")
_CITY = re.compile(r"[A-Z]市")


def _parse_times(s: pd.Series, fmt: str | None, source: str, field: str) -> pd.Series:
    conv = pd.to_datetime(s, format=fmt, errors="coerce")
    bad = conv.isna() & s.notna() & (s.astype(str).str.strip() != "")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(source, field, s.iloc[i], f"not a date/time (row {i + 2} of the file)")
    return conv


def from_nyc311(raw: pd.DataFrame, *, source: str = "NYC 311 export") -> pd.DataFrame:
    """Map an NYC Open Data 311 export to the orders frame.

    ``Agency`` becomes the handling unit, ``Complaint Type`` the category, ``Borough`` the
    area, ``Due Date`` the closure deadline, ``Descriptor`` the text; ``Incident Address`` is
    kept as ``address`` (for repeat places). Times are parsed with the export's
    ``MM/DD/YYYY hh:mm:ss AM`` format.
    """
    missing = [f for f in ("Unique Key", "Created Date", "Complaint Type") if f not in raw.columns]
    if missing:
        raise InputError(source, missing[0], None, "missing column of the NYC 311 export")
    out = pd.DataFrame(index=raw.index)
    for field, col in NYC311_FIELDS.items():
        if field not in raw.columns:
            continue
        s = raw[field]
        if col.endswith("_at"):
            out[col] = _parse_times(s, _NYC_TIME, source, field)
        elif col in ("lat", "lon"):
            out[col] = pd.to_numeric(s, errors="coerce")
        else:
            out[col] = s.astype(object).where(s.notna(), "").astype(str)
    out["area"] = out.get("area", pd.Series("", index=raw.index)).str.title()
    if "Incident Address" in raw.columns:
        out["address"] = raw["Incident Address"].fillna("").astype(str)
    return normalise_orders(out, source=source)


def from_cn_messages(raw: pd.DataFrame, *, source: str = "message board export") -> pd.DataFrame:
    """Map a Chinese government message-board export (留言编号, 留言时间, 留言主题, 留言详情,
    一级分类, 留言用户) to the orders frame.

    The text is the title and the detail joined; the area is the first district name of the
    form ``A3区`` / ``A7县`` (else a city name ``B市``) found in the title or text (the export
    masks real names that way), "" when none.
    """
    missing = [f for f in ("留言编号", "留言时间", "一级分类") if f not in raw.columns]
    if missing:
        raise InputError(source, missing[0], None, "missing column of the message export")
    out = pd.DataFrame(index=raw.index)
    for field, col in CN_MESSAGE_FIELDS.items():
        if field in raw.columns:
            out[col] = raw[field]
    out["requested_at"] = _parse_times(raw["留言时间"], None, source, "留言时间")
    title = raw.get("留言主题", pd.Series("", index=raw.index)).fillna("").astype(str)
    detail = raw.get("留言详情", pd.Series("", index=raw.index)).fillna("").astype(str)
    out["title"] = title.str.strip()
    out["text"] = (title.str.strip() + "。" + detail.str.strip()).str.strip("。")
    both = title + " " + detail
    district = both.str.extract(f"({_DISTRICT.pattern})", expand=False)
    city = both.str.extract(f"({_CITY.pattern})", expand=False)
    out["area"] = district.fillna(city).fillna("")
    return normalise_orders(out, source=source)


def read_orders(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV or Excel export and map it to the orders frame.

    The format is recognised from its headers: NYC 311 (``Unique Key``), the Chinese message
    board (``留言编号``), or a table already in the orders format (``order_id``).

    Raises
    ------
    InputError
        Unreadable file, or headers of no known format.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(p, "path", str(p), "no such file")
    if p.suffix.lower() in (".xlsx", ".xls"):
        raw = pd.read_excel(p, dtype=object)
    else:
        raw = pd.read_csv(p, dtype=object, encoding="utf-8-sig")
    cols = set(raw.columns)
    if "Unique Key" in cols:
        return from_nyc311(raw, source=str(p))
    if "留言编号" in cols:
        return from_cn_messages(raw, source=str(p))
    if "order_id" in cols:
        return normalise_orders(raw, source=str(p))
    raise InputError(p, "header", sorted(cols)[:5], "not an NYC 311, message-board or orders table")
