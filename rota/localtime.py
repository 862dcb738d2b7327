"""Wall-clock to UTC conversion that stays monotonic across DST changes.

Design note: docs/rota.md ("DST"). Every local boundary (a shift start, an
opening hour) is converted to UTC on its own, never by adding a timedelta to an
aware local datetime, so a 22:00-08:00 night lasts 9 hours on the spring-forward
night and 11 hours on the fall-back night, and a 24/7 day lasts 23 or 25 hours.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from rota.model import MINUTES_PER_DAY


def local_to_utc(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The UTC instant at which clocks in ``tz`` read ``minute`` after midnight of ``day``.

    Ambiguous times (the repeated hour in autumn) take their first occurrence;
    times that do not exist (the skipped hour in spring) map to the instant of
    the jump. Both choices keep the mapping non-decreasing, so consecutive
    local boundaries never produce a negative UTC interval.
    """
    naive = datetime(day.year, day.month, day.day) + timedelta(minutes=minute)
    local = naive.replace(tzinfo=tz)
    first = local.utcoffset()
    second = local.replace(fold=1).utcoffset()
    assert first is not None and second is not None
    if first < second:
        # PEP 495: in a gap fold=0 uses the offset before the jump, which
        # would put 02:30 after 03:00; clamp to the jump instead.
        return _transition(naive - second, naive - first, tz)
    return (naive - first).replace(tzinfo=UTC)


def _transition(before: datetime, after: datetime, tz: ZoneInfo) -> datetime:
    """The first UTC instant in ``(before, after]`` with ``after``'s offset (bisection)."""
    low = before.replace(tzinfo=UTC)
    high = after.replace(tzinfo=UTC)
    target = high.astimezone(tz).utcoffset()
    # One-second resolution is finer than any tz database transition.
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(tz).utcoffset() == target:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


class LocalClock:
    """``local_to_utc`` for one zone, remembering each day's UTC midnight.

    All but two days a year have one offset throughout; for those, a boundary
    is UTC midnight plus minutes, one addition instead of three datetime
    constructions. Days with a transition take the exact path. Create one per
    computation (it is a cache, so never a module global).
    """

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        # day -> UTC instant of local midnight, or None for a day with a transition
        self._midnights: dict[date, datetime | None] = {}

    def midnight(self, day: date) -> datetime | None:
        """UTC instant of local midnight, or None if the day has an offset change."""
        if day in self._midnights:
            return self._midnights[day]
        start = datetime(day.year, day.month, day.day, tzinfo=self.tz)
        following = start + timedelta(days=1)  # wall-clock arithmetic: next local midnight
        offsets = {
            start.utcoffset(),
            start.replace(fold=1).utcoffset(),
            following.utcoffset(),
            following.replace(fold=1).utcoffset(),
        }
        midnight = None
        if len(offsets) == 1:
            (offset,) = offsets
            assert offset is not None
            midnight = datetime(day.year, day.month, day.day, tzinfo=UTC) - offset
        self._midnights[day] = midnight
        return midnight

    def to_utc(self, day: date, minute: int) -> datetime:
        """Same result as ``local_to_utc(day, minute, tz)``."""
        if minute >= MINUTES_PER_DAY:
            day += timedelta(days=1)
            minute -= MINUTES_PER_DAY
        midnight = self.midnight(day)
        if midnight is None:
            return local_to_utc(day, minute, self.tz)
        return midnight + timedelta(minutes=minute)


def local_dates(start: datetime, end: datetime, tz: ZoneInfo) -> Iterator[date]:
    """Local dates whose day, or a range starting on it, may touch ``[start, end)``.

    One day of margin before covers ranges that cross midnight into the window.
    """
    day = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def day_length(day: date, tz: ZoneInfo) -> timedelta:
    """How long the local day lasts (23, 24 or 25 hours in Europe)."""
    return local_to_utc(day, MINUTES_PER_DAY, tz) - local_to_utc(day, 0, tz)


def as_utc(value: datetime, name: str) -> datetime:
    """``value`` converted to UTC; raises ValueError if it is naive.

    Every public entry point normalises its instants: Python compares and
    subtracts two datetimes sharing one tzinfo by wall clock, which is wrong
    across a DST change (22:00-08:00 would last 10 hours every night).
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")
    if value.tzinfo is UTC:
        return value
    return value.astimezone(UTC)
