"""The hotline store: intake, the event log and its projection, queries, keys and staff accounts.

Every write is one database transaction that appends events and updates the order's projection;
callers acknowledge an order only after :meth:`Hotline.submit` returned, i.e. after the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import queue
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from citycheck.listen.calendar import WorkCalendar, load_calendar
from citycheck.listen.catalogue import Catalogue, load_catalogue
from citycheck.listen.classifier import TextClassifier, load_model
from citycheck.listen.db import make_engine, session_factory, upgrade
from citycheck.listen.deadlines import compute_clocks, escalation_level, overdue_clocks
from citycheck.listen.dispatch import Jurisdiction, load_jurisdiction, route
from citycheck.listen.domain import (
    Channel,
    Event,
    EventKind,
    OrderState,
    RequestType,
    Status,
    TransitionError,
    Urgency,
    apply_event,
    derive_state,
)
from citycheck.listen.duplicates import is_duplicate
from citycheck.listen.models import ApiKey, Order, OrderEvent, StaffUser
from citycheck.listen.privacy import FieldCipher, hash_secret, redact
from citycheck.listen.public_read import PublicOrder, PublicOrderReader
from citycheck.listen.settings import HotlineSettings
from citycheck.listen.write_lock import WriteLock, sqlite_file

log = logging.getLogger(__name__)

ROLES = ("dispatcher", "unit", "supervisor", "admin")


class OrderNotFoundError(KeyError):
    """No such order, or not one the staff member may see."""


_DONE = (Status.CLOSED.value, Status.CALLED_BACK.value, Status.RATED.value)


def utc(dt: datetime) -> datetime:
    """Aware UTC datetime (SQLite returns naive datetimes that were stored as UTC)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


#: Open orders of one service near a point since a time: the duplicate check's candidates.
#: Built once, with bound parameters, so an intake does not pay for building the statement;
#: Core columns (not the ORM entity's), so executing it skips the ORM's result machinery.
#: The mapped tables (SQLAlchemy's declarative stubs type ``__table__`` as a FromClause).
_ORDERS = cast(Table, Order.__table__)
_EVENTS = cast(Table, OrderEvent.__table__)
_O = _ORDERS.c
_CANDIDATES = (
    select(_O.id, _O.lat, _O.lon, _O.requested_at, _O.description_public)
    .where(
        _O.service_code == bindparam("code"),
        _O.duplicate_of.is_(None),
        _O.status.notin_((*_DONE, Status.LINKED.value)),
        _O.requested_at >= bindparam("since"),
        _O.lat.between(bindparam("lat0"), bindparam("lat1")),
        _O.lon.between(bindparam("lon0"), bindparam("lon1")),
    )
    .order_by(_O.requested_at)
    .limit(50)
)


#: Core inserts of a new order (returning its id) and of events.
_INSERT_ORDER = insert(_ORDERS).returning(_ORDERS.c.id)
_INSERT_EVENT = insert(_EVENTS)
_ORDER_COLUMNS = tuple(c.key for c in _ORDERS.columns if c.key != "id")

#: A master's projection after ``b_k`` NOTEs about new duplicates (see Hotline._note_links).
_NOTE_MASTER = (
    update(_ORDERS)
    .where(_O.id == bindparam("b_id"))
    .values(
        n_events=_O.n_events + bindparam("b_k"),
        duplicates=_O.duplicates + bindparam("b_k"),
        updated_at=bindparam("b_at"),
    )
    .returning(_O.n_events)
)


@dataclass
class Intake:
    """One incoming request, whatever the channel (phone, web, app, SMS, Open311, import)."""

    description: str = ""
    service_code: str | None = None
    request_type: RequestType | None = None
    urgency: Urgency = Urgency.NORMAL
    channel: Channel = Channel.PHONE
    lat: float | None = None
    lon: float | None = None
    address: str | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    media_url: str | None = None
    confidential: bool = False
    requested_at: datetime | None = None
    external_id: str | None = None
    actor: str = "intake"
    closed_at: datetime | None = None  # imports: already closed in the source system
    source: dict[str, Any] = field(default_factory=dict)  # imports: original fields kept
    # the classifier's answer, when :meth:`Hotline.classify` gave it before the write (outside
    # the group commit's writer thread); None: classified, if needed, inside the write
    prediction: Prediction | None = None


@dataclass(frozen=True)
class Prediction:
    """The classifier's category for an intake without a service code.

    ``service_code`` is None when the model's label is not a service of the catalogue (the
    order then goes to a person, with confidence 0).
    """

    service_code: str | None
    confidence: float


@dataclass(frozen=True)
class _Link:
    """A new order found to duplicate ``master``, to be noted on the master at ``at``."""

    master: int
    order: int
    at: datetime


@dataclass(frozen=True)
class Staff:
    """An authenticated staff member."""

    username: str
    role: str
    unit: str | None


class Hotline:
    """The hotline service over one database.

    Parameters
    ----------
    settings
        Plumbing (database URL, secret, data files, thresholds).
    engine
        An existing engine (tests); by default one is made from ``settings.db_url``.
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
        self._is_pg = self.engine.dialect.name == "postgresql"
        self._public = PublicOrderReader(
            self.engine, pool_size=settings.pg_pool_size, max_overflow=settings.pg_max_overflow
        )
        group = settings.group_commit if settings.group_commit is not None else not self._is_pg
        writers = settings.group_commit_writers or 1
        self._committer = GroupCommitter(self, 1 if not self._is_pg else writers) if group else None
        self._write_lock = WriteLock(sqlite_file(str(self.engine.url)))
        self._valid_keys: dict[str, float] = {}  # key hash -> monotonic time it is trusted until
        # token hash -> (staff member, monotonic time trusted until)
        self._known_staff: dict[str, tuple[Staff, float]] = {}

    @contextlib.contextmanager
    def _write(self) -> Iterator[Session]:
        """A write transaction, one at a time across processes on SQLite (see write_lock)."""
        with self._write_lock.held(), self.Session.begin() as s:
            yield s

    # ---------------------------------------------------------------- intake
    def submit(self, intake: Intake) -> Order:
        """Accept, classify, link or dispatch a request in one transaction; return the order.

        Returns only after the commit, so the order is durable before the caller acknowledges it.
        With ``group_commit`` on, concurrent callers share one transaction (and one fsync); each
        still returns only after that transaction has committed.
        """
        intake = self.classify(intake)
        if self._committer is not None:
            return self._committer.submit(intake)
        return self._submit_alone(intake)

    async def submit_async(self, intake: Intake) -> Order:
        """:meth:`submit` for an event loop: waits for the commit without holding a thread.

        With group commit the intake goes straight onto the writer's queue and the loop awaits
        the batch's commit; otherwise the transaction runs in the thread pool.  Either way the
        order is committed before this returns.

        An intake without a service code is classified first, on the loop: the compiled
        classifier takes about a quarter of a millisecond for a typical message, and as it is
        Python code holding the GIL, a worker thread would not free the loop any sooner.
        """
        intake = self.classify(intake)
        if self._committer is not None:
            return await asyncio.wrap_future(self._committer.enqueue(intake))
        return await asyncio.to_thread(self._submit_alone, intake)

    def classify(self, intake: Intake) -> Intake:
        """``intake`` with the classifier's :class:`Prediction` when it needs one (no service
        code, a model, some text, no prediction yet); otherwise ``intake`` itself.

        :meth:`submit` and :meth:`submit_async` call this before handing the intake to the
        writer, so that the (single, on SQLite) writer thread only writes.
        """
        clf = self.classifier
        if (
            clf is None
            or intake.service_code is not None
            or intake.prediction is not None
            or not (intake.description or "").strip()
        ):
            return intake
        labels, confs = clf.predict([intake.description])
        code: str | None = labels[0]
        confidence = float(confs[0])
        if code not in self.catalogue.services:
            code, confidence = None, 0.0
        return replace(intake, prediction=Prediction(code, confidence))

    def _submit_alone(self, intake: Intake) -> Order:
        with self._write() as s:
            return self._submit_batch(s, [intake])[0]

    def submit_many(self, intakes: list[Intake]) -> list[Order]:
        """Submit several requests in one transaction (imports); all or none are stored."""
        with self._write() as s:
            return self._submit_batch(s, intakes)

    def _submit_batch(self, s: Session, intakes: list[Intake]) -> list[Order]:
        """Insert ``intakes`` in ``s``, then note the duplicates on their masters.

        The masters are updated last, locked in ascending id order, so that concurrent batches
        (PostgreSQL group commit with several writers) lock shared masters in the same order
        and cannot deadlock on them.
        """
        links: list[_Link] = []
        orders = [self._submit_in(s, intake, links) for intake in intakes]
        self._note_links(s, links)
        return orders

    def _submit_in(self, s: Session, intake: Intake, links: list[_Link]) -> Order:
        """Insert one order with its events; a duplicate's link to its master goes to ``links``."""
        now = utc(intake.requested_at or datetime.now(UTC))
        text = intake.description or ""
        public = redact(text)
        cat = self.catalogue
        service_code = intake.service_code
        confidence: float | None = 1.0 if service_code else None
        prediction = self.classify(intake).prediction  # computed already, except for imports
        if service_code is None and prediction is not None:
            service_code, confidence = prediction.service_code, prediction.confidence
        service = cat.services.get(service_code or "")
        rtype = intake.request_type or (service.request_type if service else RequestType.COMPLAINT)
        order = Order(
            token=str(uuid.uuid4()),
            service_code=service_code,
            request_type=rtype.value,
            urgency=intake.urgency.value,
            channel=intake.channel.value,
            description_public=public,
            description_enc=self.cipher.encrypt(text),
            name_enc=self.cipher.encrypt(intake.name),
            phone_enc=self.cipher.encrypt(intake.phone),
            email_enc=self.cipher.encrypt(intake.email),
            address_enc=self.cipher.encrypt(intake.address),
            device_id=intake.device_id,
            account_id=intake.account_id,
            attributes=dict(intake.attributes),
            media_url=intake.media_url,
            lat=intake.lat,
            lon=intake.lon,
            external_id=intake.external_id,
            status=Status.ACCEPTED.value,
            confidential=intake.confidential,
            assisting_units=[],
            duplicates=0,
            escalation=0,
            requested_at=now,
            updated_at=now,
            n_events=0,
        )
        events = [
            Event(
                EventKind.ACCEPT,
                now,
                intake.actor,
                "system",
                data={
                    "request_type": rtype.value,
                    "urgency": intake.urgency.value,
                    "channel": intake.channel.value,
                    "confidential": intake.confidential,
                },
            )
        ]
        low = confidence is None or confidence < self.settings.confidence_threshold
        if service_code is not None or self.classifier is not None:
            events.append(
                Event(
                    EventKind.CLASSIFY,
                    now,
                    "client" if intake.service_code else "classifier",
                    "system",
                    data={
                        "service_code": service_code,
                        "confidence": confidence,
                        "needs_review": low,
                    },
                )
            )
        master: int | None = None
        if service is not None and not low and intake.closed_at is None:
            master = self._find_master(s, service_code, intake.lat, intake.lon, now, public)
        if master is not None:
            events.append(
                Event(EventKind.LINK, now, "system", "system", data={"duplicate_of": master})
            )
        elif service is not None and not low:
            lead, assisting = route(service, intake.lat, intake.lon, self.jurisdiction)
            events.append(
                Event(
                    EventKind.DISPATCH,
                    now,
                    "auto-dispatch",
                    "system",
                    unit=lead,
                    data={"assisting_units": list(assisting)},
                )
            )
        if intake.closed_at is not None:
            events.append(
                Event(
                    EventKind.ARCHIVE,
                    utc(intake.closed_at),
                    intake.actor,
                    "system",
                    data={"source": intake.source},
                )
            )
        elif intake.source:
            events.append(
                Event(EventKind.NOTE, now, intake.actor, "system", data={"source": intake.source})
            )
        # The state is derived in memory, so the order row is inserted once with its final
        # projection and the events go in as one multi-row insert: no UPDATE, no re-read.
        events = [self._localise(ev) for ev in events]
        state: OrderState | None = None
        for ev in events:
            state = apply_event(state, ev)
        assert state is not None
        order.n_events = len(events)
        self._project(order, state)
        # Core inserts: the ORM unit of work (flush) cost a quarter of the writer thread's time.
        # The returned Order stays transient: its attributes are the stored values.
        values = {k: getattr(order, k) for k in _ORDER_COLUMNS}
        conn = s.connection()  # Core statements: no ORM execution context needed
        order.id = conn.execute(_INSERT_ORDER, values).scalar_one()
        conn.execute(
            _INSERT_EVENT,
            [self._event_values(order.id, i, ev) for i, ev in enumerate(events, start=1)],
        )
        if master is not None:
            links.append(_Link(master, order.id, now))
        return order

    def _note_links(self, s: Session, links: list[_Link]) -> None:
        """Append a NOTE to each master for each new duplicate and raise its count.

        A NOTE is allowed in every state and changes nothing in it but ``updated_at``
        (:func:`~citycheck.listen.domain.apply_event`; pinned by a test), so the master's log
        is not replayed: one ``UPDATE … RETURNING n_events`` per master raises its event and
        duplicate counts and sets ``updated_at`` to the last note's time, and the notes are
        numbered from the count it returns.

        The masters are updated in ascending id order.  On PostgreSQL the UPDATE takes the row
        lock ``FOR NO KEY UPDATE`` (no key column changes), so two transactions that link to
        the same masters queue instead of deadlocking; ``NO KEY`` matters because the
        duplicates' foreign key to the master already holds ``KEY SHARE`` on it, which a
        ``FOR UPDATE`` lock would conflict with.
        """
        if not links:
            return
        by_master: dict[int, list[_Link]] = {}
        for link in links:
            by_master.setdefault(link.master, []).append(link)
        conn = s.connection()
        rows: list[dict[str, Any]] = []
        for mid in sorted(by_master):
            notes = [
                self._localise(
                    Event(EventKind.NOTE, link.at, "system", "system", data={"linked": link.order})
                )
                for link in by_master[mid]
            ]
            k = len(notes)
            params = {"b_id": mid, "b_k": k, "b_at": utc(notes[-1].at)}
            last = conn.execute(_NOTE_MASTER, params).scalar_one()
            rows += [self._event_values(mid, last - k + i, ev) for i, ev in enumerate(notes, 1)]
        conn.execute(_INSERT_EVENT, rows)

    def _find_master(
        self,
        s: Session,
        service_code: str | None,
        lat: float | None,
        lon: float | None,
        at: datetime,
        public: str,
    ) -> int | None:
        """Id of the earliest open order a new one duplicates (bounding box first, then the test).

        ``public`` is the new order's redacted text (the stored orders' texts are compared in
        that form).  Runs before the new order is inserted, so it never finds the order itself;
        orders added earlier in the same transaction (a group commit's batch) are seen.
        """
        st = self.settings
        if lat is None or lon is None:
            return None
        since = at - timedelta(days=st.duplicate_days)
        dlat = st.duplicate_radius_m / 111_000 + 1e-9
        dlon = dlat / max(0.01, math.cos(math.radians(lat)))
        params = {
            "code": service_code,
            "since": since,
            "lat0": lat - dlat,
            "lat1": lat + dlat,
            "lon0": lon - dlon,
            "lon1": lon + dlon,
        }
        new = (service_code, lat, lon, utc(at), public)
        for cid, olat, olon, oat, desc in s.connection().execute(_CANDIDATES, params):
            old = (service_code, olat, olon, utc(oat), desc)
            if is_duplicate(
                new,
                old,
                radius_m=st.duplicate_radius_m,
                days=st.duplicate_days,
                min_similarity=st.duplicate_similarity,
            ):
                return int(cid)
        return None

    # ---------------------------------------------------------------- the log
    def _load_events(self, s: Session, order_id: int) -> list[Event]:
        rows = s.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.seq)
        )
        return [self._to_event(r) for r in rows]

    def _to_event(self, r: OrderEvent) -> Event:
        return Event(
            EventKind(r.kind),
            utc(r.at).astimezone(self.tz),
            r.actor,
            r.role,
            r.unit,
            r.reason,
            dict(r.data or {}),
        )

    def _append(self, s: Session, order: Order, event: Event) -> OrderState:
        """Validate ``event`` against the derived state, append it, refresh the projection."""
        prior = self._load_events(s, order.id)
        state = derive_state(prior) if prior else None
        event = self._localise(event)
        new = apply_event(state, event)
        order.n_events += 1
        s.add(OrderEvent(**self._event_values(order.id, order.n_events, event)))
        self._project(order, new)
        return new

    def _localise(self, event: Event) -> Event:
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

    @staticmethod
    def _event_values(order_id: int, seq: int, event: Event) -> dict[str, Any]:
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

    def _project(self, order: Order, st: OrderState) -> None:
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

    def act(
        self,
        order_id: int,
        kind: EventKind,
        staff: Staff,
        *,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
        unit: str | None = None,
        at: datetime | None = None,
    ) -> OrderState:
        """Append one staff action to an order's log (validated against its derived state).

        A handling unit acts in its own name; dispatchers, supervisors and admins may name the
        unit (e.g. the lead unit for a dispatch).  Closing a master order closes its linked
        duplicates too, each keeping its own callback and rating.

        Raises
        ------
        KeyError
            The order does not exist (or is not visible to a unit).
        TransitionError
            The action is not allowed now.
        PermissionError
            The role may not take this action.
        """
        _check_role(kind, staff)
        when = utc(at or datetime.now(UTC))
        with self._write() as s:
            q = select(Order).where(Order.id == order_id)
            if self._is_pg:  # NO KEY: a duplicate's foreign key holds KEY SHARE on its master
                q = q.with_for_update(key_share=True)
            order = s.scalars(q).first()
            if order is None or not self.visible(order, staff):
                raise OrderNotFoundError(order_id)
            acting_unit = staff.unit if staff.role == "unit" else unit
            ev = Event(
                kind, when, staff.username, staff.role, acting_unit, reason, dict(data or {})
            )
            state = self._append(s, order, ev)
            if kind is EventKind.CLOSE:
                linked = s.scalars(
                    select(Order).where(
                        Order.duplicate_of == order.id, Order.status == Status.LINKED.value
                    )
                )
                for dup in linked:
                    self._append(
                        s,
                        dup,
                        Event(
                            EventKind.CLOSE,
                            when,
                            staff.username,
                            staff.role,
                            data={"with_master": order.id},
                        ),
                    )
            return state

    @staticmethod
    def visible(order: Order, staff: Staff) -> bool:
        """A unit sees only orders it leads or assists; other roles see all."""
        if staff.role != "unit":
            return True
        return order.lead_unit == staff.unit or staff.unit in (order.assisting_units or [])

    def events(self, order_id: int) -> list[Event]:
        """The whole event log of one order, in order."""
        with self.Session() as s:
            return self._load_events(s, order_id)

    def state(self, order_id: int) -> OrderState:
        """The order's state derived from its log (not from the projection)."""
        return derive_state(self.events(order_id))

    def get(self, order_id: int) -> Order | None:
        """The order row (projection included)."""
        with self.Session() as s:
            return s.get(Order, order_id)

    def public_order(self, order_id: int) -> PublicOrder | None:
        """The order's public columns (attribute access like :class:`Order`), or None.

        One prepared SELECT on the driver connection (see :mod:`citycheck.listen.public_read`),
        for the public GET that shows only the projection.
        """
        return self._public.get(order_id)

    async def public_order_async(self, order_id: int) -> PublicOrder | None:
        """:meth:`public_order` on the event loop (no thread hop; see
        :meth:`citycheck.listen.public_read.PublicOrderReader.get_async`)."""
        return await self._public.get_async(order_id)

    def verify_log(self) -> list[str]:
        """Check every order: events numbered 1..n, the log derives, projection matches it.

        Orders and events are read by ONE statement, so the check sees one snapshot even while
        a server is still writing (two statements under READ COMMITTED, or two SQLite reads
        outside a transaction, could see an order's projection from before a commit and its
        events from after it, and report a problem that is not there).
        """
        problems: list[str] = []
        stmt = (
            select(Order.id, Order.n_events, Order.status, Order.lead_unit, OrderEvent)
            .outerjoin(OrderEvent, OrderEvent.order_id == Order.id)
            .order_by(Order.id, OrderEvent.seq)
            .execution_options(yield_per=2000)
        )
        with self.Session() as s:
            rows = s.execute(stmt)
            for (oid, n_events, status, lead_unit), group in itertools.groupby(
                rows, key=lambda r: (r[0], r[1], r[2], r[3])
            ):
                events = [r[4] for r in group if r[4] is not None]
                seqs = [e.seq for e in events]
                if seqs != list(range(1, len(events) + 1)):
                    problems.append(f"order {oid}: event numbers {seqs}")
                    continue
                if len(events) != n_events:
                    problems.append(f"order {oid}: {len(events)} events, projection {n_events}")
                try:
                    st = derive_state([self._to_event(e) for e in events])
                except TransitionError as exc:
                    problems.append(f"order {oid}: log does not derive: {exc}")
                    continue
                if st.status.value != status or st.lead_unit != lead_unit:
                    problems.append(
                        f"order {oid}: projection {status}/{lead_unit} "
                        f"!= log {st.status}/{st.lead_unit}"
                    )
        return problems

    def personal(self, order_id: int, staff: Staff) -> dict[str, str | None]:
        """Decrypted personal fields, for staff who may see the order (never public)."""
        with self.Session() as s:
            order = s.get(Order, order_id)
            if order is None or not self.visible(order, staff):
                raise OrderNotFoundError(order_id)
            return {
                "description": self.cipher.decrypt(order.description_enc),
                "name": self.cipher.decrypt(order.name_enc),
                "phone": self.cipher.decrypt(order.phone_enc),
                "email": self.cipher.decrypt(order.email_enc),
                "address": self.cipher.decrypt(order.address_enc),
            }

    # ---------------------------------------------------------------- queries
    def search(
        self,
        *,
        ids: list[int] | None = None,
        service_codes: list[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        status: str | None = None,
        updated_after: datetime | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        limit: int = 1000,
        offset: int = 0,
        staff: Staff | None = None,
        internal_status: list[str] | None = None,
    ) -> list[Order]:
        """Orders matching the filters, newest first (``bbox`` is left, bottom, right, top)."""
        q = select(Order)
        if ids is not None:
            q = q.where(Order.id.in_(ids))
        if service_codes:
            q = q.where(Order.service_code.in_(service_codes))
        if start is not None:
            q = q.where(Order.requested_at >= utc(start))
        if end is not None:
            q = q.where(Order.requested_at <= utc(end))
        if status == "closed":
            q = q.where(Order.status.in_(_DONE))
        elif status == "open":
            q = q.where(Order.status.notin_(_DONE))
        if internal_status:
            q = q.where(Order.status.in_(internal_status))
        if updated_after is not None:
            q = q.where(Order.updated_at > utc(updated_after))
        if bbox is not None:
            left, bottom, right, top = bbox
            q = q.where(Order.lon.between(left, right), Order.lat.between(bottom, top))
        if staff is not None and staff.role == "unit":
            q = q.where(Order.lead_unit == staff.unit)
        q = q.order_by(Order.requested_at.desc(), Order.id.desc()).offset(offset).limit(limit)
        with self.Session() as s:
            return list(s.scalars(q))

    def overdue(
        self, now: datetime | None = None, staff: Staff | None = None
    ) -> list[dict[str, Any]]:
        """Open orders with a clock run out at ``now``, with the rung each should be on."""
        now = utc(now or datetime.now(UTC)).astimezone(self.tz)
        out = []
        with self.Session() as s:
            q = select(Order).where(Order.status.notin_((*_DONE, Status.LINKED.value)))
            if staff is not None and staff.role == "unit":
                q = q.where(Order.lead_unit == staff.unit)
            for order in s.scalars(q):
                st = derive_state(self._load_events(s, order.id))
                clocks = compute_clocks(st, self.catalogue, self.calendar)
                over = overdue_clocks(st, clocks, now)
                if over:
                    level = escalation_level(st, clocks, now, self.catalogue, self.calendar)
                    out.append(
                        {
                            "id": order.id,
                            "overdue": sorted(over),
                            "level": level,
                            "current_level": st.escalation,
                            "unit": st.lead_unit,
                            "close_due": clocks.close_due,
                        }
                    )
        return out

    def escalate_overdue(self, now: datetime | None = None) -> int:
        """Append ESCALATE events to bring every overdue order up to its rung; returns how many."""
        n = 0
        system = Staff("escalation", "supervisor", None)
        for row in self.overdue(now):
            for level in range(row["current_level"] + 1, row["level"] + 1):
                name = self.catalogue.escalation_names[level - 1]
                self.act(
                    row["id"],
                    EventKind.ESCALATE,
                    system,
                    reason=f"{name[0]} {name[1]}",
                    data={"level": level, "overdue": row["overdue"]},
                    at=now,
                )
                n += 1
        return n

    # ---------------------------------------------------------------- keys and staff
    def create_api_key(self, name: str) -> str:
        """A new Open311 api_key; only its hash is stored, the key is returned once."""
        key = secrets.token_urlsafe(24)
        with self._write() as s:
            s.add(
                ApiKey(
                    name=name, key_hash=hash_secret(key), active=True, created_at=datetime.now(UTC)
                )
            )
        return key

    def check_api_key(self, key: str | None) -> bool:
        """True when ``key`` is an active key.

        A key found active is remembered for ``settings.api_key_cache_s`` seconds, so a busy
        client does not cost one database read per POST; a deactivated key is refused at the
        latest that long after the change.  Unknown keys are always looked up.
        """
        if not key:
            return False
        if self.api_key_known_valid(key):
            return True
        digest = hash_secret(key)
        now = time.monotonic()
        with self.Session() as s:
            active = s.scalar(select(ApiKey.active).where(ApiKey.key_hash == digest))
        if active:
            self._valid_keys[digest] = now + self.settings.api_key_cache_s
        return bool(active)

    def api_key_known_valid(self, key: str | None) -> bool:
        """True when ``key`` was found active within the cache period (no database read)."""
        if not key:
            return False
        return self._valid_keys.get(hash_secret(key), 0.0) > time.monotonic()

    def create_staff(self, username: str, role: str, unit: str | None = None) -> str:
        """A staff account; returns its bearer token (stored hashed)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {role!r}")
        if role == "unit" and not unit:
            raise ValueError("a handling-unit account needs its unit")
        token = secrets.token_urlsafe(24)
        with self._write() as s:
            s.add(StaffUser(username=username, role=role, unit=unit, token_hash=hash_secret(token)))
        return token

    def staff_for_token(self, token: str | None) -> Staff | None:
        """The staff member holding ``token``, or None.

        A token found is remembered for ``settings.api_key_cache_s`` seconds (as api_keys
        are), so a busy dispatcher desk does not cost one database read per request; unknown
        tokens are always looked up.
        """
        if not token:
            return None
        known = self.staff_known(token)
        if known is not None:
            return known
        digest = hash_secret(token)
        now = time.monotonic()
        with self.Session() as s:
            u = s.scalars(select(StaffUser).where(StaffUser.token_hash == digest)).first()
            staff = Staff(u.username, u.role, u.unit) if u else None
        if staff is not None:
            self._known_staff[digest] = (staff, now + self.settings.api_key_cache_s)
        return staff

    def staff_known(self, token: str | None) -> Staff | None:
        """The staff member of ``token`` if found within the cache period (no database read)."""
        if not token:
            return None
        hit = self._known_staff.get(hash_secret(token))
        return hit[0] if hit is not None and hit[1] > time.monotonic() else None

    def training_examples(self) -> list[dict[str, Any]]:
        """Past orders as training data: decrypted text and the final category.

        An order counts once a unit has signed for it, or a person (not the classifier) set its
        category (reclassification after a return, or the low-confidence queue); ``corrected`` is
        True when a person changed the category the classifier or client had given.
        """
        out: list[dict[str, Any]] = []
        with self.Session() as s:
            for order in s.scalars(select(Order).where(Order.service_code.is_not(None))):
                events = self._load_events(s, order.id)
                classes = [e for e in events if e.kind is EventKind.CLASSIFY]
                by_person = [e for e in classes if e.role in ("dispatcher", "supervisor", "admin")]
                signed = any(e.kind is EventKind.SIGN for e in events)
                if not (signed or by_person):
                    continue
                first = classes[0].data.get("service_code") if classes else None
                out.append(
                    {
                        "id": order.id,
                        "text": self.cipher.decrypt(order.description_enc) or "",
                        "label": order.service_code,
                        "corrected": bool(by_person) and first != order.service_code,
                        "returns": sum(e.kind is EventKind.RETURN for e in events),
                    }
                )
        return out

    def count(self) -> int:
        """Number of orders."""
        with self.Session() as s:
            return int(s.scalar(select(func.count(Order.id))) or 0)

    def close(self) -> None:
        """Stop the group committer and dispose of the engine's connections."""
        if self._committer is not None:
            self._committer.stop()
        self._public.close()
        self.engine.dispose()
        self._write_lock.close()


class GroupCommitter:
    """Writer threads that commit queued intakes in batches.

    Callers block until the batch holding their intake has committed, so acknowledgement still
    follows durability; a failed batch is retried one intake at a time so that one bad intake
    (or a deadlock between two batches) does not fail the others.  SQLite gets one writer (it
    writes one transaction at a time anyway); PostgreSQL several, so that one batch's network
    round trips and commit overlap with the next one's.
    """

    def __init__(self, hotline: Hotline, writers: int = 1) -> None:
        self.hotline = hotline
        self.max_batch = hotline.settings.group_commit_max
        self._queue: queue.Queue[tuple[Intake, Future[Order]] | None] = queue.Queue()
        self._threads = [
            threading.Thread(target=self._run, name=f"hotline-group-commit-{i}", daemon=True)
            for i in range(writers)
        ]
        for t in self._threads:
            t.start()

    def submit(self, intake: Intake) -> Order:
        """Queue ``intake`` and wait until it is committed."""
        return self.enqueue(intake).result()

    def enqueue(self, intake: Intake) -> Future[Order]:
        """Queue ``intake``; the future is resolved once its batch has committed."""
        if not any(t.is_alive() for t in self._threads):
            raise RuntimeError("the group committer has stopped")
        fut: Future[Order] = Future()
        self._queue.put((intake, fut))
        return fut

    def stop(self) -> None:
        """Finish the queued work and stop the threads."""
        alive = [t for t in self._threads if t.is_alive()]
        for _ in alive:
            self._queue.put(None)
        for t in alive:
            t.join(30)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[tuple[Intake, Future[Order]]]) -> None:
        try:
            with self.hotline._write() as s:
                orders = self.hotline._submit_batch(s, [intake for intake, _ in batch])
        except Exception:
            log.warning("group commit of %d intakes failed; retrying one by one", len(batch))
            for intake, fut in batch:
                try:
                    fut.set_result(self.hotline._submit_alone(intake))
                except Exception as exc:
                    fut.set_exception(exc)
            return
        for (_, fut), order in zip(batch, orders, strict=True):
            fut.set_result(order)


_ROLE_ACTIONS: dict[str, set[EventKind]] = {
    "dispatcher": {
        EventKind.CLASSIFY,
        EventKind.DISPATCH,
        EventKind.CLOSE,
        EventKind.CALLBACK,
        EventKind.RATE,
        EventKind.REOPEN,
        EventKind.NOTE,
        EventKind.CONFIDENTIAL,
        EventKind.LINK,
    },
    "unit": {
        EventKind.SIGN,
        EventKind.CONTACT,
        EventKind.HANDLE,
        EventKind.REPLY,
        EventKind.RETURN,
        EventKind.EXTEND_REQUEST,
        EventKind.NOTE,
    },
    "supervisor": {
        EventKind.SUPERVISE,
        EventKind.EXTEND_DECIDE,
        EventKind.ESCALATE,
        EventKind.CLOSE,
        EventKind.NOTE,
        EventKind.REOPEN,
    },
    "admin": set(EventKind) - {EventKind.ACCEPT},
}


def _check_role(kind: EventKind, staff: Staff) -> None:
    if kind not in _ROLE_ACTIONS.get(staff.role, set()):
        raise PermissionError(f"role {staff.role!r} may not {kind.value}")
