"""The event log and the state derived from it."""

from datetime import UTC, datetime, timedelta

import pytest

from citycheck.listen.domain import (
    OPEN311_STATUS,
    Event,
    EventKind,
    Status,
    TransitionError,
    apply_event,
    derive_state,
)

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def ev(kind, minutes, **kw):
    return Event(kind, T0 + timedelta(minutes=minutes), kw.pop("actor", "x"), **kw)


def full_cycle():
    return [
        ev(EventKind.ACCEPT, 0, data={"request_type": "complaint"}),
        ev(EventKind.CLASSIFY, 1, data={"service_code": "urban", "confidence": 0.9}),
        ev(EventKind.DISPATCH, 2, unit="jd_ne", data={"assisting_units": ["dept:housing"]}),
        ev(EventKind.SIGN, 3, unit="jd_ne"),
        ev(EventKind.CONTACT, 4, unit="jd_ne"),
        ev(EventKind.HANDLE, 5, unit="jd_ne"),
        ev(EventKind.REPLY, 6, unit="jd_ne", data={"reply": "修好了"}),
        ev(EventKind.SUPERVISE, 7, data={"approved": True}),
        ev(EventKind.CLOSE, 8),
        ev(EventKind.CALLBACK, 9, data={"reached": True}),
        ev(EventKind.RATE, 10, data={"score": 5}),
    ]


def test_full_cycle_derives_each_status():
    events = full_cycle()
    expected = [
        Status.ACCEPTED,
        Status.CLASSIFIED,
        Status.DISPATCHED,
        Status.SIGNED,
        Status.SIGNED,
        Status.IN_PROGRESS,
        Status.REPLIED,
        Status.REVIEWED,
        Status.CLOSED,
        Status.CALLED_BACK,
        Status.RATED,
    ]
    state = None
    for e, want in zip(events, expected, strict=True):
        state = apply_event(state, e)
        assert state.status is want
    assert state.satisfied is True and state.score == 5
    assert state.contacted_at == T0 + timedelta(minutes=4)
    assert state.lead_unit == "jd_ne" and state.assisting_units == ("dept:housing",)
    assert state.open311_status == "closed"


def test_reopen_after_dissatisfaction_goes_back_to_lead_unit():
    events = [
        *full_cycle()[:-1],
        ev(EventKind.RATE, 10, data={"score": 1}),
        ev(EventKind.REOPEN, 11, reason="没有解决"),
    ]
    s = derive_state(events)
    assert s.status is Status.DISPATCHED and s.lead_unit == "jd_ne" and s.reopen_count == 1
    assert s.open311_status == "open" and s.score is None


def test_return_needs_reason_and_clears_unit():
    base = full_cycle()[:3]
    with pytest.raises(TransitionError, match="reason"):
        derive_state([*base, ev(EventKind.RETURN, 3, unit="jd_ne")])
    s = derive_state([*base, ev(EventKind.RETURN, 3, unit="jd_ne", reason="不属于本街道")])
    assert s.status is Status.RETURNED and s.lead_unit is None
    assert s.returns == (("jd_ne", "不属于本街道"),)
    # the dispatcher can send it to the right unit
    s2 = apply_event(s, ev(EventKind.DISPATCH, 4, unit="dept:housing"))
    assert s2.status is Status.DISPATCHED and s2.lead_unit == "dept:housing"


def test_illegal_transitions_are_refused():
    base = full_cycle()[:2]
    with pytest.raises(TransitionError):
        derive_state([*base, ev(EventKind.CLOSE, 3)])  # close before any reply
    with pytest.raises(TransitionError):
        derive_state([ev(EventKind.SIGN, 0)])  # first event must be accept
    with pytest.raises(TransitionError, match="lead unit"):
        derive_state([*full_cycle()[:3], ev(EventKind.SIGN, 3, unit="jd_sw")])  # not theirs


def test_extension_and_escalation_rules():
    base = full_cycle()[:4]
    s = derive_state(
        [
            *base,
            ev(
                EventKind.EXTEND_REQUEST,
                4,
                unit="jd_ne",
                reason="需要施工",
                data={"working_days": 5},
            ),
            ev(EventKind.EXTEND_DECIDE, 5, data={"approved": True}),
            ev(EventKind.ESCALATE, 6, data={"level": 1}),
            ev(EventKind.ESCALATE, 7, data={"level": 2}),
        ]
    )
    assert s.extension_days == 5 and s.pending_extension is None and s.escalation == 2
    with pytest.raises(TransitionError):
        derive_state([*base, ev(EventKind.ESCALATE, 6, data={"level": 4})])


def test_open311_map_is_total_and_binary():
    assert set(OPEN311_STATUS) == set(Status)
    assert set(OPEN311_STATUS.values()) == {"open", "closed"}
    assert [s for s, v in OPEN311_STATUS.items() if v == "closed"] == [
        Status.CLOSED,
        Status.CALLED_BACK,
        Status.RATED,
    ]


def test_malformed_event_data_is_a_transition_error():
    base = full_cycle()[:10]
    with pytest.raises(TransitionError, match="malformed"):
        derive_state([*base, ev(EventKind.RATE, 10, data={})])  # no score
    with pytest.raises(TransitionError, match="malformed"):
        derive_state([*base, ev(EventKind.RATE, 10, data={"score": "five"})])
    with pytest.raises(TransitionError, match=r"1\.\.60"):  # bounded, so deadlines stay computable
        derive_state(
            [
                *full_cycle()[:4],
                ev(
                    EventKind.EXTEND_REQUEST,
                    4,
                    unit="jd_ne",
                    reason="r",
                    data={"working_days": 10**9},
                ),
            ]
        )


def test_a_note_is_allowed_in_every_state_and_changes_only_updated_at():
    """The store appends duplicate notes to a master without replaying its log
    (``Hotline._note_links``); that is right only while this holds."""
    from dataclasses import replace

    from citycheck.listen.domain import OrderState

    log = full_cycle()
    seen = set()
    for i in range(1, len(log) + 1):  # every state the full cycle passes through
        st = derive_state(log[:i])
        seen.add(st.status)
        at = T0 + timedelta(days=1)
        note = Event(EventKind.NOTE, at, "system", "system", data={"linked": 7})
        assert apply_event(st, note) == replace(st, updated_at=at)
    linked = derive_state([*log[:2], ev(EventKind.LINK, 2, data={"duplicate_of": 3})])
    seen.add(linked.status)
    note = Event(EventKind.NOTE, T0, "system", "system", data={"linked": 8})
    assert apply_event(linked, note) == replace(linked, updated_at=T0)
    for status in Status:  # also states the cycle above does not reach
        st = OrderState(status=status, requested_at=T0, updated_at=T0, escalation=2)
        assert apply_event(st, note) == replace(st, updated_at=T0)
    assert len(seen) >= 10
