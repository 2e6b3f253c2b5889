"""Alarms as work orders in a running hotline service, through its staff HTTP API.

:class:`HttpHotlineSink` is the :class:`~.alarms.AlarmSink` for a hotline that runs as its own
service (``citycheck.web.hotline``): a new alarm is taken in by ``POST /staff/intake`` with the
monitoring system's dispatcher token (classification, dispatch by place, deadlines and escalation
are the hotline's), a level rise and the sensor's recovery are notes on the order
(``POST /staff/orders/{id}/events``). :func:`follow_work_orders` reads each open alarm's order
back (``GET /staff/orders/{id}``) and stores its status with the alarm, so the alarm list shows
when the repair was signed for, replied to and closed by people.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from citycheck.lifeline.monitoring.alarms import LEVEL_NAMES, Alarm

__all__ = ["HotlineHttpError", "HttpHotlineSink", "follow_work_orders"]

_URGENCY_BY_LEVEL = {1: "normal", 2: "urgent", 3: "emergency"}

#: Order statuses after which the order no longer changes by itself.
FINAL_STATUSES = frozenset({"closed", "called_back", "rated", "linked"})


class HotlineHttpError(RuntimeError):
    """The hotline answered with an error (message names the call and the answer)."""


class HttpHotlineSink:
    """An alarm sink writing to a hotline service over HTTP.

    Parameters
    ----------
    base_url : str
        Root of the hotline service (``http://host:port``).
    token : str
        Bearer token of a dispatcher account for the monitoring system.
    service_code : str
        Catalogue code under which lifeline alarms are filed.
    locate : callable, optional
        sensor id -> (lat, lon) in WGS84, so the order is dispatched by place.
    client : httpx.Client, optional
        A client to reuse (its base URL must be ``base_url``).
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        service_code: str = "urban",
        locate: Callable[[str], tuple[float, float] | None] | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.client = client or httpx.Client(base_url=base_url, timeout=10.0)
        self.headers = {"Authorization": f"Bearer {token}"}
        self.service_code = service_code
        self.locate = locate

    def _request(self, method: str, path: str, what: str, **kw) -> dict:
        try:
            resp = self.client.request(method, path, headers=self.headers, **kw)
        except httpx.HTTPError as exc:
            raise HotlineHttpError(f"{what}: {exc} ({self.client.base_url})") from exc
        if resp.status_code >= 400:
            raise HotlineHttpError(f"{what}: HTTP {resp.status_code} {resp.text[:300]}")
        return resp.json()

    def open(self, alarm: Alarm) -> str:
        where = self.locate(alarm.sensor_id) if self.locate else None
        body = {
            "description": f"{alarm.title('zh')}（{alarm.title('en')}）",
            "channel": "app",
            "service_code": self.service_code,
            "urgency": _URGENCY_BY_LEVEL.get(alarm.level, "urgent"),
            "lat": where[0] if where else None,
            "lon": where[1] if where else None,
        }
        out = self._request(
            "POST", "/staff/intake", f"intake of alarm {alarm.sensor_id}/{alarm.kind}", json=body
        )
        alarm.order_status = out["status"]
        return str(out["id"])

    def _note(self, alarm: Alarm, zh: str, en: str) -> None:
        out = self._request(
            "POST",
            f"/staff/orders/{alarm.work_order}/events",
            f"note on order {alarm.work_order}",
            json={
                "kind": "note",
                "reason": f"{zh} / {en}",
                "data": {"alarm_level": alarm.level, "sensor_id": alarm.sensor_id},
            },
        )
        alarm.order_status = out["status"]

    def update(self, alarm: Alarm) -> None:
        zh, en = LEVEL_NAMES.get(alarm.level, (str(alarm.level), str(alarm.level)))
        self._note(alarm, f"告警升级为{zh}", f"alarm raised to {en}")

    def close(self, alarm: Alarm) -> None:
        self._note(alarm, "传感器读数恢复正常", "sensor back to normal")

    def order_status(self, work_order: str) -> str:
        """The order's current status as the hotline reports it."""
        out = self._request("GET", f"/staff/orders/{work_order}", f"order {work_order}")
        return str(out["order"]["status"])


def follow_work_orders(store, sink: HttpHotlineSink) -> dict[int, str]:
    """Read the status of every alarm's work order that is not final and store it.

    Parameters
    ----------
    store : SensorStore
    sink : HttpHotlineSink

    Returns
    -------
    dict
        alarm id -> new status, for the alarms whose status changed.
    """
    changed: dict[int, str] = {}
    alarms = store.alarms()
    for row in alarms.itertuples(index=False):
        if row.work_order is None or (isinstance(row.work_order, float)):
            continue
        if row.order_status in FINAL_STATUSES:
            continue
        status = sink.order_status(str(row.work_order))
        if status != row.order_status:
            store.set_order_status(int(row.alarm_id), status)
            changed[int(row.alarm_id)] = status
    return changed
