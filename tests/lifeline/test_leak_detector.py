"""The matched-filter CUSUM leak detector: hand cases and its statistical properties."""

from __future__ import annotations

import numpy as np
import pytest

from citycheck.lifeline.monitoring.leak_detector import (
    LeakDetector,
    _max_sustained,
    first_true_runs,
)

DAY = np.arange(0, 86400, 900)


def _weeks(rng, days: int, sd_common: float, sd_own: float, n: int = 2) -> tuple:
    """Pressures with a daily shape, a common (city-wide) swing and each sensor's own noise."""
    t = np.arange(0, days * 86400, 900)
    shape = 30 + 3 * np.sin(2 * np.pi * t / 86400)
    common = rng.normal(0, sd_common, len(t))[:, None]
    return t, shape[:, None] + common + rng.normal(0, sd_own, (len(t), n))


def test_first_true_runs_and_sustained_max_by_hand():
    f = np.array([1, 1, 0, 1, 1, 1, 0, 1], dtype=bool)
    assert first_true_runs(f, 2).tolist() == [0, 1, 0, 0, 1, 1, 0, 0]
    assert first_true_runs(f, 3).tolist() == [0, 0, 0, 0, 0, 1, 0, 0]
    assert first_true_runs(f, 1).tolist() == f.tolist()
    assert _max_sustained(np.array([0.0, 5.0, 1.0, 3.0, 4.0, 0.0]), 2) == 3.0
    assert _max_sustained(np.array([0.0, 5.0, 1.0]), 1) == 5.0


def test_one_sensor_statistic_is_the_standardised_fall():
    # one sensor: s' C^-1 (-r) / sqrt(s' C^-1 s) = -r / sqrt(C), whatever s is
    rng = np.random.default_rng(0)
    t, p = _weeks(rng, 7, 0.0, 0.2, n=1)
    det = LeakDetector(min_scale=0.05).fit(t, p, np.array([[0.7]]))
    r = det.residuals(t, p)[:, 0]
    got = det.statistic(t, p)[:, 0]
    np.testing.assert_allclose(got, -r / np.sqrt(np.var(r, ddof=1) + 0.05**2), rtol=1e-9)


def test_statistic_is_unit_variance_on_a_fresh_week():
    rng = np.random.default_rng(1)
    t, p = _weeks(rng, 21, 0.3, 0.1, n=4)
    sig = rng.uniform(0.1, 1.0, (5, 4))
    wk = 7 * 96
    det = LeakDetector(ridge=0.0, min_scale=0.0).fit(t[:wk], p[:wk], sig)
    det.calibrate(t[wk : 2 * wk], p[wk : 2 * wk])  # covariance out of sample
    x = det.statistic(t[2 * wk :], p[2 * wk :])  # a third, fresh week
    assert np.abs(x.mean(axis=0)).max() < 0.15
    assert np.all((x.std(axis=0) > 0.85) & (x.std(axis=0) < 1.15))


def test_a_city_wide_swing_is_discounted_a_local_drop_is_not():
    # noise mostly common to both sensors; candidate = a leak seen at sensor 0 only
    rng = np.random.default_rng(2)
    t, p = _weeks(rng, 7, 0.5, 0.05)
    det = LeakDetector(ridge=0.0, min_scale=0.0).fit(t, p, np.array([[1.0, 0.0]]))
    base = np.column_stack([pt.median for pt in det.patterns])
    both = base - 1.0  # both fall 1 m (2 sd of the swing): a demand swing
    local = base - np.array([0.3, 0.0])  # only sensor 0 falls, 0.3 m (6 sd of its own noise)
    assert np.abs(det.statistic(DAY, both)).max() < 1.0
    assert det.statistic(DAY, local).min() > 3.0


def test_calibrated_on_a_fresh_week_and_raises_one_alarm_per_event():
    rng = np.random.default_rng(3)
    t, p = _weeks(rng, 21, 0.1, 0.1)
    det = LeakDetector(margin=1.5, min_duration=2, holdoff_s=4 * 3600)
    det.fit(t[: 7 * 96], p[: 7 * 96], np.array([[1.0, 0.5], [0.2, 1.0]]))
    h = det.calibrate(t[7 * 96 : 14 * 96], p[7 * 96 : 14 * 96])
    assert h >= det.min_h
    tt, pp = t[14 * 96 :], p[14 * 96 :].copy()
    assert det.alarms(tt, pp) == []  # no false alarm on this leak-free week
    pp[300:, 0] -= 1.0  # a leak near candidate 0 from step 300 on
    pp[300:, 1] -= 0.5
    alarms = det.alarms(tt, pp)
    assert alarms[0][0] >= tt[300] and alarms[0][1] == 0
    assert alarms[0][0] - tt[300] <= 4 * 900
    # the leak persists: after each alarm the detector holds off 4 h, then alarms again
    gaps = np.diff([a for a, _ in alarms])
    assert np.all(gaps >= 4 * 3600)


def test_detector_refuses_use_before_fit_and_wrong_shapes():
    det = LeakDetector()
    with pytest.raises(RuntimeError, match="fit"):
        det.residuals(DAY, np.zeros((len(DAY), 2)))
    rng = np.random.default_rng(4)
    t, p = _weeks(rng, 7, 0.1, 0.1)
    with pytest.raises(ValueError, match=r"shape \(candidates, 2\)"):
        det.fit(t, p, np.ones((3, 4)))
    det.fit(t, p)
    with pytest.raises(RuntimeError, match="calibrate"):
        det.alarms(t, p)
