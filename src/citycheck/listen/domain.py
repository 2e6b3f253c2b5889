"""Work orders as an append-only event log; the current state is a pure fold over the events.

The life cycle follows the 12345 closed loop of 国办发〔2020〕53号: 受理 accept → 派单 dispatch →
承办 sign/handle → 回复 reply → 督办 supervise → 办结 close → 回访 call back → 评价 rate, plus
退单 return (a unit says the order is not theirs, with a reason) and 重办 reopen (the requester is
dissatisfied).  History is never rewritten: every change is a new :class:`Event`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from citycheck.labels import labels_under


class RequestType(StrEnum):
    """Request types of Beijing's 接诉即办 regulation (2021)."""

    CONSULT = "consult"
    HELP = "help"
    COMPLAINT = "complaint"
    REPORT = "report"
    SUGGESTION = "suggestion"


REQUEST_TYPE_NAMES: dict[RequestType, tuple[str, str]] = {
    RequestType(k): v for k, v in labels_under("hotline.request_type").items()
}


class Urgency(StrEnum):
    """Urgency of an order."""

    NORMAL = "normal"
    URGENT = "urgent"
    EMERGENCY = "emergency"


URGENCY_NAMES: dict[Urgency, tuple[str, str]] = {
    Urgency(k): v for k, v in labels_under("hotline.urgency").items()
}


class Channel(StrEnum):
    """Intake channel; one intake schema for all of them."""

    PHONE = "phone"
    WEB = "web"
    APP = "app"
    SMS = "sms"
    OPEN311 = "open311"
    IMPORT = "import"


CHANNEL_NAMES: dict[Channel, tuple[str, str]] = {
    Channel(k): v for k, v in labels_under("hotline.channel").items()
}


class Status(StrEnum):
    """Derived status of a work order."""

    ACCEPTED = "accepted"
    NEEDS_REVIEW = "needs_review"  # low-confidence classification, waits for a person
    CLASSIFIED = "classified"
    DISPATCHED = "dispatched"
    RETURNED = "returned"  # 退单: back with the dispatcher
    SIGNED = "signed"
    IN_PROGRESS = "in_progress"
    REPLIED = "replied"
    REVIEWED = "reviewed"  # supervisor approved the reply
    CLOSED = "closed"
    CALLED_BACK = "called_back"
    RATED = "rated"
    LINKED = "linked"  # duplicate of an open order; closes with it


STATUS_NAMES: dict[Status, tuple[str, str]] = {
    Status(k): v for k, v in labels_under("hotline.status").items()
}

#: The one explicit map from internal states to Open311's open/closed.
OPEN311_STATUS: dict[Status, str] = {
    s: ("closed" if s in {Status.CLOSED, Status.CALLED_BACK, Status.RATED} else "open")
    for s in Status
}


class EventKind(StrEnum):
    """Kinds of event in the log."""

    ACCEPT = "accept"
    CLASSIFY = "classify"
    DISPATCH = "dispatch"
    RETURN = "return"
    SIGN = "sign"
    CONTACT = "contact"
    HANDLE = "handle"
    REPLY = "reply"
    SUPERVISE = "supervise"
    CLOSE = "close"
    CALLBACK = "callback"
    RATE = "rate"
    REOPEN = "reopen"
    EXTEND_REQUEST = "extend_request"
    EXTEND_DECIDE = "extend_decide"
    ESCALATE = "escalate"
    LINK = "link"
    CONFIDENTIAL = "confidential"
    NOTE = "note"
    ARCHIVE = "archive"  # an imported record that was already closed in the source system


EVENT_NAMES: dict[EventKind, tuple[str, str]] = {
    EventKind(k): v for k, v in labels_under("hotline.event").items()
}

_OPEN_WORK = {Status.DISPATCHED, Status.SIGNED, Status.IN_PROGRESS}
_ANY_OPEN = set(Status) - {Status.CLOSED, Status.CALLED_BACK, Status.RATED}

#: Statuses from which each event kind is allowed (None: any status).
ALLOWED_FROM: dict[EventKind, set[Status] | None] = {
    EventKind.ACCEPT: set(),  # only as the first event
    EventKind.CLASSIFY: {
        Status.ACCEPTED,
        Status.NEEDS_REVIEW,
        Status.CLASSIFIED,
        Status.RETURNED,
    },
    EventKind.DISPATCH: {Status.CLASSIFIED, Status.RETURNED},
    EventKind.RETURN: {Status.DISPATCHED, Status.SIGNED},
    EventKind.SIGN: {Status.DISPATCHED},
    EventKind.CONTACT: _OPEN_WORK,
    EventKind.HANDLE: {Status.SIGNED, Status.IN_PROGRESS},
    EventKind.REPLY: {Status.SIGNED, Status.IN_PROGRESS},
    EventKind.SUPERVISE: {Status.REPLIED},
    EventKind.CLOSE: {Status.REVIEWED, Status.LINKED},
    EventKind.CALLBACK: {Status.CLOSED},
    EventKind.RATE: {Status.CALLED_BACK},
    EventKind.REOPEN: {Status.CLOSED, Status.CALLED_BACK, Status.RATED},
    EventKind.EXTEND_REQUEST: _OPEN_WORK,
    EventKind.EXTEND_DECIDE: _OPEN_WORK | {Status.REPLIED},
    EventKind.ESCALATE: _ANY_OPEN,
    EventKind.LINK: {Status.ACCEPTED, Status.CLASSIFIED, Status.NEEDS_REVIEW},
    EventKind.CONFIDENTIAL: None,
    EventKind.NOTE: None,
    EventKind.ARCHIVE: _ANY_OPEN,
}


#: Longest single extension, in working days (a bound, so deadlines stay computable).
MAX_EXTENSION_DAYS = 60


class TransitionError(ValueError):
    """An event is not allowed in the order's current state."""


@dataclass(frozen=True)
class Event:
    """One entry of the append-only log: who did what, when and why."""

    kind: EventKind
    at: datetime
    actor: str
    role: str = "system"
    unit: str | None = None
    reason: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OrderState:
    """The state of one work order, derived from its events by :func:`derive_state`."""

    status: Status
    requested_at: datetime
    updated_at: datetime
    request_type: RequestType = RequestType.COMPLAINT
    urgency: Urgency = Urgency.NORMAL
    channel: Channel = Channel.PHONE
    service_code: str | None = None
    confidence: float | None = None
    lead_unit: str | None = None
    assisting_units: tuple[str, ...] = ()
    dispatched_at: datetime | None = None
    signed_at: datetime | None = None
    contacted_at: datetime | None = None
    replied_at: datetime | None = None
    closed_at: datetime | None = None
    reply: str | None = None
    extension_days: int = 0
    pending_extension: int | None = None
    escalation: int = 0  # 0 none, 1 催办, 2 督办, 3 通报
    reopen_count: int = 0
    return_count: int = 0
    returns: tuple[tuple[str, str], ...] = ()  # (unit, reason)
    duplicate_of: str | None = None
    satisfied: bool | None = None
    score: int | None = None
    confidential: bool = False
    callback_reached: bool | None = None

    @property
    def open311_status(self) -> str:
        """``open`` or ``closed`` through :data:`OPEN311_STATUS`."""
        return OPEN311_STATUS[self.status]


def apply_event(state: OrderState | None, event: Event) -> OrderState:
    """Return the state after ``event``; raise :class:`TransitionError` if it is not allowed.

    Malformed event data (a missing key, a value of the wrong type) is a TransitionError too.


    Parameters
    ----------
    state
        The state before the event, or None for a new order (then ``event`` must be ACCEPT).
    event
        The event to apply.

    Returns
    -------
    OrderState
        A new state; ``state`` is not modified.
    """
    try:
        return _apply(state, event)
    except TransitionError:
        raise
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise TransitionError(f"{event.kind}: malformed data {event.data!r}: {exc!r}") from exc


def _apply(state: OrderState | None, event: Event) -> OrderState:
    kind = event.kind
    d = event.data
    if state is None:
        if kind is not EventKind.ACCEPT:
            raise TransitionError(f"the first event must be accept, not {kind}")
        return OrderState(
            status=Status.ACCEPTED,
            requested_at=event.at,
            updated_at=event.at,
            request_type=RequestType(d.get("request_type", RequestType.COMPLAINT)),
            urgency=Urgency(d.get("urgency", Urgency.NORMAL)),
            channel=Channel(d.get("channel", Channel.PHONE)),
            service_code=d.get("service_code"),
            confidential=bool(d.get("confidential", False)),
        )
    allowed = ALLOWED_FROM[kind]
    if allowed is not None and state.status not in allowed:
        raise TransitionError(f"{kind} is not allowed when the order is {state.status}")
    s = replace(state, updated_at=event.at)
    if kind is EventKind.CLASSIFY:
        needs_review = bool(d.get("needs_review", False))
        s = replace(
            s,
            service_code=d.get("service_code", s.service_code),
            confidence=d.get("confidence"),
            request_type=RequestType(d.get("request_type", s.request_type)),
            urgency=Urgency(d.get("urgency", s.urgency)),
            status=Status.NEEDS_REVIEW if needs_review else Status.CLASSIFIED,
        )
    elif kind is EventKind.DISPATCH:
        if not event.unit:
            raise TransitionError("dispatch needs a lead unit")
        s = replace(
            s,
            status=Status.DISPATCHED,
            lead_unit=event.unit,
            assisting_units=tuple(d.get("assisting_units", ())),
            dispatched_at=event.at,
            signed_at=None,
        )
    elif kind is EventKind.RETURN:
        if not event.reason:
            raise TransitionError("a return (退单) needs a reason")
        if event.unit != state.lead_unit:
            raise TransitionError("only the lead unit can return an order")
        s = replace(
            s,
            status=Status.RETURNED,
            lead_unit=None,
            assisting_units=(),
            return_count=s.return_count + 1,
            returns=(*s.returns, (event.unit or "", event.reason)),
        )
    elif kind is EventKind.SIGN:
        _require_lead(state, event)
        s = replace(s, status=Status.SIGNED, signed_at=event.at)
    elif kind is EventKind.CONTACT:
        _require_lead(state, event)
        s = replace(s, contacted_at=s.contacted_at or event.at)
    elif kind is EventKind.HANDLE:
        _require_lead(state, event)
        s = replace(s, status=Status.IN_PROGRESS)
    elif kind is EventKind.REPLY:
        _require_lead(state, event)
        s = replace(s, status=Status.REPLIED, replied_at=event.at, reply=d.get("reply"))
    elif kind is EventKind.SUPERVISE:
        approved = bool(d.get("approved", True))
        if not approved and not event.reason:
            raise TransitionError("a rejected reply needs a reason")
        s = replace(s, status=Status.REVIEWED if approved else Status.IN_PROGRESS)
    elif kind in (EventKind.CLOSE, EventKind.ARCHIVE):
        s = replace(s, status=Status.CLOSED, closed_at=event.at)
    elif kind is EventKind.CALLBACK:
        s = replace(s, status=Status.CALLED_BACK, callback_reached=bool(d.get("reached", True)))
    elif kind is EventKind.RATE:
        score = int(d["score"])
        if not 1 <= score <= 5:
            raise TransitionError(f"score must be 1..5, got {score}")
        s = replace(s, status=Status.RATED, score=score, satisfied=score >= 3)
    elif kind is EventKind.REOPEN:
        if not event.reason:
            raise TransitionError("reopening needs a reason")
        s = replace(
            s,
            status=Status.DISPATCHED if s.lead_unit else Status.CLASSIFIED,
            reopen_count=s.reopen_count + 1,
            closed_at=None,
            replied_at=None,
            signed_at=None,
            dispatched_at=event.at if s.lead_unit else None,
            satisfied=None,
            score=None,
            escalation=0,
        )
    elif kind is EventKind.EXTEND_REQUEST:
        _require_lead(state, event)
        days = int(d["working_days"])
        if not 0 < days <= MAX_EXTENSION_DAYS or not event.reason:
            raise TransitionError(
                f"an extension needs 1..{MAX_EXTENSION_DAYS} working days and a reason"
            )
        s = replace(s, pending_extension=days)
    elif kind is EventKind.EXTEND_DECIDE:
        if s.pending_extension is None:
            raise TransitionError("no extension is pending")
        approved = bool(d.get("approved", False))
        s = replace(
            s,
            extension_days=s.extension_days + (s.pending_extension if approved else 0),
            pending_extension=None,
        )
    elif kind is EventKind.ESCALATE:
        level = int(d["level"])
        if level <= s.escalation or level > 3:
            raise TransitionError(f"escalation goes up one rung at a time to 3, got {level}")
        s = replace(s, escalation=level)
    elif kind is EventKind.LINK:
        s = replace(s, status=Status.LINKED, duplicate_of=str(d["duplicate_of"]))
    elif kind is EventKind.CONFIDENTIAL:
        s = replace(s, confidential=True)
    return s


def _require_lead(state: OrderState, event: Event) -> None:
    if event.unit != state.lead_unit:
        raise TransitionError(f"unit {event.unit!r} is not the lead unit of this order")


def derive_state(events: list[Event]) -> OrderState:
    """Fold the whole event log of one order into its current state.

    Parameters
    ----------
    events
        Events in log order, the first being ACCEPT.

    Returns
    -------
    OrderState
    """
    state: OrderState | None = None
    for event in events:
        state = apply_event(state, event)
    if state is None:
        raise TransitionError("an order needs at least its accept event")
    return state
