"""The hotline store's writes: intake of new orders (one by one, in group-commit batches, or as an
import) and staff actions appended to an order's event log.

Every write is one database transaction that appends events and updates the order's projection;
callers acknowledge an order only after :meth:`OrderIntake.submit` returned, i.e. after the
commit.
"""

from __future__ import annotations

import asyncio
import logging
import math
import queue
import threading
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from citycheck.listen.dispatch import route
from citycheck.listen.domain import (
    Channel,
    Event,
    EventKind,
    OrderState,
    RequestType,
    Status,
    Urgency,
    apply_event,
)
from citycheck.listen.duplicates import is_duplicate
from citycheck.listen.models import Order
from citycheck.listen.privacy import redact
from citycheck.listen.store.core import (
    DONE,
    EVENTS,
    ORDERS,
    OrderNotFoundError,
    Staff,
    StoreCore,
    event_values,
    utc,
    visible,
)

log = logging.getLogger(__name__)

#: Built once, with bound parameters, so an intake does not pay for building the statement;
#: Core columns (not the ORM entity's), so executing it skips the ORM's result machinery.
_O = ORDERS.c
_CANDIDATES = (
    select(_O.id, _O.lat, _O.lon, _O.requested_at, _O.description_public)
    .where(
        _O.service_code == bindparam("code"),
        _O.duplicate_of.is_(None),
        _O.status.notin_((*DONE, Status.LINKED.value)),
        _O.requested_at >= bindparam("since"),
        _O.lat.between(bindparam("lat0"), bindparam("lat1")),
        _O.lon.between(bindparam("lon0"), bindparam("lon1")),
    )
    .order_by(_O.requested_at)
    .limit(50)
)


#: Core inserts of a new order (returning its id) and of events.
_INSERT_ORDER = insert(ORDERS).returning(ORDERS.c.id)
_INSERT_EVENT = insert(EVENTS)
_ORDER_COLUMNS = tuple(c.key for c in ORDERS.columns if c.key != "id")

#: A master's projection after ``b_k`` NOTEs about new duplicates (see OrderIntake._note_links).
_NOTE_MASTER = (
    update(ORDERS)
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
    # the classifier's answer, when :meth:`OrderIntake.classify` gave it before the write (outside
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


class OrderIntake:
    """New orders and staff actions: everything that appends to the event log.

    Parameters
    ----------
    core
        The shared database and city data.
    """

    def __init__(self, core: StoreCore) -> None:
        self.core = core
        st = core.settings
        group = st.group_commit if st.group_commit is not None else not core.is_pg
        writers = st.group_commit_writers or 1
        self.committer = GroupCommitter(self, 1 if not core.is_pg else writers) if group else None

    def close(self) -> None:
        """Finish the queued intakes and stop the group committer."""
        if self.committer is not None:
            self.committer.stop()

    def submit(self, intake: Intake) -> Order:
        """Accept, classify, link or dispatch a request in one transaction; return the order.

        Returns only after the commit, so the order is durable before the caller acknowledges it.
        With ``group_commit`` on, concurrent callers share one transaction (and one fsync); each
        still returns only after that transaction has committed.
        """
        intake = self.classify(intake)
        if self.committer is not None:
            return self.committer.submit(intake)
        return self.submit_alone(intake)

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
        if self.committer is not None:
            return await asyncio.wrap_future(self.committer.enqueue(intake))
        return await asyncio.to_thread(self.submit_alone, intake)

    def classify(self, intake: Intake) -> Intake:
        """``intake`` with the classifier's :class:`Prediction` when it needs one (no service
        code, a model, some text, no prediction yet); otherwise ``intake`` itself.

        :meth:`submit` and :meth:`submit_async` call this before handing the intake to the
        writer, so that the (single, on SQLite) writer thread only writes.
        """
        clf = self.core.classifier
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
        if code not in self.core.catalogue.services:
            code, confidence = None, 0.0
        return replace(intake, prediction=Prediction(code, confidence))

    def submit_alone(self, intake: Intake) -> Order:
        with self.core.write() as s:
            return self.submit_batch(s, [intake])[0]

    def submit_many(self, intakes: list[Intake]) -> list[Order]:
        """Submit several requests in one transaction (imports); all or none are stored."""
        with self.core.write() as s:
            return self.submit_batch(s, intakes)

    def submit_batch(self, s: Session, intakes: list[Intake]) -> list[Order]:
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
        cat = self.core.catalogue
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
            description_enc=self.core.cipher.encrypt(text),
            name_enc=self.core.cipher.encrypt(intake.name),
            phone_enc=self.core.cipher.encrypt(intake.phone),
            email_enc=self.core.cipher.encrypt(intake.email),
            address_enc=self.core.cipher.encrypt(intake.address),
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
        low = confidence is None or confidence < self.core.settings.confidence_threshold
        if service_code is not None or self.core.classifier is not None:
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
            lead, assisting = route(service, intake.lat, intake.lon, self.core.jurisdiction)
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
        events = [self.core.localise(ev) for ev in events]
        state: OrderState | None = None
        for ev in events:
            state = apply_event(state, ev)
        assert state is not None
        order.n_events = len(events)
        self.core.project(order, state)
        # Core inserts: the ORM unit of work (flush) cost a quarter of the writer thread's time.
        # The returned Order stays transient: its attributes are the stored values.
        values = {k: getattr(order, k) for k in _ORDER_COLUMNS}
        conn = s.connection()  # Core statements: no ORM execution context needed
        order.id = conn.execute(_INSERT_ORDER, values).scalar_one()
        conn.execute(
            _INSERT_EVENT,
            [event_values(order.id, i, ev) for i, ev in enumerate(events, start=1)],
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
                self.core.localise(
                    Event(EventKind.NOTE, link.at, "system", "system", data={"linked": link.order})
                )
                for link in by_master[mid]
            ]
            k = len(notes)
            params = {"b_id": mid, "b_k": k, "b_at": utc(notes[-1].at)}
            last = conn.execute(_NOTE_MASTER, params).scalar_one()
            rows += [event_values(mid, last - k + i, ev) for i, ev in enumerate(notes, 1)]
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
        st = self.core.settings
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
        with self.core.write() as s:
            q = select(Order).where(Order.id == order_id)
            if self.core.is_pg:  # NO KEY: a duplicate's foreign key holds KEY SHARE on its master
                q = q.with_for_update(key_share=True)
            order = s.scalars(q).first()
            if order is None or not visible(order, staff):
                raise OrderNotFoundError(order_id)
            acting_unit = staff.unit if staff.role == "unit" else unit
            ev = Event(
                kind, when, staff.username, staff.role, acting_unit, reason, dict(data or {})
            )
            state = self.core.append(s, order, ev)
            if kind is EventKind.CLOSE:
                linked = s.scalars(
                    select(Order).where(
                        Order.duplicate_of == order.id, Order.status == Status.LINKED.value
                    )
                )
                for dup in linked:
                    self.core.append(
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


class GroupCommitter:
    """Writer threads that commit queued intakes in batches.

    Callers block until the batch holding their intake has committed, so acknowledgement still
    follows durability; a failed batch is retried one intake at a time so that one bad intake
    (or a deadlock between two batches) does not fail the others.  SQLite gets one writer (it
    writes one transaction at a time anyway); PostgreSQL several, so that one batch's network
    round trips and commit overlap with the next one's.
    """

    def __init__(self, intake: OrderIntake, writers: int = 1) -> None:
        self.intake = intake
        self.max_batch = intake.core.settings.group_commit_max
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
            with self.intake.core.write() as s:
                orders = self.intake.submit_batch(s, [intake for intake, _ in batch])
        except Exception:
            log.warning("group commit of %d intakes failed; retrying one by one", len(batch))
            for intake, fut in batch:
                try:
                    fut.set_result(self.intake.submit_alone(intake))
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
