"""The three rates (响应率, 解决率, 满意率), on-time closure and closure time, per any grouping.

Per-order flags are computed with vectorised numpy; the grouping runs in DuckDB (default) or
pandas (the reference the tests compare DuckDB against). Every rate carries a Wilson score
interval and rankings use its lower bound, so small samples do not top a table.
"""

from __future__ import annotations

import logging
import math
import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from citycheck.io.errors import InputError
from citycheck.labels import labels_under
from citycheck.listen.analytics.frames import RESOLUTIONS, normalise_orders

__all__ = [
    "RATE_NAMES",
    "RateConfig",
    "load_rate_config",
    "order_flags",
    "rank_table",
    "three_rates",
    "wilson_interval",
]

log = logging.getLogger(__name__)

#: Rate ids -> (zh, en).
RATE_NAMES: dict[str, tuple[str, str]] = labels_under("hotline.rate")


@dataclass(frozen=True)
class RateConfig:
    """One city's formulas for the three rates (see ``data/rates.toml`` for their meaning)."""

    id: str = "default"
    zh: str = "默认口径"
    en: str = "Default"
    response_hours: float = 24.0
    exclude_request_types: tuple[str, ...] = ()
    resolution_basis: str = "assessed"
    resolution_from_closure: bool = True
    confidence: float = 0.95
    weights: dict[str, float] = field(
        default_factory=lambda: {"response": 1.0, "resolution": 1.0, "satisfaction": 1.0}
    )
    resolution_weights: dict[str, float] = field(
        default_factory=lambda: {"resolved": 1.0, "partly": 0.0, "unresolved": 0.0}
    )
    satisfaction_weights: dict[int, float] = field(
        default_factory=lambda: {1: 0.0, 2: 0.0, 3: 1.0, 4: 1.0, 5: 1.0}
    )
    note: str = ""


def load_rate_config(
    city: str = "default", path: str | os.PathLike[str] | None = None
) -> RateConfig:
    """Read one city's rate formulas.

    Parameters
    ----------
    city : str
        Id of a ``[cities.<id>]`` table.
    path : path-like, optional
        A TOML file in the format of the bundled ``data/rates.toml`` (default that file).

    Raises
    ------
    InputError
        Unknown city, a basis other than assessed/received, negative weights, or scores that
        are not 1..5.
    """
    if path is None:
        text = (resources.files("citycheck.listen.analytics") / "data" / "rates.toml").read_text(
            encoding="utf-8"
        )
        src = "rates.toml (bundled)"
    else:
        text = Path(path).read_text(encoding="utf-8")
        src = str(path)
    cities = tomllib.loads(text).get("cities", {})
    if city not in cities:
        raise InputError(src, "cities", city, f"no such city; have {sorted(cities)}")
    c = cities[city]
    basis = c.get("resolution_basis", "assessed")
    if basis not in ("assessed", "received"):
        raise InputError(src, f"cities.{city}.resolution_basis", basis, "use assessed or received")
    sat = {int(k): float(v) for k, v in c.get("satisfaction_weights", {}).items()}
    if sat and set(sat) - {1, 2, 3, 4, 5}:
        raise InputError(src, f"cities.{city}.satisfaction_weights", sorted(sat), "scores are 1..5")
    weights = {k: float(v) for k, v in c.get("weights", {}).items()}
    for name, w in {**weights, **c.get("resolution_weights", {})}.items():
        if float(w) < 0:
            raise InputError(src, f"cities.{city}.{name}", w, "weights must be >= 0")
    base = RateConfig()
    return RateConfig(
        id=city,
        zh=c.get("zh", city),
        en=c.get("en", city),
        response_hours=float(c.get("response_hours", base.response_hours)),
        exclude_request_types=tuple(c.get("exclude_request_types", ())),
        resolution_basis=basis,
        resolution_from_closure=bool(c.get("resolution_from_closure", True)),
        confidence=float(c.get("confidence", 0.95)),
        weights=weights or base.weights,
        resolution_weights={k: float(v) for k, v in c.get("resolution_weights", {}).items()}
        or base.resolution_weights,
        satisfaction_weights=sat or base.satisfaction_weights,
        note=c.get("note", ""),
    )


def wilson_interval(
    successes: np.ndarray | float, n: np.ndarray | float, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion (Wilson 1927), vectorised.

    ``successes`` may be fractional (weighted credit); NaN where ``n`` is 0.

    Returns
    -------
    (lower, upper) : arrays
    """
    s = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    z = float(norm.ppf(0.5 + confidence / 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = s / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(np.clip(p * (1 - p), 0, None) / n + z * z / (4 * n * n)) / denom
        lo = np.where(n > 0, np.clip(centre - half, 0, 1), np.nan)
        hi = np.where(n > 0, np.clip(centre + half, 0, 1), np.nan)
    return lo, hi


def order_flags(
    orders: pd.DataFrame,
    config: RateConfig | None = None,
    *,
    as_of: pd.Timestamp | None = None,
    normalised: bool = False,
) -> pd.DataFrame:
    """Per-order numerators and denominators of every rate (one row per order).

    Parameters
    ----------
    orders : DataFrame
        Orders table (:data:`~citycheck.listen.analytics.frames.ORDER_COLUMNS`).
    config : RateConfig, optional
        The city's formulas (default :class:`RateConfig`).
    as_of : Timestamp, optional
        The time of the statistics: open orders past their deadline at ``as_of`` count as late;
        open orders not yet due are left out of the on-time rate. Default the latest time in the
        table.
    normalised : bool
        Skip :func:`normalise_orders` (the caller already did it).

    Returns
    -------
    DataFrame
        Float columns ``eligible`` (eligible orders whose response is decided: responded, or
        past the response deadline), ``responded``, ``res_credit``, ``assessed``, ``rated``,
        ``sat_credit``, ``due_decided``, ``on_time``, ``closed``, ``closure_hours`` (NaN when
        open or when closed before requested — a data error counted in ``closed_before_requested``).
    """
    cfg = config or RateConfig()
    o = orders if normalised else normalise_orders(orders)
    req = o["requested_at"].to_numpy("datetime64[ns]")
    if as_of is None:
        stamps = [o[c].max() for c in ("requested_at", "closed_at", "responded_at")]
        as_of = max(t for t in stamps if pd.notna(t))
    as_of64 = np.datetime64(pd.Timestamp(as_of).to_datetime64(), "ns")
    eligible = ~o["request_type"].isin(cfg.exclude_request_types).to_numpy()
    resp = o["responded_at"].to_numpy("datetime64[ns]")
    rdue = o["respond_due_at"].to_numpy("datetime64[ns]")
    fallback = req + np.timedelta64(int(cfg.response_hours * 3600), "s")
    rdue = np.where(np.isnat(rdue), fallback, rdue)
    responded = ~np.isnat(resp) & (resp <= rdue) & eligible
    # decided: responded, or the deadline has passed; a table with no response times at all
    # (an export without them) gives no response rate rather than zero
    if np.isnat(resp).all():
        resp_decided = np.zeros(len(o), dtype=bool)
    else:
        resp_decided = eligible & (~np.isnat(resp) | (rdue < as_of64))

    closed_at = o["closed_at"].to_numpy("datetime64[ns]")
    closed = ~np.isnat(closed_at)
    res = o["resolution"]
    stated = (res != "").to_numpy()
    credit = np.zeros(len(o))
    for outcome, w in cfg.resolution_weights.items():
        credit[(res == outcome).to_numpy()] = w
    if cfg.resolution_from_closure:
        inferred = ~stated & closed
        credit[inferred] = cfg.resolution_weights.get("resolved", 1.0)
        stated = stated | inferred
    assessed = stated & eligible
    if cfg.resolution_basis == "received":
        assessed = eligible.copy()
    res_credit = np.where(assessed, credit, 0.0)

    score = o["score"].to_numpy(dtype=float)
    rated = ~np.isnan(score) & eligible
    sat_credit = np.zeros(len(o))
    for s, w in cfg.satisfaction_weights.items():
        sat_credit[score == s] = w
    sat_credit = np.where(rated, sat_credit, 0.0)

    due = o["due_at"].to_numpy("datetime64[ns]")
    has_due = ~np.isnat(due)
    on_time = has_due & closed & (closed_at <= due)
    due_decided = has_due & (closed | (due < as_of64))
    hours = (closed_at - req) / np.timedelta64(1, "h")
    # a closure stamped before the request is a data error: no closure time from it
    bad_dates = closed & (hours < 0)
    hours = np.where(closed & ~bad_dates, hours, np.nan)
    cols = {
        "eligible": resp_decided.astype(float),
        "responded": responded.astype(float),
        "res_credit": res_credit,
        "assessed": assessed.astype(float),
        "rated": rated.astype(float),
        "sat_credit": sat_credit,
        "due_decided": due_decided.astype(float),
        "on_time": on_time.astype(float),
        "closed": closed.astype(float),
        "closure_hours": hours.astype(float),
        "closed_before_requested": bad_dates.astype(float),
    }
    # one 2-D float block: no consolidation copy when the frame is built
    block = np.empty((len(o), len(cols)))
    for j, v in enumerate(cols.values()):
        block[:, j] = v
    return pd.DataFrame(block, columns=list(cols), index=o.index, copy=False)


_SUMS = ("eligible", "responded", "res_credit", "assessed", "rated", "sat_credit")
_SUMS2 = ("due_decided", "on_time", "closed", "closed_before_requested")


def _group_pandas(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    if keys:
        g = frame.groupby(keys, sort=True, dropna=False, observed=True)
        out = g[list(_SUMS + _SUMS2)].sum()
        out["orders"] = g.size()
        out["closure_hours_median"] = g["closure_hours"].median()
        out["closure_hours_mean"] = g["closure_hours"].mean()
        return out.reset_index()
    row = {c: frame[c].sum() for c in _SUMS + _SUMS2}
    row["orders"] = len(frame)
    row["closure_hours_median"] = frame["closure_hours"].median()
    row["closure_hours_mean"] = frame["closure_hours"].mean()
    return pd.DataFrame([row])


_NAT = np.iinfo(np.int64).min


def _sql_number(v: float) -> str:
    return repr(float(v))


def _rates_duckdb(
    o: pd.DataFrame,
    codes: dict[str, np.ndarray],
    cfg: RateConfig,
    as_of: pd.Timestamp | None,
) -> pd.DataFrame:
    """Per-order flags *and* their sums in one DuckDB query (the default engine).

    The same formulas as :func:`order_flags` written in SQL on integer nanosecond times, so no
    per-order float table is built in pandas; the result has the columns of
    :func:`_group_pandas` (tests check the two engines agree).
    """
    import duckdb

    def ns(col: str) -> np.ndarray:
        return o[col].to_numpy("datetime64[ns]").view(np.int64)

    req, resp, rdue, closed_at = (
        ns("requested_at"), ns("responded_at"), ns("respond_due_at"), ns("closed_at")
    )  # fmt: skip
    if as_of is None:
        stamps = [a[a != _NAT].max() for a in (req, closed_at, resp) if (a != _NAT).any()]
        as_of_ns = int(max(stamps))
    else:
        as_of_ns = int(pd.Timestamp(as_of).to_datetime64().astype("datetime64[ns]").view(np.int64))
    outcomes = ["", *RESOLUTIONS]
    res_code = pd.Categorical(o["resolution"], categories=outcomes).codes.astype(np.int8)
    cols: dict[str, np.ndarray] = {
        **{k: c.astype(np.int32) for k, c in codes.items()},
        "req": req,
        "resp": resp,
        "rdue": rdue,
        "cl": closed_at,
        "due": ns("due_at"),
        "score": o["score"].to_numpy(dtype=float),
        "res": res_code,
        "elig": ~o["request_type"].isin(cfg.exclude_request_types).to_numpy(),
    }
    frame = pd.DataFrame(index=pd.RangeIndex(len(o)))
    for name, arr in cols.items():
        frame[name] = arr
    nat = str(_NAT)
    resp_ns = int(cfg.response_hours * 3600) * 1_000_000_000
    credit = " ".join(
        f"WHEN {outcomes.index(k)} THEN {_sql_number(w)}"
        for k, w in cfg.resolution_weights.items()
        if k in outcomes
    )
    credit = f"CASE res {credit} ELSE 0.0 END" if credit else "0.0"
    if cfg.resolution_from_closure:
        w_res = _sql_number(cfg.resolution_weights.get("resolved", 1.0))
        credit = f"CASE WHEN res = 0 AND cl <> {nat} THEN {w_res} ELSE {credit} END"
        stated = f"(res <> 0 OR cl <> {nat})"
    else:
        stated = "(res <> 0)"
    assessed = "elig" if cfg.resolution_basis == "received" else f"({stated} AND elig)"
    sat = " ".join(
        f"WHEN score = {_sql_number(k)} THEN {_sql_number(w)}"
        for k, w in cfg.satisfaction_weights.items()
    )
    sat = f"CASE {sat} ELSE 0.0 END" if sat else "0.0"
    rdue2 = f"(CASE WHEN rdue = {nat} THEN req + {resp_ns} ELSE rdue END)"
    no_resp_times = bool((resp == _NAT).all())
    decided = "FALSE" if no_resp_times else f"(elig AND (resp <> {nat} OR {rdue2} < {as_of_ns}))"
    closed = f"(cl <> {nat})"
    has_due = f"(due <> {nat})"
    flags = {
        "eligible": decided,
        "responded": f"(resp <> {nat} AND resp <= {rdue2} AND elig)",
        "res_credit": f"CASE WHEN {assessed} THEN {credit} ELSE 0.0 END",
        "assessed": assessed,
        # the scan hands NaN scores over as NULL: both mean "not rated"
        "rated": "(score IS NOT NULL AND NOT isnan(score) AND elig)",
        "sat_credit": f"CASE WHEN score IS NOT NULL AND NOT isnan(score) AND elig THEN {sat} "
        "ELSE 0.0 END",
        "due_decided": f"({has_due} AND ({closed} OR due < {as_of_ns}))",
        "on_time": f"({has_due} AND {closed} AND cl <= due)",
        "closed": closed,
        "closed_before_requested": f"({closed} AND cl < req)",
    }
    keys = list(codes)
    q = ", ".join(f'"{k}"' for k in keys)
    sums = ", ".join(f'coalesce(sum(CAST({e} AS DOUBLE)), 0.0) AS "{c}"' for c, e in flags.items())
    hours = f"CASE WHEN {closed} AND cl >= req THEN CAST(cl - req AS DOUBLE) / 3600e9 END"
    sql = (
        f"SELECT {q + ', ' if q else ''}{sums}, count(*) AS orders, "
        f"median({hours}) AS closure_hours_median, avg({hours}) AS closure_hours_mean "
        f"FROM f {'GROUP BY ' + q + ' ORDER BY ' + q if q else ''}"
    )
    con = duckdb.connect()
    try:
        con.register("f", frame)
        out = con.execute(sql).df()
    finally:
        con.close()
    for c in flags:
        out[c] = out[c].astype(float)
    out["orders"] = out["orders"].astype(np.int64)
    return out


def three_rates(
    orders: pd.DataFrame,
    by: list[str] | tuple[str, ...] = ("unit",),
    *,
    config: RateConfig | None = None,
    period: str | None = None,
    as_of: pd.Timestamp | None = None,
    engine: str = "duckdb",
) -> pd.DataFrame:
    """Response, resolution, satisfaction and on-time closure rates per group, with intervals.

    Parameters
    ----------
    orders : DataFrame
        Orders table (:mod:`~citycheck.listen.analytics.frames`).
    by : list of str
        Columns to group by (``unit``, ``category``, ``area``, ...); empty for the whole city.
    config : RateConfig, optional
        The city's formulas (:func:`load_rate_config`).
    period : {"D", "W", "M", "Q", "Y"}, optional
        Add a ``period`` column (of ``requested_at``) to the grouping.
    as_of : Timestamp, optional
        See :func:`order_flags`.
    engine : {"duckdb", "pandas"}
        Where the grouping runs.

    Returns
    -------
    DataFrame
        One row per group: the keys, ``orders``, and for each rate ``r`` in response,
        resolution, satisfaction, on_time: ``r_n`` (denominator), ``r`` (the rate, 0..1),
        ``r_lo`` and ``r_hi`` (Wilson interval at ``config.confidence``); ``composite`` and
        ``composite_lo`` (weighted sum of the rates and of their lower bounds; NaN when a rate
        has no data); ``closure_hours_median`` and ``closure_hours_mean``. ``attrs["note"]``
        says how the intervals and rankings are made.
    """
    cfg = config or RateConfig()
    if engine not in ("duckdb", "pandas"):
        raise InputError("three_rates", "engine", engine, "use duckdb or pandas")
    o = normalise_orders(orders)
    keys = list(by)
    uniques: dict[str, pd.Index] = {}
    key_codes: dict[str, np.ndarray] = {}
    for k in keys:
        if k not in o.columns:
            raise InputError("orders", k, None, "no such column to group by")
        # group on integer codes (fast in both engines); names are put back afterwards
        key_codes[k], uniques[k] = pd.factorize(o[k], sort=True)
    if period:
        if period not in _PERIODS:
            raise InputError("three_rates", "period", period, "use D, W, M, Q or Y")
        key_codes["period"], uniques["period"] = _period_codes(o["requested_at"], period)
        keys = [*keys, "period"]
    if engine == "duckdb":
        g = _rates_duckdb(o, key_codes, cfg, as_of)
    else:
        flags = order_flags(o, cfg, as_of=as_of, normalised=True)
        for k, c in key_codes.items():
            flags[k] = c
        g = _group_pandas(flags, keys)
    for k in keys:
        g[k] = np.asarray(uniques[k])[g[k].to_numpy(np.int64)]
    return _rates_from_sums(g, keys, cfg)


_PERIODS = {"D": "D", "W": "W", "M": "M", "Q": "Q", "Y": "Y"}


def _period_codes(t: pd.Series, period: str) -> tuple[np.ndarray, pd.Index]:
    """Integer period codes of datetimes and the period labels (via unique values only)."""
    v = t.to_numpy("datetime64[ns]")
    if period == "W":
        days = v.astype("datetime64[D]").astype(np.int64)
        base = (days - ((days + 3) % 7)).astype("datetime64[D]")  # Monday of the week
    elif period in ("Q", "Y"):
        base = v.astype("datetime64[M]")
    else:
        base = v.astype(f"datetime64[{period}]")
    codes, uniq = pd.factorize(base, sort=True)
    labels = pd.DatetimeIndex(uniq).to_period(period).astype(str)
    if period in ("Q", "Y"):
        # months collapse to their quarter or year: recode on the labels
        codes2, labels2 = pd.factorize(np.asarray(labels)[codes], sort=True)
        return codes2, pd.Index(labels2)
    return codes, pd.Index(labels)


def _rates_from_sums(g: pd.DataFrame, keys: list[str], cfg: RateConfig) -> pd.DataFrame:
    parts = {
        "response": ("responded", "eligible"),
        "resolution": ("res_credit", "assessed"),
        "satisfaction": ("sat_credit", "rated"),
        "on_time": ("on_time", "due_decided"),
    }
    out = g[[*keys, "orders"]].copy()
    out["closed"] = g["closed"].to_numpy().astype(np.int64)
    out["closed_before_requested"] = g["closed_before_requested"].to_numpy().astype(np.int64)
    for name, (num, den) in parts.items():
        n = g[den].to_numpy(float)
        s = g[num].to_numpy(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{name}_n"] = n.astype(np.int64)
            out[name] = np.where(n > 0, s / n, np.nan)
        lo, hi = wilson_interval(s, n, cfg.confidence)
        out[f"{name}_lo"] = lo
        out[f"{name}_hi"] = hi
    w = {k: cfg.weights.get(k, 0.0) for k in ("response", "resolution", "satisfaction")}
    total = sum(w.values()) or 1.0
    out["composite"] = sum(out[k] * (v / total) for k, v in w.items())
    out["composite_lo"] = sum(out[f"{k}_lo"] * (v / total) for k, v in w.items())
    out["closure_hours_median"] = g["closure_hours_median"].to_numpy(float)
    out["closure_hours_mean"] = g["closure_hours_mean"].to_numpy(float)
    pct = round(cfg.confidence * 100)
    out.attrs["note"] = (
        f"Rates with {pct}% Wilson score intervals (_lo, _hi); rankings use the lower bound so "
        f"small samples do not top a table. Formulas: {cfg.en} ({cfg.id})."
    )
    out.attrs["note_zh"] = (
        f"各率附{pct}%威尔逊置信区间（_lo、_hi）；排名按区间下限，避免样本量小的单位排在前列。"
        f"口径：{cfg.zh}（{cfg.id}）。"
    )
    return out


def rank_table(rates: pd.DataFrame, *, on: str = "composite") -> pd.DataFrame:
    """Rank groups on the lower bound of a rate (best first), keeping the point estimate.

    Parameters
    ----------
    rates : DataFrame
        Output of :func:`three_rates`.
    on : str
        ``composite``, ``response``, ``resolution``, ``satisfaction`` or ``on_time``.

    Returns
    -------
    DataFrame
        ``rates`` sorted by ``{on}_lo`` descending (groups without data last) with a 1-based
        ``rank`` column and ``ranked_on`` naming the column used.
    """
    col = f"{on}_lo"
    if col not in rates.columns:
        raise InputError("rank_table", "on", on, f"no column {col}")
    out = rates.sort_values(col, ascending=False, na_position="last", kind="stable").copy()
    r = out[col].rank(ascending=False, method="min")
    out.insert(0, "rank", r.where(r.notna(), math.nan))
    out["ranked_on"] = col
    out.attrs = dict(rates.attrs)
    return out.reset_index(drop=True)
