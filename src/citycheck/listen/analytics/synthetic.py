"""A generated but realistic hotline log, for scaling benchmarks and planted-effect tests.

Volumes follow a weekly and a yearly cycle per category (waterlogging peaks in the rainy
season), units differ in how fast and how well they work, and an optional planted surge and
intervention let tests check that the analytics find what was put in. Everything is vectorised
numpy, so ten million orders take seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["CATEGORIES", "Plant", "events_from_orders", "generate_orders"]

#: Generated categories: id -> (zh, en, share of volume, month of peak or 0 for flat).
CATEGORIES: dict[str, tuple[str, str, float, int]] = {
    "waterlogging": ("道路积水", "waterlogging", 0.06, 7),
    "parking": ("乱停乱放", "disorderly parking", 0.14, 0),
    "noise": ("噪声扰民", "noise", 0.16, 6),
    "pollution": ("环境污染", "pollution", 0.08, 12),
    "property": ("物业管理", "property management", 0.22, 0),
    "heating": ("供暖", "heating", 0.10, 1),
    "road": ("道路设施", "road facilities", 0.14, 0),
    "social": ("社保就业", "social security", 0.10, 0),
}


@dataclass(frozen=True)
class Plant:
    """Effects planted in a generated log.

    Attributes
    ----------
    surge_category, surge_start, surge_days, surge_factor
        Volume of one category multiplied by ``surge_factor`` in one area for ``surge_days``.
    surge_area
        The area of the surge ("" for everywhere).
    intervention_category, intervention_date, intervention_factor
        Volume of one category multiplied by ``intervention_factor`` from that date on.
    """

    surge_category: str = "waterlogging"
    surge_start: str = "2025-03-10"
    surge_days: int = 7
    surge_factor: float = 8.0
    surge_area: str = "D2"
    intervention_category: str = "parking"
    intervention_date: str = "2025-06-01"
    intervention_factor: float = 0.5
    extra: dict[str, object] = field(default_factory=dict)


def generate_orders(
    n: int,
    *,
    start: str = "2023-01-01",
    end: str = "2025-12-31",
    n_units: int = 40,
    n_areas: int = 8,
    plant: Plant | None = None,
    seed: int = 0,
    bbox: tuple[float, float, float, float] = (116.25, 39.85, 116.50, 40.02),
) -> pd.DataFrame:
    """Generate about ``n`` orders in the :mod:`.frames` orders format.

    Parameters
    ----------
    n : int
        Orders before planted effects (the surge adds, the intervention removes some).
    start, end : str
        Date range.
    n_units, n_areas : int
        Handling units ``U00..`` and areas ``D0..``; each unit serves one area.
    plant : Plant, optional
        Planted surge and intervention.
    seed : int
    bbox : tuple
        ``(lon_min, lat_min, lon_max, lat_max)`` of the positions (default central Beijing).

    Returns
    -------
    DataFrame
        Orders with every column of :data:`~.frames.ORDER_COLUMNS`; ``order_id`` is a string.
    """
    rng = np.random.default_rng(seed)
    t0 = np.datetime64(start, "s")
    t1 = np.datetime64(end, "s") + np.timedelta64(1, "D")
    days = int((t1 - t0) / np.timedelta64(1, "D"))
    cats = list(CATEGORIES)
    share = np.array([CATEGORIES[c][2] for c in cats])
    share = share / share.sum()
    cat = rng.choice(len(cats), size=n, p=share)
    # day of request: accept-reject on a seasonal weight per category
    day = rng.integers(0, days, size=int(n * 2.2))
    day_dates = t0.astype("datetime64[D]") + day
    month = (day_dates.astype("datetime64[M]").astype(int) % 12) + 1
    cat_big = rng.choice(len(cats), size=day.size, p=share)
    peak = np.array([CATEGORIES[c][3] for c in cats])[cat_big]
    season = np.where(peak > 0, 1 + 0.8 * np.cos(2 * np.pi * (month - peak) / 12), 1.0)
    weekday = (day_dates.astype(int) + 3) % 7  # 0 = Monday
    week = np.where(weekday >= 5, 0.7, 1.0)
    keep = rng.random(day.size) < season * week / 1.8
    day, cat = day[keep][:n], cat_big[keep][:n]
    n = day.size
    secs = rng.integers(7 * 3600, 22 * 3600, size=n)
    requested = t0 + day.astype("timedelta64[D]") + secs.astype("timedelta64[s]")
    area = rng.integers(0, n_areas, size=n)
    unit = area * (n_units // n_areas) + rng.integers(0, max(1, n_units // n_areas), size=n)
    # unit quality: response delay, resolution and satisfaction propensities
    q = rng.beta(8, 1.5, size=n_units)
    uq = q[unit]
    resp_h = rng.exponential(2 + 30 * (1 - uq))
    close_d = rng.exponential(1 + 8 * (1 - uq)) + rng.random(n)
    reopened = rng.random(n) < 0.08 * (1 - uq) * 3
    resolved_u = rng.random(n)
    resolution = np.where(
        resolved_u < uq,
        "resolved",
        np.where(resolved_u < uq + (1 - uq) / 2, "partly", "unresolved"),
    )
    base_score = np.where(resolution == "resolved", 4.4, np.where(resolution == "partly", 3.0, 1.8))
    score = np.clip(np.round(base_score + rng.normal(0, 0.8, n)), 1, 5)
    rated = rng.random(n) < 0.7
    still_open = requested > (t1 - np.timedelta64(5, "D"))
    closed_at = requested + (close_d * 86400).astype("timedelta64[s]")
    closed_at = np.where(still_open & (rng.random(n) < 0.6), np.datetime64("NaT"), closed_at)
    # positions: each area is a vertical strip of the bbox; a few repeat places per category
    lon0, lat0, lon1, lat1 = bbox
    strip = (lon1 - lon0) / n_areas
    lon = lon0 + strip * (area + rng.random(n))
    lat = lat0 + (lat1 - lat0) * rng.random(n)
    df = pd.DataFrame(
        {
            "requested_at": requested.astype("datetime64[ns]"),
            "category": pd.Categorical.from_codes(cat, cats),
            "unit": pd.Categorical.from_codes(unit, [f"U{i:02d}" for i in range(n_units)]),
            "area": pd.Categorical.from_codes(area, [f"D{i}" for i in range(n_areas)]),
            "lat": lat,
            "lon": lon,
            "requester": _labels("R", rng.integers(0, max(10, n // 3), n)),
            "request_type": pd.Categorical.from_codes(
                (rng.random(n) >= 0.8).astype(np.int8), ["complaint", "help"]
            ),
            "responded_at": (requested + (resp_h * 3600).astype("timedelta64[s]")).astype(
                "datetime64[ns]"
            ),
            "respond_due_at": (requested + np.timedelta64(24, "h")).astype("datetime64[ns]"),
            "closed_at": closed_at.astype("datetime64[ns]"),
            "due_at": (requested + np.timedelta64(5, "D")).astype("datetime64[ns]"),
            "resolution": pd.Categorical(
                np.where(np.isnat(closed_at), "", resolution),
                categories=["", "resolved", "partly", "unresolved"],
            ),
            "score": np.where(rated & ~np.isnat(closed_at), score, np.nan),
            "reopen_count": reopened.astype(np.int64),
            "text": "",
        }
    )
    if plant is not None:
        df = _plant(df, plant, rng, lon0, strip, lat0, lat1)
    df = df.sort_values("requested_at", kind="stable").reset_index(drop=True)
    df.insert(0, "order_id", _labels("S", np.arange(len(df))))
    df["text"] = df["category"].map({k: v[0] for k, v in CATEGORIES.items()}).astype("category")
    return df


def _plant(df, plant, rng, lon0, strip, lat0, lat1) -> pd.DataFrame:
    # intervention: drop a share of the category's orders after the date
    after = (df["category"] == plant.intervention_category) & (
        df["requested_at"] >= pd.Timestamp(plant.intervention_date)
    )
    drop = after & (rng.random(len(df)) > plant.intervention_factor)
    df = df.loc[~drop]
    # surge: copies of the category's orders in the window and area, spread over a small
    # cluster of streets (a few hundred metres)
    s0 = pd.Timestamp(plant.surge_start)
    s1 = s0 + pd.Timedelta(days=plant.surge_days)
    near = (
        (df["category"] == plant.surge_category)
        & (df["requested_at"] >= s0 - pd.Timedelta(weeks=4))
        & (df["requested_at"] < s1 + pd.Timedelta(weeks=4))
    )
    if plant.surge_area:
        near &= df["area"] == plant.surge_area
    base = df.loc[near]
    # the usual volume of the window, from the eight weeks around it
    usual = len(base) * plant.surge_days / (56 + plant.surge_days)
    k = round(usual * (plant.surge_factor - 1))
    if k > 0 and len(base):
        extra = base.sample(n=k, replace=True, random_state=int(rng.integers(1 << 31))).copy()
        jitter = rng.integers(0, plant.surge_days * 86400, size=k).astype("timedelta64[s]")
        shift = (s0.to_datetime64() + jitter).astype("datetime64[ns]") - extra[
            "requested_at"
        ].to_numpy("datetime64[ns]")
        extra["requested_at"] = extra["requested_at"] + shift
        a = int(plant.surge_area[1:]) if plant.surge_area else 0
        extra["lon"] = lon0 + strip * (a + 0.5) + rng.normal(0, 0.002, k)
        extra["lat"] = (lat0 + lat1) / 2 + rng.normal(0, 0.002, k)
        for c in ("responded_at", "respond_due_at", "closed_at", "due_at"):
            extra[c] = extra[c] + shift
        df = pd.concat([df, extra], ignore_index=True)
    return df


def _labels(prefix: str, ids: np.ndarray) -> pd.Categorical:
    """Categorical string labels prefix+id, formatting each distinct id once."""
    codes, uniq = pd.factorize(ids)
    return pd.Categorical.from_codes(codes, [f"{prefix}{i}" for i in uniq])


def events_from_orders(orders: pd.DataFrame) -> pd.DataFrame:
    """The event log that produces ``orders`` (accept, dispatch, sign, close, callback, rate;
    reopened orders get a first close, a dissatisfied rating and a reopen), vectorised.

    Folding it with :func:`~.frames.order_facts` gives back the orders' facts.
    """
    o = orders
    n = len(o)
    rows: list[pd.DataFrame] = []

    def add(mask, kind, at, unit=None, score=None, resolution=None):
        m = np.asarray(mask, dtype=bool)
        rows.append(
            pd.DataFrame(
                {
                    "order_id": o["order_id"].to_numpy()[m],
                    "kind": kind,
                    "at": np.asarray(at)[m],
                    "unit": (o["unit"].to_numpy()[m] if unit else ""),
                    "score": (np.asarray(score, dtype=float)[m] if score is not None else np.nan),
                    "resolution": (np.asarray(resolution)[m] if resolution is not None else ""),
                    "_o": np.array([len(rows)] * int(m.sum())),
                }
            )
        )

    req = o["requested_at"].to_numpy("datetime64[ns]")
    resp = o["responded_at"].to_numpy("datetime64[ns]")
    closed = o["closed_at"].to_numpy("datetime64[ns]")
    every = np.ones(n, dtype=bool)
    has_resp = ~np.isnat(resp)
    has_close = ~np.isnat(closed)
    reopen = (o["reopen_count"].to_numpy() > 0) & has_close & has_resp
    add(every, "accept", req)
    add(every & (o["unit"].to_numpy() != ""), "dispatch", req + np.timedelta64(10, "m"), unit=True)
    add(has_resp, "sign", resp, unit=True)
    first_close = req + (closed - req) // 2
    add(reopen, "close", first_close)
    add(reopen, "callback", first_close + np.timedelta64(1, "h"), resolution=["unresolved"] * n)
    add(reopen, "rate", first_close + np.timedelta64(1, "h"), score=np.ones(n))
    add(reopen, "reopen", first_close + np.timedelta64(2, "h"))
    add(has_close, "close", closed)
    res = o["resolution"].to_numpy(dtype=object)
    add(has_close & (res != ""), "callback", closed + np.timedelta64(1, "D"), resolution=res)
    sc = o["score"].to_numpy(float)
    add(has_close & ~np.isnan(sc), "rate", closed + np.timedelta64(1, "D"), score=sc)
    ev = pd.concat(rows, ignore_index=True)
    ev = ev.sort_values(["order_id", "_o"], kind="stable").drop(columns="_o")
    ev["seq"] = ev.groupby("order_id", sort=False).cumcount()
    return ev.reset_index(drop=True)
