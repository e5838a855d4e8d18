"""The time model in Python: the lexical dates of the graph as calendar periods.

Every time in the graph (``kzo:start``, ``kzo:end``, ``kzo:asOf``, ``kzo:adoptedOn``,
``kzo:inForceFrom``) is an ``xsd:dateTime`` in UTC, an ``xsd:date``, an ``xsd:gYearMonth`` or
an ``xsd:gYear``; the datatype is the precision the source gives. The API reads them as
lexical strings (``STR()`` in the queries) and this module turns them into spans of time:

>>> span("2022")
Span(2022-01-01T00:00:00Z .. 2023-01-01T00:00:00Z)
>>> span("2022-01-07T02:50:00Z")
Span(2022-01-07T02:50:00Z)

A fact *holds at* a time D when its period (``start`` .. ``end``, an open end when one is
missing, or the calendar period of its ``asOf``) overlaps D; D may itself be a year, a month, a
day or an instant. Undated facts (only a ``kzo:temporalNote``) give ``None``: the callers decide
what to do with them (see `kzgraph.ownership`).

>>> holds("2022-01-04", None, None, "2022-01-10")      # started 4 January, no end given
True
>>> holds(None, None, "2021", "2022-06-01")            # asOf 2021: the whole year 2021 only
False
>>> holds(None, None, None, "2022") is None            # undated
True
>>> duration("2022-01-07T02:50:00Z", "2022-01-07T05:50:00Z")
datetime.timedelta(seconds=10800)
>>> iso_duration(duration("2021-05", "2021-09"))        # May to September, both months whole
'P153D'
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from .errors import InputError

UTC = dt.UTC
_LEXICAL = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(T[\d:.]+(?:Z|[+-]\d{2}:\d{2})?)?)?)?(Z)?$")
#: Sort key for things without any date: after every real date.
UNDATED = "9999~"


@dataclass(frozen=True)
class Span:
    """A stretch of time ``[lo, hi)`` in UTC; an instant has ``lo == hi``."""

    lo: dt.datetime
    hi: dt.datetime

    @property
    def instant(self) -> bool:
        return self.lo == self.hi

    def overlaps(self, other: Span) -> bool:
        """True when the two spans share a moment (an instant counts as a moment)."""
        if self.instant and other.instant:
            return self.lo == other.lo
        if self.instant:
            return other.lo <= self.lo < other.hi
        if other.instant:
            return self.lo <= other.lo < self.hi
        return self.lo < other.hi and other.lo < self.hi

    def __repr__(self) -> str:
        fmt = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
        if self.instant:
            return f"Span({fmt(self.lo)})"
        return f"Span({fmt(self.lo)} .. {fmt(self.hi)})"


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def span(value) -> Span:
    """The period a time value names: a year, a month, a day or an instant.

    ``value`` is a lexical form (``"2022"``, ``"2022-01"``, ``"2022-01-07"``,
    ``"2022-01-07T02:50:00Z"``), a `datetime.date`, a `datetime.datetime` (naive means UTC) or
    an integer year. Raises `InputError` for anything else.

    >>> span("2022-01").hi
    datetime.datetime(2022, 2, 1, 0, 0, tzinfo=datetime.timezone.utc)
    """
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
        return Span(moment, moment)
    if isinstance(value, dt.date):
        lo = dt.datetime(value.year, value.month, value.day, tzinfo=UTC)
        return Span(lo, lo + dt.timedelta(days=1))
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:04d}"
    text = str(value).strip()
    match = _LEXICAL.match(text)
    if not match:
        raise InputError(f"not a date: {value!r}; use YYYY, YYYY-MM, YYYY-MM-DD or "
                         f"YYYY-MM-DDThh:mm:ssZ")
    year, month, day, clock, _ = match.groups()
    try:
        if clock:
            moment = dt.datetime.fromisoformat(text)
            moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
            return Span(moment, moment)
        if day:
            lo = dt.datetime(int(year), int(month), int(day), tzinfo=UTC)
            return Span(lo, lo + dt.timedelta(days=1))
        if month:
            lo = dt.datetime(int(year), int(month), 1, tzinfo=UTC)
            y, m = _add_months(int(year), int(month), 1)
            return Span(lo, dt.datetime(y, m, 1, tzinfo=UTC))
        lo = dt.datetime(int(year), 1, 1, tzinfo=UTC)
        return Span(lo, dt.datetime(int(year) + 1, 1, 1, tzinfo=UTC))
    except ValueError:
        raise InputError(f"not a valid date: {value!r}") from None


EARLIEST = dt.datetime(1, 1, 1, tzinfo=UTC)
LATEST = dt.datetime(9999, 12, 31, tzinfo=UTC)


def period(start=None, end=None, as_of=None) -> Span | None:
    """The period of a fact: ``start`` .. ``end`` (a missing side is open), else the calendar
    period of ``as_of``; None when the fact is undated."""
    if start is None and end is None:
        return span(as_of) if as_of is not None else None
    lo = span(start).lo if start is not None else EARLIEST
    if end is None:
        hi = LATEST
    else:
        last = span(end)
        hi = last.hi if not last.instant else last.lo
    if hi == lo:  # an instant from start and end that are the same moment
        return Span(lo, lo)
    return Span(lo, hi)


def holds(start, end, as_of, when) -> bool | None:
    """Whether a fact with this time holds at ``when``; None when the fact is undated."""
    own = period(start, end, as_of)
    if own is None:
        return None
    return own.overlaps(span(when))


def duration(start, end) -> dt.timedelta | None:
    """From the beginning of ``start`` to the end of ``end`` (whole days, months or years when
    that is the precision given; exact when both are ``xsd:dateTime``); None unless both."""
    if start is None or end is None:
        return None
    first, last = span(start), span(end)
    return (last.lo if last.instant else last.hi) - first.lo


def exact(*values) -> bool:
    """True when every value is given to the second (``xsd:dateTime``)."""
    return all(v is not None and "T" in str(v) for v in values)


def iso_duration(delta: dt.timedelta | None) -> str | None:
    """A timedelta as an ISO 8601 duration: ``PT3H``, ``P7D``, ``P1DT2H30M``."""
    if delta is None:
        return None
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    out = f"{sign}P" + (f"{days}D" if days else "")
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + \
        (f"{secs}S" if secs else "")
    if clock:
        out += "T" + clock
    return out if out not in ("P", "-P") else "PT0S"


def sort_key(*values) -> str:
    """The first given lexical date, for chronological sorting of mixed precisions
    (``"2022-01"`` sorts before ``"2022-01-04"``); undated things sort last."""
    for value in values:
        if value is not None:
            return str(value)
    return UNDATED


def lexical(value) -> str | None:
    """A user's time value (str, int year, date, datetime) as a lexical form, validated."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:04d}"
    span(value)  # validates
    return str(value).strip()
