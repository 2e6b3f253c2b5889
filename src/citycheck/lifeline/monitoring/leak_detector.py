"""Leak and burst detector on a set of pressure sensors, calibrated on leak-free weeks.

Steps (pure computation on arrays; the study in :mod:`.leak_eval` feeds it simulated data):

1. **Learned daily pattern** per sensor and time-of-day slot: the slot median of a leak-free
   *pattern* week (:func:`~.detect.learn_daily_pattern`); residuals r = reading - median (m).
2. **Multi-sensor agreement by matched filter**: a leak at junction j lowers the pressures along
   its signature s_j (the drop at each sensor, simulated with the network model); the day's
   demand level moves every sensor together, in a direction that the residual covariance C
   exposes. The statistic of candidate j is the generalised matched filter
   ``s_j' C^-1 (-r) / sqrt(s_j' C^-1 s_j)`` (Kay 1998, section 4.3: known signal in coloured
   Gaussian noise); it has unit variance when C is the residuals' covariance and discounts drops
   that look like a city-wide demand swing. C is estimated out of sample, on the calibration
   week, with shrinkage towards its diagonal and the sensors' noise floor added. Without
   signatures, each sensor alone is a candidate.
3. **CUSUM** (Page 1954) per candidate, reference value ``k``.
4. **Calibrated decision interval** from a *second* leak-free week the pattern was not learned on
   (in-sample residuals are too small, which is why an in-sample threshold raises false alarms):
   ``h = margin x`` the largest value any candidate's CUSUM held for ``min_duration`` steps.
5. **Minimum duration and hold-off**: a candidate's CUSUM must stay above ``h`` for
   ``min_duration`` consecutive intervals; after an alarm the detector is quiet for
   ``holdoff_s`` (flap suppression; :class:`~.alarms.AlarmManager` adds hysteresis on top).
   The location estimate is the candidate with the largest CUSUM at the alarm.

References
----------
Page, E.S. (1954). Continuous inspection schemes. Biometrika 41(1/2), 100-115.
Kay, S.M. (1998). Fundamentals of Statistical Signal Processing, Vol. II: Detection Theory.
    Prentice Hall, section 4.3 (generalised matched filter).
Pérez, R. et al. (2011). Methodology for leakage isolation using pressure sensitivity analysis in
    water distribution networks. Control Engineering Practice 19(10), 1157-1167 (signatures).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from citycheck.lifeline.monitoring.detect import (
    DailyPattern,
    learn_daily_pattern,
)

__all__ = ["LeakDetector", "first_true_runs"]


def first_true_runs(flags: np.ndarray, min_run: int) -> np.ndarray:
    """Indices where a run of at least ``min_run`` consecutive True values is completed.

    Parameters
    ----------
    flags : ndarray of bool
    min_run : int
        Run length (1 = every True).

    Returns
    -------
    ndarray of bool
        True at the ``min_run``-th and later elements of each run.
    """
    f = np.asarray(flags, dtype=bool)
    if min_run <= 1:
        return f.copy()
    run = np.zeros(len(f), dtype=int)
    count = 0
    for i, x in enumerate(f):
        count = count + 1 if x else 0
        run[i] = count
    return run >= min_run


@dataclass
class LeakDetector:
    """Matched-filter CUSUM over pressure sensors (see the module text).

    Parameters
    ----------
    slot_s : int
        Time-of-day slot of the learned pattern (the sensor interval, typically).
    min_scale : float
        The sensors' noise floor (m of head); its square is added to the covariance diagonal.
    k : float
        CUSUM reference value, in units of the (unit-variance) matched-filter statistic.
    margin : float
        Decision interval = ``margin`` x the largest sustained CUSUM of the calibration week.
    min_h : float
        Least decision interval.
    min_duration : int
        Consecutive intervals above ``h`` before an alarm.
    holdoff_s : int
        Quiet time after an alarm.
    ridge : float
        Shrinkage of the residual covariance towards its diagonal (0 = none).
    tz_offset_s : int
        Local time offset for the time-of-day slots.
    """

    slot_s: int = 900
    min_scale: float = 0.05
    k: float = 2.0
    margin: float = 1.5
    min_h: float = 5.0
    min_duration: int = 2
    holdoff_s: int = 4 * 3600
    ridge: float = 0.05
    tz_offset_s: int = 0
    patterns: list[DailyPattern] = field(default_factory=list, repr=False)
    signatures: np.ndarray | None = field(default=None, repr=False)
    cov_inv: np.ndarray | None = field(default=None, repr=False)
    h: float | None = None

    def fit(
        self, times: np.ndarray, pressures: np.ndarray, signatures: np.ndarray | None = None
    ) -> LeakDetector:
        """Learn each sensor's daily pattern from a leak-free period.

        A provisional covariance comes from the same period's residuals (too small, being in
        sample); :meth:`calibrate` replaces it with one from a fresh leak-free period.

        Parameters
        ----------
        times : ndarray
            Epoch seconds, one per row.
        pressures : ndarray
            Shape (times, sensors), metres of head.
        signatures : ndarray, optional
            Shape (candidates, sensors): pressure drop (m) at each sensor for a leak at each
            candidate place. Default: one candidate per sensor (a drop at that sensor only).
        """
        p = np.asarray(pressures, dtype=float)
        n = p.shape[1]
        sig = np.eye(n) if signatures is None else np.asarray(signatures, dtype=float)
        if sig.ndim != 2 or sig.shape[1] != n:
            raise ValueError(f"signatures must have shape (candidates, {n}), got {sig.shape}")
        self.signatures = sig
        self.patterns = [
            learn_daily_pattern(times, p[:, s], slot_s=self.slot_s, tz_offset_s=self.tz_offset_s)
            for s in range(n)
        ]
        self._learn_covariance(times, p)
        return self

    def _learn_covariance(self, times: np.ndarray, pressures: np.ndarray) -> None:
        r = self.residuals(times, pressures)
        r = r[~np.isnan(r).any(axis=1)]
        n = r.shape[1]
        if len(r) <= n:
            raise ValueError(f"{len(r)} complete rows: too few to learn a {n}-sensor covariance")
        c = np.atleast_2d(np.cov(r.T))
        c = (1 - self.ridge) * c + self.ridge * np.diag(np.diag(c))
        self.cov_inv = np.linalg.inv(c + self.min_scale**2 * np.eye(n))

    def residuals(self, times: np.ndarray, pressures: np.ndarray) -> np.ndarray:
        """Reading minus the learned pattern (m), shape (times, sensors)."""
        if not self.patterns:
            raise RuntimeError("LeakDetector.fit must run before residuals")
        p = np.asarray(pressures, dtype=float)
        if p.shape[1] != len(self.patterns):
            raise ValueError(f"{p.shape[1]} sensor columns, the detector has {len(self.patterns)}")
        return np.column_stack(
            [
                p[:, s] - pat.expected(times, self.tz_offset_s)[0]
                for s, pat in enumerate(self.patterns)
            ]
        )

    def statistic(self, times: np.ndarray, pressures: np.ndarray) -> np.ndarray:
        """Matched-filter statistic per time and candidate, shape (times, candidates).

        Positive where the readings fell along the candidate's signature; rows with a missing
        reading are NaN (the CUSUM then holds its value).
        """
        r = self.residuals(times, pressures)
        if self.signatures is None or self.cov_inv is None:
            raise RuntimeError("LeakDetector.fit must run before statistic")
        cs = self.signatures @ self.cov_inv  # (J, n)
        den = np.sqrt(np.maximum(np.einsum("jn,jn->j", cs, self.signatures), 1e-24))
        out = (-np.nan_to_num(r) @ cs.T) / den
        out[np.isnan(r).any(axis=1)] = np.nan
        return out

    def _cusums(self, x: np.ndarray) -> np.ndarray:
        s = np.zeros(x.shape[1])
        out = np.empty_like(x)
        for i, row in enumerate(x):
            if not np.isnan(row).any():
                s = np.maximum(0.0, s + row - self.k)
            out[i] = s
        return out

    def calibrate(self, times: np.ndarray, pressures: np.ndarray) -> float:
        """Learn the covariance and the decision interval on a leak-free period not used by fit.

        Returns
        -------
        float
            ``h``.
        """
        self._learn_covariance(times, pressures)
        stat = self._cusums(self.statistic(times, pressures)).max(axis=1)
        top = _max_sustained(stat, self.min_duration)
        self.h = max(self.min_h, self.margin * top)
        return self.h

    def alarms(self, times: np.ndarray, pressures: np.ndarray) -> list[tuple[int, int]]:
        """Alarms in a period: (onset time in epoch seconds, index of the likeliest candidate).

        The CUSUMs restart from zero after each alarm's hold-off.
        """
        if self.h is None:
            raise RuntimeError("LeakDetector.calibrate must run before alarms")
        t = np.asarray(times)
        x = self.statistic(t, pressures)
        hold = int(np.ceil(self.holdoff_s / self.slot_s))
        out: list[tuple[int, int]] = []
        start = 0
        while start < len(t):
            cs = self._cusums(x[start:])
            fired = first_true_runs(cs.max(axis=1) > self.h, self.min_duration)
            if not fired.any():
                break
            i = int(np.argmax(fired))
            out.append((int(t[start + i]), int(np.argmax(cs[i]))))
            start += i + 1 + hold
        return out


def _max_sustained(stat: np.ndarray, run: int) -> float:
    """Largest value the statistic held for ``run`` consecutive steps (min over each window)."""
    s = np.asarray(stat, dtype=float)
    if run <= 1 or len(s) < run:
        return float(np.max(s)) if len(s) else 0.0
    windows = np.lib.stride_tricks.sliding_window_view(s, run)
    return float(np.max(windows.min(axis=1)))
