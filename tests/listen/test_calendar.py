"""Working-day calendar and deadlines, checked by hand against the State Council notices."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from citycheck.listen.calendar import load_calendar
from citycheck.listen.catalogue import load_catalogue
from citycheck.listen.deadlines import compute_clocks, escalation_level
from citycheck.listen.domain import Event, EventKind, derive_state

SH = ZoneInfo("Asia/Shanghai")
CAL = load_calendar()


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 1, 28), False),  # 春节 2025 starts (Tuesday)
        (date(2025, 1, 26), True),  # Sunday make-up working day
        (date(2025, 2, 8), True),  # Saturday make-up working day
        (date(2025, 2, 5), True),  # first working day after 春节
        (date(2025, 10, 8), False),  # 国庆+中秋 2025 ran to 8 October
        (date(2025, 10, 11), True),  # Saturday make-up
        (date(2026, 1, 4), True),  # Sunday make-up after 元旦 2026
        (date(2026, 2, 23), False),  # Monday, last day of 春节 2026
        (date(2026, 9, 20), True),  # Sunday make-up before 国庆 2026
        (date(2024, 2, 18), True),
        (date(2024, 6, 10), False),  # 端午 2024 (Monday)
        (date(2025, 3, 8), False),  # ordinary Saturday
        (date(2025, 3, 7), True),  # ordinary Friday
    ],
)
def test_known_days(day, working):
    assert CAL.is_working_day(day) is working


def test_add_working_days_over_spring_festival_2025():
    # Friday 24 Jan 2025 + 3 working days: Sun 26 (make-up) = 1, Mon 27 = 2, then the holiday
    # 28 Jan..4 Feb, Wed 5 Feb = 3.
    start = datetime(2025, 1, 24, 10, 0, tzinfo=SH)
    assert CAL.add_working_days(start, 3) == datetime(2025, 2, 5, 23, 59, 59, tzinfo=SH)
    assert CAL.add_working_days(start, 0).date() == date(2025, 1, 24)
    assert CAL.working_days_between(start, datetime(2025, 2, 5, tzinfo=SH)) == 3


def test_total_working_days_2025():
    # 365 days − 104 weekend days − 13 holiday weekdays + 5 make-up days = 253? Count by hand:
    # holidays falling on weekdays in 2025: 1/1, 1/28-31, 2/3-4, 4/4, 5/1-2, 5/5, 6/2, 10/1-3,
    # 10/6-8 = 1+4+2+1+3+1+3+3 = 18; 365 − 104 − 18 + 5 = 248.
    n = sum(
        CAL.is_working_day(date(2025, 1, 1).fromordinal(date(2025, 1, 1).toordinal() + i))
        for i in range(365)
    )
    assert n == 248


def test_bad_calendar_file_names_the_value(tmp_path):
    p = tmp_path / "cal.toml"
    p.write_text('[years.2025]\nholidays = ["2025-13-01"]\n')
    with pytest.raises(ValueError, match="2025-13-01"):
        load_calendar(p)


def _state(at, rtype="complaint", urgency="normal", code="labour", dispatch_at=None):
    evs = [
        Event(EventKind.ACCEPT, at, "x", data={"request_type": rtype, "urgency": urgency}),
        Event(EventKind.CLASSIFY, at, "x", data={"service_code": code, "confidence": 1.0}),
    ]
    if dispatch_at:
        evs.append(Event(EventKind.DISPATCH, dispatch_at, "x", unit="u"))
    return derive_state(evs)


def test_clocks_by_type_urgency_and_escalation_ladder():
    cat = load_catalogue()
    at = datetime(2025, 9, 26, 15, 0, tzinfo=SH)  # Friday before the long October holiday
    st = _state(at, dispatch_at=at)
    clocks = compute_clocks(st, cat, CAL)
    # complaint/normal: sign 1, contact 2, close 10 working days (catalogue.toml)
    assert clocks.sign_due.date() == date(2025, 9, 28)  # Sunday make-up day
    assert clocks.contact_due.date() == date(2025, 9, 29)
    # close: 9/28, 9/29, 9/30, 10/9, 10/10, 10/11 (Sat make-up), 10/13..10/16 → 16 October
    assert clocks.close_due.date() == date(2025, 10, 16)
    # emergency: the same day
    em = compute_clocks(_state(at, urgency="emergency"), cat, CAL)
    assert em.close_due.date() == date(2025, 9, 26)
    # escalation: thresholds [0, 2, 5] working days late on the close clock
    assert (
        escalation_level(st, clocks, datetime(2025, 10, 16, 12, tzinfo=SH), cat, CAL) == 1
    )  # sign/contact missed
    assert escalation_level(st, clocks, datetime(2025, 10, 17, 9, tzinfo=SH), cat, CAL) == 1
    assert escalation_level(st, clocks, datetime(2025, 10, 20, 9, tzinfo=SH), cat, CAL) == 2
    assert escalation_level(st, clocks, datetime(2025, 10, 23, 9, tzinfo=SH), cat, CAL) == 3


def test_service_override_and_extension():
    cat = load_catalogue()
    at = datetime(2025, 3, 3, 9, 0, tzinfo=SH)  # Monday
    urban = compute_clocks(_state(at, code="urban"), cat, CAL)
    assert urban.close_due.date() == date(2025, 3, 17)  # 10 working days (service override)
    st = _state(at, code="urban", dispatch_at=at)
    st = derive_state(
        [
            Event(EventKind.ACCEPT, at, "x", data={"request_type": "complaint"}),
            Event(EventKind.CLASSIFY, at, "x", data={"service_code": "urban", "confidence": 1.0}),
            Event(EventKind.DISPATCH, at, "x", unit="u"),
            Event(
                EventKind.EXTEND_REQUEST, at, "x", unit="u", reason="r", data={"working_days": 3}
            ),
            Event(EventKind.EXTEND_DECIDE, at, "s", data={"approved": True}),
        ]
    )
    assert compute_clocks(st, cat, CAL).close_due.date() == date(2025, 3, 20)
