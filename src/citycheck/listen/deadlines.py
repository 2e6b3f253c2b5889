"""Deadlines: separate clocks for signing, first contact and closure; extensions; escalation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from citycheck.listen.calendar import WorkCalendar
from citycheck.listen.catalogue import Catalogue
from citycheck.listen.domain import OrderState, Status

_DONE = {Status.CLOSED, Status.CALLED_BACK, Status.RATED}


@dataclass(frozen=True)
class Clocks:
    """Due times of one order's three clocks (None when the clock has not started)."""

    sign_due: datetime | None
    contact_due: datetime | None
    close_due: datetime


def compute_clocks(state: OrderState, catalogue: Catalogue, calendar: WorkCalendar) -> Clocks:
    """Due times from the order's type, category and urgency on the working-day calendar.

    The close clock runs from acceptance and is pushed back by approved extensions; the sign and
    first-contact clocks run from the (latest) dispatch.
    """
    sign_d, contact_d, close_d = catalogue.clock_days(
        state.service_code, state.request_type, state.urgency
    )
    close_due = calendar.add_working_days(state.requested_at, close_d + state.extension_days)
    if state.dispatched_at is None:
        return Clocks(None, None, close_due)
    return Clocks(
        calendar.add_working_days(state.dispatched_at, sign_d),
        calendar.add_working_days(state.dispatched_at, contact_d),
        close_due,
    )


def overdue_clocks(state: OrderState, clocks: Clocks, now: datetime) -> dict[str, datetime]:
    """The clocks that have run out at ``now`` and were not stopped in time."""
    out: dict[str, datetime] = {}
    if state.status in _DONE or state.status is Status.LINKED:
        return out
    if clocks.sign_due is not None and state.signed_at is None and now > clocks.sign_due:
        out["sign"] = clocks.sign_due
    if clocks.contact_due is not None and state.contacted_at is None and now > clocks.contact_due:
        out["contact"] = clocks.contact_due
    if state.replied_at is None and now > clocks.close_due:
        out["close"] = clocks.close_due
    return out


def escalation_level(
    state: OrderState,
    clocks: Clocks,
    now: datetime,
    catalogue: Catalogue,
    calendar: WorkCalendar,
) -> int:
    """The rung of the ladder 催办 (1) → 督办 (2) → 通报 (3) the order should be on at ``now``.

    Rung k is reached once the close clock is overdue by more than ``thresholds[k-1]`` working
    days (a sign or contact clock running out reaches rung 1 at least).
    """
    over = overdue_clocks(state, clocks, now)
    if not over:
        return 0
    level = 1
    if "close" in over:
        cap = max(catalogue.escalation_thresholds) + 1
        late = calendar.working_days_between(clocks.close_due, now, cap=cap)
        level = sum(late >= t for t in catalogue.escalation_thresholds)
        level = max(level, 1)
    return min(level, 3)
