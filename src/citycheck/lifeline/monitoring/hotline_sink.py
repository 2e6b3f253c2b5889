"""Alarms as work orders in the hotline engine (:mod:`citycheck.listen`), one queue for both.

A new alarm becomes an order through the hotline's own intake (classification, dispatch by place
and category, deadlines and escalation clocks all apply). A rise in alarm level and the sensor's
return to normal are added to the order's event log as notes by the monitoring account; closure
stays with people: the handling unit replies when the repair is done, a supervisor approves and
the dispatcher closes, as for any order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from citycheck.lifeline.monitoring.alarms import KIND_NAMES, LEVEL_NAMES, Alarm

__all__ = ["HotlineSink"]

_URGENCY_BY_LEVEL = {1: "normal", 2: "urgent", 3: "emergency"}


class HotlineSink:
    """An :class:`~citycheck.lifeline.monitoring.alarms.AlarmSink` writing to a ``Hotline``.

    Parameters
    ----------
    hotline : citycheck.listen.store.Hotline
    service_code : str
        Service (catalogue code) under which lifeline alarms are filed.
    locate : callable, optional
        sensor id -> (lat, lon) in WGS84, so the order is dispatched by place.
    account : str
        Username of the monitoring system in the event log.
    """

    def __init__(
        self,
        hotline,
        *,
        service_code: str = "urban",
        locate: Callable[[str], tuple[float, float] | None] | None = None,
        account: str = "lifeline-monitor",
    ) -> None:
        from citycheck.listen.store import Staff

        self.hotline = hotline
        self.service_code = service_code
        self.locate = locate
        self.staff = Staff(account, "dispatcher", None)

    def open(self, alarm: Alarm) -> str:
        from citycheck.listen.domain import Channel, Urgency
        from citycheck.listen.store import Intake

        where = self.locate(alarm.sensor_id) if self.locate else None
        kind_zh, kind_en = KIND_NAMES.get(alarm.kind, (alarm.kind, alarm.kind))
        intake = Intake(
            description=f"{alarm.title('zh')}（{alarm.title('en')}）",
            service_code=self.service_code,
            urgency=Urgency(_URGENCY_BY_LEVEL.get(alarm.level, "urgent")),
            channel=Channel.APP,
            lat=where[0] if where else None,
            lon=where[1] if where else None,
            attributes={"hazard": "yes" if alarm.level >= 2 else "no"},
            requested_at=datetime.fromtimestamp(alarm.opened_ts, UTC),
            external_id=f"lifeline:{alarm.sensor_id}:{alarm.kind}:{alarm.opened_ts}",
            actor=self.staff.username,
            source={
                "sensor_id": alarm.sensor_id,
                "kind": alarm.kind,
                "kind_zh": kind_zh,
                "kind_en": kind_en,
                "level": alarm.level,
                "peak_value": alarm.peak_value,
            },
        )
        order = self.hotline.submit(intake)
        return str(order.id)

    def _note(self, alarm: Alarm, zh: str, en: str, when: int) -> None:
        from citycheck.listen.domain import EventKind

        assert alarm.work_order is not None  # set by open(), before any update or close
        self.hotline.act(
            int(alarm.work_order),
            EventKind.NOTE,
            self.staff,
            reason=f"{zh} / {en}",
            data={"alarm_level": alarm.level, "sensor_id": alarm.sensor_id},
            at=datetime.fromtimestamp(when, UTC),
        )

    def update(self, alarm: Alarm) -> None:
        zh, en = LEVEL_NAMES.get(alarm.level, (str(alarm.level), str(alarm.level)))
        self._note(alarm, f"告警升级为{zh}", f"alarm raised to {en}", alarm.last_ts)

    def close(self, alarm: Alarm) -> None:
        self._note(
            alarm, "传感器读数恢复正常", "sensor back to normal", alarm.closed_ts or alarm.last_ts
        )
