"""The alarm policy of ``citycheck lifeline monitor``: data in, data out.

What counts as an alarm (gas and water level by threshold; pressure and flow by CUSUM on the
learned daily pattern; pressure on the network model by the matched-signature detector), the
order in which detections reach the :class:`~citycheck.lifeline.monitoring.alarms.AlarmManager`
(which deduplicates, escalates and turns alarms into work orders through its sink), and the time
handling: local days follow the city's time zone, a setting (:attr:`MonitorSettings.tz`,
``Asia/Shanghai`` by default) rather than a constant.

The command (:mod:`citycheck.cli.lifeline`) reads and writes the store and prints; everything
here takes readings and returns detections, so it can be tested on a hand-made case.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from citycheck.lifeline.monitoring.detect import (
    GAS_LEVELS_PCT_LEL,
    WATER_LEVEL_LEVELS_M,
    cusum,
    learn_daily_pattern,
    pattern_zscores,
    threshold_levels,
)

if TYPE_CHECKING:
    from citycheck.lifeline.monitoring.alarms import AlarmManager, AlarmSink
    from citycheck.lifeline.monitoring.leak_detector import LeakDetector

__all__ = [
    "DEFAULT_TZ",
    "Detections",
    "MonitorSettings",
    "Observation",
    "alarm_sink",
    "feed_alarms",
    "local_time",
    "model_detector",
    "model_observations",
    "parse_period",
    "sensor_detections",
    "utc_offset_s",
]

#: The time zone of the city when none is set (China Standard Time, no daylight saving).
DEFAULT_TZ = "Asia/Shanghai"

#: One detection for the AlarmManager: ``(sensor_id, kind, ts, level, value)``.
Observation = tuple[str, str, int, int, float]


@dataclass(frozen=True)
class MonitorSettings:
    """Settings of the alarm policy.

    Attributes
    ----------
    tz : str
        IANA time zone of the city: local days of the daily pattern, naive times of a
        calibration period, times shown to people.
    train_days : int
        Days at the start of each pressure/flow series that teach its daily pattern.
    min_train_points : int
        Fewer training readings than this: the sensor is not watched by the simple detector.
    """

    tz: str = DEFAULT_TZ
    train_days: int = 7
    min_train_points: int = 96


@dataclass
class Detections:
    """Per-sensor detections and which sensors the simple CUSUM detector watched."""

    observations: list[Observation] = field(default_factory=list)
    simple: list[str] = field(default_factory=list)


def utc_offset_s(tz: str, ts: int | None = None) -> int:
    """Offset of local time in ``tz`` from UTC in seconds at epoch second ``ts`` (default 0).

    The daily pattern uses one fixed offset; for a zone with daylight saving it is the offset at
    ``ts`` (pass the start of the training period).
    """
    t = pd.Timestamp(0 if ts is None else int(ts), unit="s", tz="UTC").tz_convert(tz)
    off = t.utcoffset()
    return 0 if off is None else int(off.total_seconds())


def local_time(ts: int, tz: str = DEFAULT_TZ) -> pd.Timestamp:
    """Epoch seconds as a time in the city's zone."""
    return pd.Timestamp(ts, unit="s", tz=tz)


def parse_period(text: str, tz: str = DEFAULT_TZ) -> tuple[int, int]:
    """``START/END`` (ISO dates or times, local time in ``tz`` when no zone is given) -> epoch
    seconds.

    Raises
    ------
    ValueError
        Not ``START/END``, a part is not a time, or END is not after START.
    """
    a, sep, b = text.partition("/")
    try:
        if not sep:
            raise ValueError("no '/'")
        out = []
        for x in (a, b):
            t = pd.Timestamp(x.strip())
            t = t.tz_localize(tz) if t.tzinfo is None else t
            out.append(int(t.timestamp()))
    except ValueError as exc:
        raise ValueError(
            f"--calibrate {text!r}: expected START/END such as 2026-07-01/2026-07-15 ({exc})"
        ) from exc
    if out[1] <= out[0]:
        raise ValueError(f"--calibrate {text!r}: END must come after START")
    return out[0], out[1]


def model_detector(settings: MonitorSettings, ts: int | None = None) -> LeakDetector:
    """A matched-signature leak detector whose daily pattern follows the city's local days."""
    from citycheck.lifeline.monitoring.leak_detector import LeakDetector

    return LeakDetector(tz_offset_s=utc_offset_s(settings.tz, ts))


def sensor_detections(
    readings: pd.DataFrame,
    settings: MonitorSettings | None = None,
    *,
    model_sensors: Iterable[str] = (),
) -> Detections:
    """Per-sensor detections of every reading, sensor by sensor.

    - ``gas``: levels by the thresholds of GB/T 50493-2019 (:data:`GAS_LEVELS_PCT_LEL`);
    - ``water_level``: levels by :data:`WATER_LEVEL_LEVELS_M`;
    - ``pressure`` (falls) and ``flow`` (rises): the first ``train_days`` teach the daily
      pattern (in local days of ``settings.tz``), the rest is judged by a one-sided CUSUM of
      the z-scores, level 1 while it fires, kind ``leak``; a pressure sensor in
      ``model_sensors`` is left to the matched-signature detector, and a series too short to
      learn from (or all training) is skipped;
    - other quantities raise nothing.

    Parameters
    ----------
    readings : DataFrame
        Columns ``sensor_id, quantity, ts, value``, each series in time order.
    """
    s = settings or MonitorSettings()
    skip = {str(x) for x in model_sensors}
    out = Detections()
    for (sid, qty), g in readings.groupby(["sensor_id", "quantity"]):
        ts, v = g["ts"].to_numpy(), g["value"].to_numpy()
        if qty == "gas":
            levels, kind = threshold_levels(v, GAS_LEVELS_PCT_LEL), "gas"
        elif qty == "water_level":
            levels, kind = threshold_levels(v, WATER_LEVEL_LEVELS_M), "water_level"
        elif qty in ("pressure", "flow"):
            if qty == "pressure" and str(sid) in skip:
                continue
            train = ts < ts[0] + s.train_days * 86400
            if train.sum() < s.min_train_points or train.all():
                continue
            offset = utc_offset_s(s.tz, int(ts[0]))
            pat = learn_daily_pattern(ts[train], v[train], tz_offset_s=offset)
            z = pattern_zscores(ts, v, pat, tz_offset_s=offset)
            fired = cusum(z[~train], direction=-1 if qty == "pressure" else 1)
            levels = np.zeros(len(ts), dtype=int)
            levels[~train] = fired.astype(int)
            kind = "leak"
            out.simple.append(f"{sid} ({qty})")
        else:
            continue
        out.observations += [
            (str(sid), kind, int(t), int(lv), float(x))
            for t, lv, x in zip(ts, levels, v, strict=True)
        ]
    return out


def model_observations(
    observations: Sequence[tuple[str, int, int, float]],
) -> list[Observation]:
    """The matched-signature detector's ``(sensor_id, ts, level, statistic)`` as leak
    observations."""
    return [(s, "leak", t, lv, x) for s, t, lv, x in observations]


def feed_alarms(manager: AlarmManager, observations: Iterable[Observation]) -> AlarmManager:
    """Feed detections to the manager in time order (then sensor, then kind).

    The manager deduplicates (one open alarm per sensor and kind), escalates (a higher level
    updates the work order), closes after a quiet spell and suppresses flapping sensors; its
    sink turns alarms into work orders. A refusing hotline raises ``RuntimeError``.
    """
    for sid, kind, t, lv, x in sorted(observations, key=lambda o: (o[2], o[0], o[1])):
        manager.observe(sid, kind, t, lv, x)
    return manager


def alarm_sink(
    stored_alarms: int, hotline_url: str | None = None, hotline_token: str | None = None
) -> AlarmSink:
    """Where alarms become work orders: the running hotline's staff API, or (without a URL) an
    in-memory list numbering after the ``stored_alarms`` already stored."""
    if hotline_url:
        from citycheck.lifeline.monitoring.hotline_http import HttpHotlineSink

        return HttpHotlineSink(hotline_url, hotline_token or "")
    from citycheck.lifeline.monitoring.alarms import ListSink

    return ListSink(start=stored_alarms)
