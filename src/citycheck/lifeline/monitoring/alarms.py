"""Alarms from detections: levels, deduplication, flapping suppression, and a sink for work orders.

An :class:`AlarmManager` turns a time-ordered stream of per-sensor detections (level 0 = normal,
1-3 = alarm levels) into alarms:

- **deduplication**: one open alarm per (sensor, kind); further triggers raise its level and
  count, they do not open another. Across runs, :meth:`AlarmManager.resume` takes up the alarms
  already stored: an episode still open is continued (updated, no second alarm and no second
  work order) and detections at or before what a previous run already judged are skipped, so
  re-running on the same data changes nothing;
- **hysteresis**: an alarm closes only after ``clear_after_s`` of normal readings;
- **flapping suppression**: a sensor whose alarm opened ``flap_max`` times within
  ``flap_window_s`` is marked flapping: its alarms are still recorded but not sent on until it has
  been quiet for a full window.

Alarms go to an :class:`AlarmSink` — the hotline engine's work-order queue in production
(``open`` creates a work order and returns its id, ``update`` escalates, ``close`` closes it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import pandas as pd

from citycheck.labels import labels_under

__all__ = ["LEVEL_NAMES", "Alarm", "AlarmManager", "AlarmSink", "ListSink"]

#: Alarm levels, Chinese and English.
LEVEL_NAMES: dict[int, tuple[str, str]] = {
    int(k): v for k, v in labels_under("lifeline.alarm_level").items()
}

KIND_NAMES: dict[str, tuple[str, str]] = labels_under("lifeline.alarm_kind")


@dataclass
class Alarm:
    """One alarm (possibly many triggers)."""

    sensor_id: str
    kind: str
    level: int
    opened_ts: int
    last_ts: int
    peak_value: float | None = None
    triggers: int = 1
    closed_ts: int | None = None
    flapping: bool = False
    work_order: str | None = None
    order_status: str | None = None
    alarm_id: int | None = None
    _clear_since: int | None = field(default=None, repr=False)

    @property
    def is_open(self) -> bool:
        return self.closed_ts is None

    def title(self, lang: str = "zh") -> str:
        """Short title for a work order."""
        zh, en = KIND_NAMES.get(self.kind, (self.kind, self.kind))
        lz, le = LEVEL_NAMES.get(self.level, (str(self.level), str(self.level)))
        if lang == "zh":
            return f"[{lz}] {zh} 传感器 {self.sensor_id}"
        return f"[{le}] {en} at sensor {self.sensor_id}"


@runtime_checkable
class AlarmSink(Protocol):
    """Where alarms go: the hotline engine's work orders in production."""

    def open(self, alarm: Alarm) -> str:
        """Create a work order for a new alarm; return its id."""
        ...

    def update(self, alarm: Alarm) -> None:
        """The alarm's level rose (escalate the work order)."""
        ...

    def close(self, alarm: Alarm) -> None:
        """The condition has cleared (close or mark the work order for verification)."""
        ...


class ListSink:
    """An in-memory sink that records every call (for tests and dry runs).

    Parameters
    ----------
    start : int
        Work orders already numbered (a dry run over a store with alarms continues after them).
    """

    def __init__(self, start: int = 0) -> None:
        self.events: list[tuple[str, str, int]] = []
        self._n = start

    def open(self, alarm: Alarm) -> str:
        self._n += 1
        wo = f"WO-{self._n}"
        self.events.append(("open", wo, alarm.level))
        return wo

    def update(self, alarm: Alarm) -> None:
        self.events.append(("update", alarm.work_order or "", alarm.level))

    def close(self, alarm: Alarm) -> None:
        self.events.append(("close", alarm.work_order or "", alarm.level))


class AlarmManager:
    """Stateful alarm logic over time-ordered detections.

    Parameters
    ----------
    sink : AlarmSink, optional
        Receives open/update/close of alarms that are not suppressed.
    clear_after_s : int
        Normal readings needed, in seconds, before an alarm closes.
    flap_window_s, flap_max : int
        A sensor whose alarms opened ``flap_max`` times within ``flap_window_s`` is flapping.
    store : SensorStore, optional
        Alarms are saved there as they change.
    """

    def __init__(
        self,
        sink: AlarmSink | None = None,
        *,
        clear_after_s: int = 1800,
        flap_window_s: int = 6 * 3600,
        flap_max: int = 3,
        store=None,
    ) -> None:
        self.sink = sink
        self.clear_after_s = clear_after_s
        self.flap_window_s = flap_window_s
        self.flap_max = flap_max
        self.store = store
        self.open: dict[tuple[str, str], Alarm] = {}
        self.history: list[Alarm] = []
        self._opens: dict[tuple[str, str], list[int]] = {}
        self._seen_until: dict[tuple[str, str], int] = {}

    def resume(self, stored: pd.DataFrame) -> int:
        """Take up the alarms a previous run stored (as ``SensorStore.alarms()`` returns them).

        Open alarms become this manager's open alarms (with their id and work order, so a
        further trigger updates them); each (sensor, kind) is judged only after the last time
        a stored alarm covers (its closing time, or its last trigger while open); the opening
        times feed the flapping count. Call before the first :meth:`observe`.

        Parameters
        ----------
        stored : DataFrame
            Columns ``alarm_id, sensor_id, kind, level, opened_ts, last_ts, closed_ts,
            peak_value, triggers, flapping, work_order`` (``order_status`` optional).

        Returns
        -------
        int
            Open alarms taken up.
        """
        n = 0
        for r in stored.sort_values("opened_ts").itertuples(index=False):
            key = (str(r.sensor_id), str(r.kind))
            self._opens.setdefault(key, []).append(int(r.opened_ts))
            closed = None if pd.isna(r.closed_ts) else int(r.closed_ts)
            until = closed if closed is not None else int(r.last_ts)
            self._seen_until[key] = max(self._seen_until.get(key, until), until)
            if closed is not None:
                continue
            wo = getattr(r, "work_order", None)
            status = getattr(r, "order_status", None)
            peak = r.peak_value
            self.open[key] = Alarm(
                key[0],
                key[1],
                int(r.level),
                int(r.opened_ts),
                int(r.last_ts),
                None if pd.isna(peak) else float(peak),
                triggers=int(r.triggers),
                flapping=bool(r.flapping),
                work_order=None if wo is None or pd.isna(wo) else str(wo),
                order_status=None if status is None or pd.isna(status) else str(status),
                alarm_id=int(r.alarm_id),
            )
            n += 1
        return n

    def _save(self, alarm: Alarm) -> None:
        if self.store is not None:
            alarm.alarm_id = self.store.save_alarm(alarm)

    def observe(
        self, sensor_id: str, kind: str, ts: int, level: int, value: float | None = None
    ) -> Alarm | None:
        """Feed one detection (level 0 = normal). Returns the alarm it touched, if any."""
        key = (sensor_id, kind)
        if ts <= self._seen_until.get(key, -1):
            return None  # a previous run already judged this time (see resume)
        alarm = self.open.get(key)
        if level > 0:
            if alarm is None:
                opens = [t for t in self._opens.get(key, []) if ts - t < self.flap_window_s]
                opens.append(ts)
                self._opens[key] = opens
                alarm = Alarm(sensor_id, kind, level, ts, ts, value)
                alarm.flapping = len(opens) >= self.flap_max
                self.open[key] = alarm
                self.history.append(alarm)
                if self.sink is not None and not alarm.flapping:
                    alarm.work_order = self.sink.open(alarm)
                self._save(alarm)
                return alarm
            alarm.triggers += 1
            alarm.last_ts = ts
            alarm._clear_since = None
            if value is not None and (
                alarm.peak_value is None or abs(value) > abs(alarm.peak_value)
            ):
                alarm.peak_value = value
            if level > alarm.level:
                alarm.level = level
                if self.sink is not None and alarm.work_order is not None:
                    self.sink.update(alarm)
            self._save(alarm)
            return alarm
        if alarm is None:
            return None
        if alarm._clear_since is None:
            alarm._clear_since = ts
        if ts - alarm._clear_since >= self.clear_after_s:
            alarm.closed_ts = ts
            del self.open[key]
            if self.sink is not None and alarm.work_order is not None:
                self.sink.close(alarm)
            self._save(alarm)
        return alarm
