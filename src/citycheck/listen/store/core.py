"""What the hotline store's parts share: the database, the city's data files, the event log.

:class:`StoreCore` is built once by :class:`~citycheck.listen.store.Hotline` and handed to its
parts (:mod:`.intake`, :mod:`.queries`, :mod:`.accounts`); it holds the engine and sessions,
the one-writer-at-a-time lock of a SQLite store, and the event log's plumbing (reading an
order's log, localising and storing events, projecting a derived state onto the order row).
The rules of the log themselves live in :mod:`citycheck.listen.domain`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, Table, select
from sqlalchemy.orm import Session

from citycheck.listen.calendar import WorkCalendar, load_calendar
from citycheck.listen.catalogue import Catalogue, load_catalogue
from citycheck.listen.classifier import TextClassifier, load_model
from citycheck.listen.db import make_engine, session_factory, upgrade
from citycheck.listen.deadlines import compute_clocks
from citycheck.listen.dispatch import Jurisdiction, load_jurisdiction
from citycheck.listen.domain import Event, EventKind, OrderState, Status, apply_event, derive_state
from citycheck.listen.models import Order, OrderEvent
from citycheck.listen.privacy import FieldCipher, redact
from citycheck.listen.settings import HotlineSettings
from citycheck.listen.write_lock import WriteLock, sqlite_file

#: Final statuses: an order in one of them is closed for the public ("closed" in Open311).
DONE = (Status.CLOSED.value, Status.CALLED_BACK.value, Status.RATED.value)

#: The mapped tables (SQLAlchemy's declarative stubs type ``__table__`` as a FromClause).
ORDERS = cast(Table, Order.__table__)
EVENTS = cast(Table, OrderEvent.__table__)


class OrderNotFoundError(KeyError):
    """No such order, or not one the staff member may see."""


@dataclass(frozen=True)
class Staff:
    """An authenticated staff member."""

    username: str
    role: str
    unit: str | None


def utc(dt: datetime) -> datetime:
    """Aware UTC datetime (SQLite returns naive datetimes that were stored as UTC)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def visible(order: Order, staff: Staff) -> bool:
    """A unit sees only orders it leads or assists; other roles see all."""
    if staff.role != "unit":
        return True
    return order.lead_unit == staff.unit or staff.unit in (order.assisting_units or [])


class StoreCore:
    """The database and the city's data, shared by the hotline store's parts.

    Parameters
    ----------
    settings
        Plumbing (database URL, secret, data files, thresholds).
    engine
        An existing engine (tests); by default one is made from ``settings.db_url``.  The
        schema is brought up to the newest migration either way.
    """

    def __init__(self, settings: HotlineSettings, *, engine: Engine | None = None) -> None:
        self.settings = settings
        self.tz = ZoneInfo(settings.timezone)
        self.catalogue: Catalogue = load_catalogue(settings.catalogue_file)
        self.calendar: WorkCalendar = load_calendar(settings.calendar_file)
        self.jurisdiction: Jurisdiction = load_jurisdiction(settings.jurisdiction_file)
        self.classifier: TextClassifier | None = (
            load_model(settings.model_file) if settings.model_file else None
        )
        self.cipher = FieldCipher(settings.secret)
        self.engine = engine or make_engine(
            settings.db_url,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            pool_size=settings.pg_pool_size,
            max_overflow=settings.pg_max_overflow,
        )
        upgrade(self.engine)
        self.Session = session_factory(self.engine)
        self.is_pg = self.engine.dialect.name == "postgresql"
        self._write_lock = WriteLock(sqlite_file(str(self.engine.url)))

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction, one at a time across processes on SQLite (see write_lock)."""
        with self._write_lock.held(), self.Session.begin() as s:
            yield s

    def close(self) -> None:
        """Dispose of the engine's connections and release the write lock's file."""
        self.engine.dispose()
        self._write_lock.close()

    # ---------------------------------------------------------------- the event log
    def load_events(self, s: Session, order_id: int) -> list[Event]:
        """One order's log, in order, with times in the city's timezone."""
        rows = s.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.seq)
        )
        return [self.to_event(r) for r in rows]

    def to_event(self, r: OrderEvent) -> Event:
        """A stored event row as a domain :class:`~citycheck.listen.domain.Event`."""
        return Event(
            EventKind(r.kind),
            utc(r.at).astimezone(self.tz),
            r.actor,
            r.role,
            r.unit,
            r.reason,
            dict(r.data or {}),
        )

    def append(self, s: Session, order: Order, event: Event) -> OrderState:
        """Validate ``event`` against the derived state, append it, refresh the projection."""
        prior = self.load_events(s, order.id)
        state = derive_state(prior) if prior else None
        event = self.localise(event)
        new = apply_event(state, event)
        order.n_events += 1
        s.add(OrderEvent(**event_values(order.id, order.n_events, event)))
        self.project(order, new)
        return new

    def localise(self, event: Event) -> Event:
        """The event with its time in the city's timezone (as the domain rules expect)."""
        return Event(
            event.kind,
            utc(event.at).astimezone(self.tz),
            event.actor,
            event.role,
            event.unit,
            event.reason,
            event.data,
        )

    def project(self, order: Order, st: OrderState) -> None:
        """Copy a derived state onto the order row (the projection the queries read)."""
        order.status = st.status.value
        order.service_code = st.service_code
        order.request_type = st.request_type.value
        order.urgency = st.urgency.value
        order.lead_unit = st.lead_unit
        order.assisting_units = list(st.assisting_units)
        order.confidence = st.confidence
        order.escalation = st.escalation
        order.confidential = st.confidential
        order.duplicate_of = int(st.duplicate_of) if st.duplicate_of else None
        order.updated_at = utc(st.updated_at)
        order.status_notes = redact(st.reply) if st.reply else None
        order.close_due = utc(compute_clocks(st, self.catalogue, self.calendar).close_due)


def event_values(order_id: int, seq: int, event: Event) -> dict[str, Any]:
    """The ``order_events`` row of ``event``, number ``seq`` in the log of ``order_id``."""
    return {
        "order_id": order_id,
        "seq": seq,
        "kind": event.kind.value,
        "at": utc(event.at),
        "actor": event.actor,
        "role": event.role,
        "unit": event.unit,
        "reason": event.reason,
        "data": event.data,
    }
