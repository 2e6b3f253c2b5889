"""Import exports of past orders (CSV or Excel): the NYC 311 sample and the Chinese messages.

Fields are mapped to the one intake schema; rows that cannot be read are reported with their row
numbers (the file's line number for CSV, the sheet row for Excel) while good rows are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from citycheck.listen.domain import Channel, RequestType
from citycheck.listen.store import Intake

NYC_TZ = ZoneInfo("America/New_York")
CN_TZ = ZoneInfo("Asia/Shanghai")

NYC_COLUMNS = ("Unique Key", "Created Date", "Complaint Type")
CN_COLUMNS = ("留言编号", "留言时间", "留言详情")


@dataclass
class ImportResult:
    """Rows read, the intakes made from the good ones, and the problems of the bad ones."""

    kind: str
    rows: int
    intakes: list[Intake] = field(default_factory=list)
    bad: list[tuple[int, str]] = field(default_factory=list)  # (row number, why)


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV (UTF-8, UTF-8 with BOM or GB18030) or Excel file as strings."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    if p.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        return pd.read_excel(p, dtype=str)
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(p, dtype=str, encoding=enc, keep_default_na=False)
        except UnicodeDecodeError:
            continue
    raise ValueError(f"{p}: not UTF-8 or GB18030 text")


def detect_kind(table: pd.DataFrame) -> str:
    """``nyc311``, ``cn_messages`` or ``generic`` (columns named like the intake fields)."""
    cols = set(table.columns)
    if set(NYC_COLUMNS) <= cols:
        return "nyc311"
    if set(CN_COLUMNS) <= cols:
        return "cn_messages"
    if "description" in cols:
        return "generic"
    raise ValueError(
        "unknown table: expected the NYC 311 columns "
        f"{NYC_COLUMNS}, the message-board columns {CN_COLUMNS}, or a 'description' column; "
        f"got {list(table.columns)[:12]}"
    )


def _s(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value).strip()


def _coord(value: str, name: str, low: float, high: float) -> float | None:
    if not value:
        return None
    x = float(value)  # ValueError names the value
    if not low <= x <= high:
        raise ValueError(f"{name} {value!r} outside [{low}, {high}]")
    return x


def _nyc_row(r: pd.Series) -> Intake:
    created = datetime.strptime(_s(r["Created Date"]), "%m/%d/%Y %I:%M:%S %p").replace(
        tzinfo=NYC_TZ
    )
    closed_s = _s(r.get("Closed Date"))
    closed = (
        datetime.strptime(closed_s, "%m/%d/%Y %I:%M:%S %p").replace(tzinfo=NYC_TZ)
        if closed_s
        else None
    )
    if closed is not None and closed < created:
        raise ValueError(f"Closed Date {closed_s!r} is before Created Date")
    lat = _coord(_s(r.get("Latitude")), "Latitude", -90, 90)
    lon = _coord(_s(r.get("Longitude")), "Longitude", -180, 180)
    if (lat is None) != (lon is None):
        raise ValueError("Latitude and Longitude must both be present or both absent")
    ctype = _s(r["Complaint Type"])
    if not ctype:
        raise ValueError("Complaint Type is empty")
    desc = " - ".join(x for x in (ctype, _s(r.get("Descriptor"))) if x)
    status = _s(r.get("Status"))
    return Intake(
        description=desc,
        service_code=ctype,
        request_type=RequestType.COMPLAINT,
        channel=Channel.IMPORT,
        lat=lat,
        lon=lon,
        address=_s(r.get("Incident Address")) or None,
        requested_at=created,
        external_id=_s(r["Unique Key"]),
        actor="import:nyc311",
        closed_at=closed if status.lower() == "closed" else None,
        source={
            "agency": _s(r.get("Agency")),
            "status": status,
            "due": _s(r.get("Due Date")),
            "borough": _s(r.get("Borough")),
        },
    )


def _cn_row(r: pd.Series) -> Intake:
    text = _s(r["留言详情"])
    title = _s(r.get("留言主题"))
    if not text and not title:
        raise ValueError("留言主题 and 留言详情 are both empty")
    t = _s(r["留言时间"])
    try:
        at = datetime.strptime(t, "%Y/%m/%d %H:%M:%S")
    except ValueError:
        at = datetime.fromisoformat(t)
    label = _s(r.get("一级分类")) or None
    return Intake(
        description=(title + "\n" + text).strip(),
        service_code=label,
        channel=Channel.WEB,
        requested_at=at.replace(tzinfo=CN_TZ),
        external_id=_s(r["留言编号"]),
        actor="import:cn_messages",
        account_id=_s(r.get("留言用户")) or None,
        source={"category": label or ""},
    )


def _generic_row(r: pd.Series) -> Intake:
    text = _s(r["description"])
    if not text:
        raise ValueError("description is empty")
    at = _s(r.get("requested_at"))
    when = datetime.fromisoformat(at) if at else None
    if when is not None and when.tzinfo is None:
        raise ValueError(f"requested_at {at!r} lacks a timezone")
    return Intake(
        description=text,
        service_code=_s(r.get("service_code")) or None,
        channel=Channel.IMPORT,
        lat=_coord(_s(r.get("lat")), "lat", -90, 90),
        lon=_coord(_s(r.get("lon")), "lon", -180, 180),
        requested_at=when,
        external_id=_s(r.get("id")) or None,
        actor="import",
    )


_MAPPERS = {"nyc311": _nyc_row, "cn_messages": _cn_row, "generic": _generic_row}


def intakes_from_table(table: pd.DataFrame, *, source: str = "table") -> ImportResult:
    """Map every row; bad rows are reported as (row number, reason) and skipped.

    Row numbers count the header as row 1, so they match the line of a CSV file (without
    embedded newlines) and the row of a spreadsheet.
    """
    kind = detect_kind(table)
    mapper = _MAPPERS[kind]
    result = ImportResult(kind=kind, rows=len(table))
    for i, (_, row) in enumerate(table.iterrows()):
        try:
            result.intakes.append(mapper(row))
        except (ValueError, KeyError) as exc:
            result.bad.append((i + 2, f"{source} row {i + 2}: {exc}"))
    return result
