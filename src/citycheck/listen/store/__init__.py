"""The hotline store: intake, the event log and its projection, queries, keys and staff accounts.

:class:`Hotline` is the one entry point; it composes three parts over a shared
:class:`~.core.StoreCore` (engine, sessions, city data, the event log's plumbing):

- :mod:`.intake` (:class:`~.intake.OrderIntake`): new orders, one by one, in group-commit
  batches or as imports, and staff actions appended to an order's log;
- :mod:`.queries` (:class:`~.queries.OrderQueries`): reads, lists, searches, the public view,
  the log's consistency check;
- :mod:`.accounts` (:class:`~.accounts.Accounts`): Open311 api keys, staff and their tokens.

The state of an order is a fold over its event log (:mod:`citycheck.listen.domain`).  Every
write is one database transaction that appends events and updates the order's projection;
callers acknowledge an order only after :meth:`Hotline.submit` returned, i.e. after the commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from citycheck.listen.calendar import WorkCalendar
from citycheck.listen.catalogue import Catalogue
from citycheck.listen.classifier import TextClassifier
from citycheck.listen.dispatch import Jurisdiction
from citycheck.listen.domain import Event, EventKind, OrderState
from citycheck.listen.models import Order
from citycheck.listen.privacy import FieldCipher
from citycheck.listen.public_read import PublicOrder
from citycheck.listen.settings import HotlineSettings
from citycheck.listen.store.accounts import ROLES, Accounts
from citycheck.listen.store.core import OrderNotFoundError, Staff, StoreCore, utc, visible
from citycheck.listen.store.intake import GroupCommitter, Intake, OrderIntake, Prediction
from citycheck.listen.store.queries import OrderQueries

__all__ = [
    "ROLES",
    "GroupCommitter",
    "Hotline",
    "Intake",
    "OrderNotFoundError",
    "Prediction",
    "Staff",
    "utc",
]


class Hotline:
    """The hotline service over one database.

    Parameters
    ----------
    settings
        Plumbing (database URL, secret, data files, thresholds).
    engine
        An existing engine (tests); by default one is made from ``settings.db_url``.

    Attributes
    ----------
    intake, queries, accounts
        The parts the methods below delegate to.
    """

    def __init__(self, settings: HotlineSettings, *, engine: Engine | None = None) -> None:
        self.core = StoreCore(settings, engine=engine)
        self.intake = OrderIntake(self.core)
        self.queries = OrderQueries(self.core)
        self.accounts = Accounts(self.core)
        self._committer = self.intake.committer
        self._public = self.queries.public

    # ---------------------------------------------------------------- shared plumbing
    @property
    def settings(self) -> HotlineSettings:
        return self.core.settings

    @property
    def engine(self) -> Engine:
        return self.core.engine

    @property
    def Session(self) -> sessionmaker[Session]:  # noqa: N802 - the session factory, as before
        return self.core.Session

    @property
    def tz(self) -> ZoneInfo:
        return self.core.tz

    @property
    def catalogue(self) -> Catalogue:
        return self.core.catalogue

    @property
    def calendar(self) -> WorkCalendar:
        return self.core.calendar

    @property
    def jurisdiction(self) -> Jurisdiction:
        return self.core.jurisdiction

    @property
    def classifier(self) -> TextClassifier | None:
        return self.core.classifier

    @property
    def cipher(self) -> FieldCipher:
        return self.core.cipher

    def close(self) -> None:
        """Stop the group committer and dispose of the engine's connections."""
        self.intake.close()
        self.queries.close()
        self.core.close()

    # ---------------------------------------------------------------- intake (writes)
    def submit(self, intake: Intake) -> Order:
        """See :meth:`.intake.OrderIntake.submit`: returns only after the commit."""
        return self.intake.submit(intake)

    async def submit_async(self, intake: Intake) -> Order:
        """See :meth:`.intake.OrderIntake.submit_async`."""
        return await self.intake.submit_async(intake)

    def classify(self, intake: Intake) -> Intake:
        """See :meth:`.intake.OrderIntake.classify`."""
        return self.intake.classify(intake)

    def submit_many(self, intakes: list[Intake]) -> list[Order]:
        """See :meth:`.intake.OrderIntake.submit_many` (one transaction: all or none)."""
        return self.intake.submit_many(intakes)

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
        """See :meth:`.intake.OrderIntake.act`."""
        return self.intake.act(order_id, kind, staff, reason=reason, data=data, unit=unit, at=at)

    def escalate_overdue(self, now: datetime | None = None) -> int:
        """Append ESCALATE events to bring every overdue order up to its rung; returns how many."""
        n = 0
        system = Staff("escalation", "supervisor", None)
        for row in self.queries.overdue(now):
            for level in range(row["current_level"] + 1, row["level"] + 1):
                name = self.catalogue.escalation_names[level - 1]
                self.intake.act(
                    row["id"],
                    EventKind.ESCALATE,
                    system,
                    reason=f"{name[0]} {name[1]}",
                    data={"level": level, "overdue": row["overdue"]},
                    at=now,
                )
                n += 1
        return n

    # ---------------------------------------------------------------- queries (reads)
    @staticmethod
    def visible(order: Order, staff: Staff) -> bool:
        """A unit sees only orders it leads or assists; other roles see all."""
        return visible(order, staff)

    def events(self, order_id: int) -> list[Event]:
        """See :meth:`.queries.OrderQueries.events`."""
        return self.queries.events(order_id)

    def state(self, order_id: int) -> OrderState:
        """See :meth:`.queries.OrderQueries.state`."""
        return self.queries.state(order_id)

    def get(self, order_id: int) -> Order | None:
        """See :meth:`.queries.OrderQueries.get`."""
        return self.queries.get(order_id)

    def public_order(self, order_id: int) -> PublicOrder | None:
        """See :meth:`.queries.OrderQueries.public_order`."""
        return self.queries.public_order(order_id)

    async def public_order_async(self, order_id: int) -> PublicOrder | None:
        """See :meth:`.queries.OrderQueries.public_order_async`."""
        return await self.queries.public_order_async(order_id)

    def verify_log(self) -> list[str]:
        """See :meth:`.queries.OrderQueries.verify_log`."""
        return self.queries.verify_log()

    def personal(self, order_id: int, staff: Staff) -> dict[str, str | None]:
        """See :meth:`.queries.OrderQueries.personal`."""
        return self.queries.personal(order_id, staff)

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
        """See :meth:`.queries.OrderQueries.search`."""
        return self.queries.search(
            ids=ids,
            service_codes=service_codes,
            start=start,
            end=end,
            status=status,
            updated_after=updated_after,
            bbox=bbox,
            limit=limit,
            offset=offset,
            staff=staff,
            internal_status=internal_status,
        )

    def overdue(
        self, now: datetime | None = None, staff: Staff | None = None
    ) -> list[dict[str, Any]]:
        """See :meth:`.queries.OrderQueries.overdue`."""
        return self.queries.overdue(now, staff)

    def training_examples(self) -> list[dict[str, Any]]:
        """See :meth:`.queries.OrderQueries.training_examples`."""
        return self.queries.training_examples()

    def count(self) -> int:
        """See :meth:`.queries.OrderQueries.count`."""
        return self.queries.count()

    # ---------------------------------------------------------------- accounts
    def create_api_key(self, name: str) -> str:
        """See :meth:`.accounts.Accounts.create_api_key`."""
        return self.accounts.create_api_key(name)

    def check_api_key(self, key: str | None) -> bool:
        """See :meth:`.accounts.Accounts.check_api_key`."""
        return self.accounts.check_api_key(key)

    def api_key_known_valid(self, key: str | None) -> bool:
        """See :meth:`.accounts.Accounts.api_key_known_valid`."""
        return self.accounts.api_key_known_valid(key)

    def create_staff(self, username: str, role: str, unit: str | None = None) -> str:
        """See :meth:`.accounts.Accounts.create_staff`."""
        return self.accounts.create_staff(username, role, unit)

    def staff_for_token(self, token: str | None) -> Staff | None:
        """See :meth:`.accounts.Accounts.staff_for_token`."""
        return self.accounts.staff_for_token(token)

    def staff_known(self, token: str | None) -> Staff | None:
        """See :meth:`.accounts.Accounts.staff_known`."""
        return self.accounts.staff_known(token)
