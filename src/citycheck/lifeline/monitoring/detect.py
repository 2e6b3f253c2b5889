"""Anomaly detection on sensor series.

- Bursts and leaks: pressure (falls) and flow (rises) against a learned daily pattern — the median
  and a robust spread per time-of-day slot, learned from normal days — accumulated with a
  one-sided CUSUM (Page 1954) so a small persistent shift is caught and a single noisy sample is
  not.
- Combustible gas against the alarm settings of GB/T 50493-2019 (first-level alarm at most
  25 %LEL, second-level at most 50 %LEL, section 5.5.2), with a third level at 100 %LEL.
- Water level against alert depths: road ponding deeper than 15 cm is the limit of GB 51222-2017
  (城镇内涝防治技术标准, 3.0.2 road water depth 15 cm); further depths are the city's.

References
----------
Page, E.S. (1954). Continuous inspection schemes. Biometrika 41(1/2), 100-115.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "GAS_LEVELS_PCT_LEL",
    "WATER_LEVEL_LEVELS_M",
    "DailyPattern",
    "cusum",
    "cusum_statistic",
    "learn_daily_pattern",
    "pattern_zscores",
    "threshold_levels",
]

#: GB/T 50493-2019 5.5.2: first-level alarm <= 25 %LEL, second-level <= 50 %LEL; 100 %LEL is the
#: explosive range itself.
GAS_LEVELS_PCT_LEL: tuple[float, ...] = (25.0, 50.0, 100.0)

#: Water surface relative to ground (m): 0 = at the manhole lid (overflow), 0.15 = road ponding
#: limit of GB 51222-2017, 0.30 = a depth most cars cannot safely cross (a city choice).
WATER_LEVEL_LEVELS_M: tuple[float, ...] = (0.0, 0.15, 0.30)


@dataclass(frozen=True)
class DailyPattern:
    """Median and robust spread of a series per time-of-day slot.

    Attributes
    ----------
    slot_s : int
        Slot length in seconds.
    median, scale : ndarray
        One value per slot of the day (``86400 // slot_s`` slots).
    """

    slot_s: int
    median: np.ndarray
    scale: np.ndarray

    def expected(self, ts: np.ndarray, tz_offset_s: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Expected value and spread at the given epoch seconds."""
        slot = ((np.asarray(ts) + tz_offset_s) % 86400) // self.slot_s
        return self.median[slot], self.scale[slot]


def learn_daily_pattern(
    ts: np.ndarray,
    values: np.ndarray,
    *,
    slot_s: int = 900,
    min_scale: float = 0.0,
    tz_offset_s: int = 0,
) -> DailyPattern:
    """Learn the daily pattern of a series from normal days.

    The spread is 1.4826 x the median absolute deviation in each slot (a consistent estimate of
    the standard deviation for normal noise), at least ``min_scale`` (e.g. the sensor's noise).

    Parameters
    ----------
    ts : ndarray
        Epoch seconds.
    values : ndarray
        Readings (NaN ignored).
    slot_s : int
        Slot length; 86400 must be a multiple.
    min_scale : float
        Floor on the spread.
    tz_offset_s : int
        Offset of local time from UTC in seconds (28800 for China) so slots follow local days.
    """
    if 86400 % slot_s:
        raise ValueError(f"slot_s={slot_s} does not divide a day")
    n = 86400 // slot_s
    slot = ((np.asarray(ts) + tz_offset_s) % 86400) // slot_s
    v = np.asarray(values, dtype=float)
    med = np.full(n, np.nan)
    scale = np.full(n, np.nan)
    for k in range(n):
        x = v[(slot == k) & ~np.isnan(v)]
        if len(x):
            med[k] = np.median(x)
            scale[k] = 1.4826 * np.median(np.abs(x - med[k]))
    if np.isnan(med).any():
        # slots never observed: borrow the nearest observed slot
        ok = np.nonzero(~np.isnan(med))[0]
        if len(ok) == 0:
            raise ValueError("no readings to learn a daily pattern from")
        for gap in np.nonzero(np.isnan(med))[0]:
            j = ok[np.argmin(np.minimum(np.abs(ok - gap), n - np.abs(ok - gap)))]
            med[gap], scale[gap] = med[j], scale[j]
    return DailyPattern(slot_s, med, np.maximum(scale, min_scale))


def pattern_zscores(
    ts: np.ndarray, values: np.ndarray, pattern: DailyPattern, *, tz_offset_s: int = 0
) -> np.ndarray:
    """Standardised residuals ``(value - expected) / spread`` (NaN where the value is NaN)."""
    mu, sd = pattern.expected(ts, tz_offset_s)
    sd = np.where(sd > 0, sd, np.nan)
    return (np.asarray(values, dtype=float) - mu) / sd


def cusum_statistic(z: np.ndarray, *, k: float = 0.5, direction: int = -1) -> np.ndarray:
    """One-sided CUSUM statistic ``S_t = max(0, S_{t-1} + direction * z_t - k)``.

    ``direction=-1`` watches for falls (pressure), ``+1`` for rises (flow). Missing values (NaN)
    leave the statistic unchanged.
    """
    s = 0.0
    out = np.zeros(len(z))
    for i, x in enumerate(np.asarray(z, dtype=float)):
        if not np.isnan(x):
            s = max(0.0, s + direction * x - k)
        out[i] = s
    return out


def cusum(z: np.ndarray, *, k: float = 0.5, h: float = 8.0, direction: int = -1) -> np.ndarray:
    """One-sided CUSUM of standardised residuals; True where the statistic exceeds ``h``."""
    return cusum_statistic(z, k=k, direction=direction) > h


def threshold_levels(values: np.ndarray, levels: tuple[float, ...]) -> np.ndarray:
    """Alarm level per value: 0 below ``levels[0]``, i when ``levels[i-1] <= value``.

    Parameters
    ----------
    values : ndarray
    levels : tuple of float
        Ascending thresholds (e.g. :data:`GAS_LEVELS_PCT_LEL`).
    """
    lv = np.asarray(levels, dtype=float)
    if np.any(np.diff(lv) <= 0):
        raise ValueError(f"thresholds must ascend: {levels}")
    v = np.asarray(values, dtype=float)
    out = np.searchsorted(lv, v, side="right")
    return np.where(np.isnan(v), 0, out)
