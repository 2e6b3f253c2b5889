"""A working-day calendar that knows Chinese public holidays and make-up working days (调休)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path


def _expand(items: list[str], source: str) -> set[date]:
    out: set[date] = set()
    for item in items:
        try:
            if ".." in item:
                a, b = (date.fromisoformat(x) for x in item.split(".."))
                if b < a:
                    raise ValueError("range ends before it starts")
                out.update(a + timedelta(days=i) for i in range((b - a).days + 1))
            else:
                out.add(date.fromisoformat(item))
        except ValueError as exc:
            raise ValueError(f"{source}: bad date or range {item!r}: {exc}") from exc
    return out


@dataclass(frozen=True)
class WorkCalendar:
    """Working days: Monday–Friday, minus public holidays, plus make-up working days.

    Attributes
    ----------
    holidays
        Rest days that would otherwise be working days (and holidays on weekends).
    workdays
        Weekend days that are working days (调休上班).
    years
        Years the calendar has data for; outside them only weekends count.
    """

    holidays: frozenset[date]
    workdays: frozenset[date]
    years: frozenset[int]

    def is_working_day(self, day: date) -> bool:
        """True when ``day`` is a working day."""
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The end of the ``days``-th working day after ``start``'s day.

        ``days == 0`` means the end of the same day (emergencies: the same day).  Deadlines end at
        23:59:59 of the last counted working day, in ``start``'s timezone.
        """
        if days < 0:
            raise ValueError(f"days must be >= 0, got {days}")
        day = start.date()
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return datetime.combine(day, time(23, 59, 59), tzinfo=start.tzinfo)

    def working_days_between(
        self, start: datetime, end: datetime, *, cap: int | None = None
    ) -> int:
        """Number of working days in (start's day, end's day]; negative if end < start.

        With ``cap``, counting stops once ``cap`` working days are reached (bounded work for
        far-apart dates when only "at least cap" matters).
        """
        a, b = start.date(), end.date()
        sign = 1
        if b < a:
            a, b, sign = b, a, -1
        n = 0
        day = a
        while day < b:
            day += timedelta(days=1)
            n += self.is_working_day(day)
            if cap is not None and n >= cap:
                break
        return sign * n


def load_calendar(path: str | Path | None = None) -> WorkCalendar:
    """Read a calendar TOML (``[years.YYYY] holidays = [...] workdays = [...]``).

    Parameters
    ----------
    path
        A city's own file; None reads the packaged national calendar (holidays_cn.toml).
    """
    if path is None:
        text = resources.files("citycheck.listen").joinpath("data/holidays_cn.toml").read_text()
        source = "holidays_cn.toml"
    else:
        text = Path(path).read_text(encoding="utf-8")
        source = str(path)
    raw = tomllib.loads(text)
    holidays: set[date] = set()
    workdays: set[date] = set()
    years: set[int] = set()
    for year, block in raw.get("years", {}).items():
        years.add(int(year))
        holidays |= _expand(block.get("holidays", []), f"{source} [years.{year}] holidays")
        workdays |= _expand(block.get("workdays", []), f"{source} [years.{year}] workdays")
    clash = holidays & workdays
    if clash:
        raise ValueError(f"{source}: days both holiday and workday: {sorted(clash)}")
    return WorkCalendar(frozenset(holidays), frozenset(workdays), frozenset(years))
