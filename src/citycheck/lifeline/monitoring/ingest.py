"""Sensor readings in: units to canonical, validation, duplicates, gaps, then the store.

Quantities and their canonical units

========== =========== ===================================================================
quantity   canonical   accepted units
========== =========== ===================================================================
pressure   m (head)    m, mH2O, kPa, MPa, bar, psi  (1 m of water = 9.80665 kPa)
flow       L/s         L/s, m3/h, m3/s, gpm
tank_level m           m, cm, ft
gas        %LEL        %LEL, %vol, ppm  (methane, LEL 5 %vol)
water_level m          m, cm, mm  (water surface relative to ground; > 0 is ponding)
========== =========== ===================================================================

Every rejected row is named (file, line, field, value, problem in English and Chinese); rows
already stored are never changed: a re-delivered reading with a different value is reported as a
conflict and the stored one kept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from citycheck.lifeline.monitoring.store import SensorStore

__all__ = ["QUANTITIES", "IngestError", "IngestReport", "find_gaps", "ingest_csv", "ingest_frame"]

log = logging.getLogger(__name__)

#: Methane lower explosive limit, % by volume (GB/T 50493-2019 appendix; IEC 60079-20-1: 4.4-5).
METHANE_LEL_VOL_PCT = 5.0

#: quantity -> (canonical unit, {unit: factor to canonical}, plausible canonical range, zh, en)
QUANTITIES: dict[str, tuple[str, dict[str, float], tuple[float, float], str, str]] = {
    "pressure": (
        "m",
        {
            "m": 1.0,
            "mh2o": 1.0,
            "kpa": 1 / 9.80665,
            "mpa": 1000 / 9.80665,
            "bar": 100 / 9.80665,
            "psi": 6.894757 / 9.80665,
        },
        (-5.0, 150.0),
        "压力",
        "pressure",
    ),
    "flow": (
        "L/s",
        {"l/s": 1.0, "m3/h": 1 / 3.6, "m3/s": 1000.0, "gpm": 0.0630902},
        (-1e5, 1e5),
        "流量",
        "flow",
    ),
    "tank_level": (
        "m",
        {"m": 1.0, "cm": 0.01, "ft": 0.3048},
        (-1.0, 100.0),
        "水位（水池）",
        "tank level",
    ),
    "gas": (
        "%LEL",
        {
            "%lel": 1.0,
            "%vol": 100.0 / METHANE_LEL_VOL_PCT,
            "ppm": 1e-4 * 100.0 / METHANE_LEL_VOL_PCT,
        },
        (0.0, 100.0),
        "可燃气体浓度",
        "combustible gas",
    ),
    "water_level": (
        "m",
        {"m": 1.0, "cm": 0.01, "mm": 0.001},
        (-20.0, 5.0),
        "积水/井内水位",
        "water level",
    ),
}

REQUIRED = ("timestamp", "sensor_id", "quantity", "value")


class IngestError(ValueError):
    """The feed cannot be read at all (missing file or columns); nothing was stored."""


@dataclass
class IngestReport:
    """What an ingest did."""

    source: str
    rows_read: int = 0
    inserted: int = 0
    duplicates_identical: int = 0
    rejected: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            columns=["line", "field", "value", "problem", "problem_zh"]
        )
    )
    conflicts: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            columns=["sensor_id", "quantity", "ts", "stored", "new"]
        )
    )
    gaps: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            columns=["sensor_id", "quantity", "start_ts", "end_ts", "missing_s"]
        )
    )
    accepted: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["sensor_id", "quantity", "ts"])
    )
    """Keys of the valid readings of the feed (stored now or before)."""

    def summary(self) -> str:
        """One line for people."""
        return (
            f"{self.source}: {self.rows_read} rows, {self.inserted} stored, "
            f"{self.duplicates_identical} duplicates, {len(self.rejected)} rejected, "
            f"{len(self.conflicts)} conflicts with stored readings, {len(self.gaps)} gaps"
        )


def _parse_times(raw: pd.Series, tz: str) -> pd.Series:
    """Parse each timestamp on its own (feeds mix zones); naive ones are in ``tz``."""
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
    for i, text in raw.items():
        try:
            ts = pd.Timestamp(str(text).strip())
        except (ValueError, TypeError):
            continue
        if pd.isna(ts):
            continue
        out[i] = ts.tz_localize(tz).tz_convert("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return out


def ingest_frame(
    store: SensorStore,
    frame: pd.DataFrame,
    *,
    source: str,
    sensors: pd.DataFrame | None = None,
    tz: str = "Asia/Shanghai",
    line_offset: int = 2,
) -> IngestReport:
    """Validate, convert and store readings.

    Parameters
    ----------
    store : SensorStore
    frame : DataFrame
        ``timestamp``, ``sensor_id``, ``quantity``, ``value`` and optionally ``unit``.
    source : str
        Name of the feed (file or URL) used in messages.
    sensors : DataFrame, optional
        Sensor registry: ``sensor_id``, ``quantity``, ``unit`` — the unit used when a row has
        none, and a check that each row's quantity is the sensor's.
    tz : str
        Time zone of timestamps written without one.
    line_offset : int
        Line number of the first row in the source (2 for a CSV with a header).

    Returns
    -------
    IngestReport
    """
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise IngestError(f"{source}: missing column(s) {missing}; have {list(frame.columns)}")
    rep = IngestReport(source=source, rows_read=len(frame))
    rejected: list[dict] = []
    lines = pd.Series(np.arange(len(frame)) + line_offset, index=frame.index)

    def reject(mask: pd.Series, field_: str, values: pd.Series, en: str, zh: str) -> None:
        for i in frame.index[mask.to_numpy(dtype=bool)]:
            rejected.append(
                {
                    "line": int(lines[i]),
                    "field": field_,
                    "value": values[i],
                    "problem": en,
                    "problem_zh": zh,
                }
            )

    ok = pd.Series(True, index=frame.index)
    ts = _parse_times(frame["timestamp"].astype(str), tz)
    bad = ts.isna()
    reject(bad, "timestamp", frame["timestamp"], "not a time", "时间无法解析")
    ok &= ~bad
    qty = frame["quantity"].astype(str).str.strip().str.lower()
    bad = ok & ~qty.isin(list(QUANTITIES))
    reject(
        bad,
        "quantity",
        frame["quantity"],
        f"unknown quantity (use {sorted(QUANTITIES)})",
        "未知监测量",
    )
    ok &= ~bad
    sid = frame["sensor_id"].astype(str).str.strip()
    bad = ok & (sid.eq("") | frame["sensor_id"].isna())
    reject(bad, "sensor_id", frame["sensor_id"], "missing sensor id", "缺少传感器编号")
    ok &= ~bad
    val = pd.to_numeric(frame["value"], errors="coerce")
    bad = ok & (val.isna() | ~np.isfinite(val.fillna(0)))
    reject(bad, "value", frame["value"], "not a number", "不是数值")
    ok &= ~bad
    if "unit" in frame.columns:
        unit = frame["unit"].astype("string").str.strip().str.lower()
    else:
        unit = pd.Series(pd.NA, index=frame.index, dtype="string")
    if sensors is not None and len(sensors):
        reg = sensors.assign(sensor_id=sensors["sensor_id"].astype(str)).set_index("sensor_id")
        reg_q = sid.map(reg["quantity"].str.lower())
        bad = ok & reg_q.notna() & (reg_q != qty)
        reject(
            bad,
            "quantity",
            frame["quantity"],
            "quantity differs from the sensor registry",
            "监测量与传感器登记不符",
        )
        ok &= ~bad
        if "unit" in reg.columns:
            unit = unit.fillna(sid.map(reg["unit"].astype(str).str.lower()))
    canon_unit = qty.map(lambda q: QUANTITIES[q][0].lower() if q in QUANTITIES else None)
    unit = unit.fillna(canon_unit)
    factor = pd.Series(
        [
            QUANTITIES[q][1].get(u) if q in QUANTITIES and isinstance(u, str) else None
            for q, u in zip(qty, unit, strict=True)
        ],
        index=frame.index,
        dtype=float,
    )
    bad = ok & factor.isna()
    reject(
        bad,
        "unit",
        frame.get("unit", unit),
        "unit not accepted for this quantity",
        "该监测量不接受此单位",
    )
    ok &= ~bad
    canon = val * factor
    lo = qty.map(lambda q: QUANTITIES[q][2][0] if q in QUANTITIES else np.nan)
    hi = qty.map(lambda q: QUANTITIES[q][2][1] if q in QUANTITIES else np.nan)
    bad = ok & ((canon < lo) | (canon > hi))
    for i in frame.index[bad.to_numpy(dtype=bool)]:
        hint = ""
        if qty[i] == "pressure" and unit[i] in ("m", "mh2o") and 150 < val[i] <= 1600:
            hint = f"; as kPa it would be {val[i] / 9.80665:.1f} m of head: is the unit kPa?"
        rejected.append(
            {
                "line": int(lines[i]),
                "field": "value",
                "value": frame["value"][i],
                "problem": f"outside the plausible range {QUANTITIES[qty[i]][2]} "
                f"{QUANTITIES[qty[i]][0]}{hint}",
                "problem_zh": "超出合理范围（请检查单位，如 kPa 与米水柱）",
            }
        )
    ok &= ~bad
    good = pd.DataFrame(
        {
            "line": lines[ok],
            "sensor_id": sid[ok],
            "quantity": qty[ok],
            "ts": (ts[ok].astype("int64") // 10**9).astype("int64"),
            "value": canon[ok],
        }
    )
    # duplicates within the feed: identical ones are dropped, conflicting ones rejected
    key = ["sensor_id", "quantity", "ts"]
    dup = good.duplicated(key, keep=False)
    conflicts_in_feed = good[dup].groupby(key)["value"].transform("nunique") > 1
    for r in good[dup][conflicts_in_feed.to_numpy()].itertuples():
        rejected.append(
            {
                "line": int(r.line),
                "field": "timestamp",
                "value": r.ts,
                "problem": "duplicate timestamp with a different value in the same feed",
                "problem_zh": "同一时间重复且数值不同",
            }
        )
    conflicted = good.set_index(key).index.isin(
        good[dup][conflicts_in_feed.to_numpy()].set_index(key).index
    )
    clean = good[~conflicted]
    accepted = clean.drop_duplicates(key)
    rep.duplicates_identical = int(clean.duplicated(key).sum())
    clean = clean.drop_duplicates(key)
    stored = store.existing(clean[key].itertuples(index=False, name=None))
    if stored:
        sk = pd.Series(stored)
        idx = pd.MultiIndex.from_frame(clean[key])
        old = sk.reindex(idx).to_numpy()
        has = ~np.isnan(old)
        differs = has & ~np.isclose(old, clean["value"].to_numpy(), rtol=1e-9, atol=1e-9)
        rep.conflicts = pd.DataFrame(
            {
                "sensor_id": clean["sensor_id"].to_numpy()[differs],
                "quantity": clean["quantity"].to_numpy()[differs],
                "ts": clean["ts"].to_numpy()[differs],
                "stored": old[differs],
                "new": clean["value"].to_numpy()[differs],
            }
        )
        rep.duplicates_identical += int((has & ~differs).sum())
        clean = clean[~has]
    rep.inserted = store.insert_readings(clean, source=source)
    rep.rejected = pd.DataFrame(
        rejected, columns=["line", "field", "value", "problem", "problem_zh"]
    ).sort_values("line", kind="stable", ignore_index=True)
    rep.gaps = find_gaps(accepted)
    rep.accepted = accepted[["sensor_id", "quantity", "ts"]].reset_index(drop=True)
    if len(rep.rejected):
        log.info("%s: %d rows rejected", source, len(rep.rejected))
    return rep


def find_gaps(readings: pd.DataFrame, *, factor: float = 2.5) -> pd.DataFrame:
    """Gaps longer than ``factor`` times a sensor's usual interval (its median step).

    Returns
    -------
    DataFrame
        ``sensor_id``, ``quantity``, ``start_ts`` (last reading before), ``end_ts`` (first
        after), ``missing_s``.
    """
    rows = []
    for (s, q), g in readings.groupby(["sensor_id", "quantity"]):
        t = np.sort(g["ts"].to_numpy())
        if len(t) < 3:
            continue
        d = np.diff(t)
        step = float(np.median(d))
        for i in np.nonzero(d > factor * step)[0]:
            rows.append(
                {
                    "sensor_id": s,
                    "quantity": q,
                    "start_ts": int(t[i]),
                    "end_ts": int(t[i + 1]),
                    "missing_s": int(d[i] - step),
                }
            )
    return pd.DataFrame(rows, columns=["sensor_id", "quantity", "start_ts", "end_ts", "missing_s"])


def ingest_csv(
    store: SensorStore,
    path: str | Path,
    *,
    sensors: pd.DataFrame | None = None,
    tz: str = "Asia/Shanghai",
) -> IngestReport:
    """Read a sensor CSV (``timestamp,sensor_id,quantity,value[,unit]``) into the store.

    See :func:`ingest_frame`; raises :class:`IngestError` naming the file when it cannot be read.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except FileNotFoundError as exc:
        raise IngestError(f"{path}: no such file") from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise IngestError(f"{path}: not a readable CSV: {exc}") from exc
    frame.columns = [c.strip().lower() for c in frame.columns]
    return ingest_frame(store, frame, source=str(path), sensors=sensors, tz=tz)
