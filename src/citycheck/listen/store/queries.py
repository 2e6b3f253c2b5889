"""The hotline store's reads: one order, its log and derived state, searches, overdue orders, the
public view, the log's consistency check, training examples.

Nothing here writes; staff visibility (a unit sees only its own orders) is applied where a
staff member is given.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from citycheck.listen.deadlines import compute_clocks, escalation_level, overdue_clocks
from citycheck.listen.domain import (
    Event,
    EventKind,
    OrderState,
    Status,
    TransitionError,
    derive_state,
)
from citycheck.listen.models import Order, OrderEvent
from citycheck.listen.public_read import PublicOrder, PublicOrderReader
from citycheck.listen.store.core import DONE, OrderNotFoundError, Staff, StoreCore, utc, visible


class OrderQueries:
    """Reads of orders and their logs.

    Parameters
    ----------
    core
        The shared database and city data.
    """

    def __init__(self, core: StoreCore) -> None:
        self.core = core
        st = core.settings
        self.public = PublicOrderReader(
            core.engine, pool_size=st.pg_pool_size, max_overflow=st.pg_max_overflow
        )

    def close(self) -> None:
        """Close the public reader's connections."""
        self.public.close()

    def events(self, order_id: int) -> list[Event]:
        """The whole event log of one order, in order."""
        with self.core.Session() as s:
            return self.core.load_events(s, order_id)

    def state(self, order_id: int) -> OrderState:
        """The order's state derived from its log (not from the projection)."""
        return derive_state(self.events(order_id))

    def get(self, order_id: int) -> Order | None:
        """The order row (projection included)."""
        with self.core.Session() as s:
            return s.get(Order, order_id)

    def public_order(self, order_id: int) -> PublicOrder | None:
        """The order's public columns (attribute access like :class:`Order`), or None.

        One prepared SELECT on the driver connection (see :mod:`citycheck.listen.public_read`),
        for the public GET that shows only the projection.
        """
        return self.public.get(order_id)

    async def public_order_async(self, order_id: int) -> PublicOrder | None:
        """:meth:`public_order` on the event loop (no thread hop; see
        :meth:`citycheck.listen.public_read.PublicOrderReader.get_async`)."""
        return await self.public.get_async(order_id)

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
        with self.core.Session() as s:
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
                    st = derive_state([self.core.to_event(e) for e in events])
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
        with self.core.Session() as s:
            order = s.get(Order, order_id)
            if order is None or not visible(order, staff):
                raise OrderNotFoundError(order_id)
            return {
                "description": self.core.cipher.decrypt(order.description_enc),
                "name": self.core.cipher.decrypt(order.name_enc),
                "phone": self.core.cipher.decrypt(order.phone_enc),
                "email": self.core.cipher.decrypt(order.email_enc),
                "address": self.core.cipher.decrypt(order.address_enc),
            }

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
            q = q.where(Order.status.in_(DONE))
        elif status == "open":
            q = q.where(Order.status.notin_(DONE))
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
        with self.core.Session() as s:
            return list(s.scalars(q))

    def overdue(
        self, now: datetime | None = None, staff: Staff | None = None
    ) -> list[dict[str, Any]]:
        """Open orders with a clock run out at ``now``, with the rung each should be on."""
        now = utc(now or datetime.now(UTC)).astimezone(self.core.tz)
        out = []
        with self.core.Session() as s:
            q = select(Order).where(Order.status.notin_((*DONE, Status.LINKED.value)))
            if staff is not None and staff.role == "unit":
                q = q.where(Order.lead_unit == staff.unit)
            for order in s.scalars(q):
                st = derive_state(self.core.load_events(s, order.id))
                clocks = compute_clocks(st, self.core.catalogue, self.core.calendar)
                over = overdue_clocks(st, clocks, now)
                if over:
                    level = escalation_level(
                        st, clocks, now, self.core.catalogue, self.core.calendar
                    )
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

    def training_examples(self) -> list[dict[str, Any]]:
        """Past orders as training data: decrypted text and the final category.

        An order counts once a unit has signed for it, or a person (not the classifier) set its
        category (reclassification after a return, or the low-confidence queue); ``corrected`` is
        True when a person changed the category the classifier or client had given.
        """
        out: list[dict[str, Any]] = []
        with self.core.Session() as s:
            for order in s.scalars(select(Order).where(Order.service_code.is_not(None))):
                events = self.core.load_events(s, order.id)
                classes = [e for e in events if e.kind is EventKind.CLASSIFY]
                by_person = [e for e in classes if e.role in ("dispatcher", "supervisor", "admin")]
                signed = any(e.kind is EventKind.SIGN for e in events)
                if not (signed or by_person):
                    continue
                first = classes[0].data.get("service_code") if classes else None
                out.append(
                    {
                        "id": order.id,
                        "text": self.core.cipher.decrypt(order.description_enc) or "",
                        "label": order.service_code,
                        "corrected": bool(by_person) and first != order.service_code,
                        "returns": sum(e.kind is EventKind.RETURN for e in events),
                    }
                )
        return out

    def count(self) -> int:
        """Number of orders."""
        with self.core.Session() as s:
            return int(s.scalar(select(func.count(Order.id))) or 0)
