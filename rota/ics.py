"""RFC 5545 calendars of one person's shifts: ``to_ics(shifts, staff_id, ...)``.

Design note: docs/rota.md ("Calendar export"). Pure: DTSTAMP is an argument so
the same rota always yields the same bytes (calendar clients treat a changed
DTSTAMP as an update). Times are written in UTC ("Z"), which every client
understands without a VTIMEZONE block.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from rota.localtime import as_utc
from rota.model import Shift

# RFC 5545 section 3.1: lines SHOULD NOT be longer than 75 octets, excluding CRLF.
MAX_LINE_OCTETS = 75
CRLF = "\r\n"
PRODUCT_ID = "-//helpline//rota//EN"


def escape_text(value: str) -> str:
    """TEXT escaping of RFC 5545 section 3.3.11."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def fold_line(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 3.1), never splitting a UTF-8 character."""
    parts: list[str] = []
    current = ""
    current_octets = 0
    # Continuation lines begin with a space, which counts against their 75.
    limit = MAX_LINE_OCTETS
    for char in line:
        size = len(char.encode("utf-8"))
        if current_octets + size > limit:
            parts.append(current)
            current = " "
            current_octets = 1
        current += char
        current_octets += size
    parts.append(current)
    return CRLF.join(parts)


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def to_ics(
    shifts: Iterable[Shift],
    staff_id: str,
    *,
    dtstamp: datetime,
    line_names: Mapping[str, str] | None = None,
    uid_domain: str = "rota.helpline.invalid",
    calendar_name: str | None = None,
) -> str:
    """A VCALENDAR with one VEVENT per shift ``staff_id`` holds, CRLF line endings.

    Pass effective shifts (``rota.shifts.resolve(...).shifts``) so swaps and
    covers show up in the calendar. UIDs are ``<shift id>/<staff id>@domain``:
    stable across exports, so re-importing updates events instead of doubling them.
    """
    dtstamp = as_utc(dtstamp, "dtstamp")
    names = line_names or {}
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODUCT_ID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(calendar_name or f'Rota for {staff_id}')}",
    ]
    for shift in sorted(shifts, key=lambda s: (s.start, s.shift_id)):
        for assignment in shift.assignments:
            if assignment.staff_id != staff_id:
                continue
            line_name = names.get(shift.line_id, shift.line_id)
            description = f"Shift {shift.shift_id} ({shift.origin or 'rota'})"
            if assignment.note:
                description += f". {assignment.note}"
            lines += [
                "BEGIN:VEVENT",
                f"UID:{escape_text(shift.shift_id)}/{escape_text(staff_id)}@{uid_domain}",
                f"DTSTAMP:{_utc(dtstamp)}",
                f"DTSTART:{_utc(shift.start)}",
                f"DTEND:{_utc(shift.end)}",
                f"SUMMARY:{escape_text(f'{line_name}: {assignment.role}')}",
                f"DESCRIPTION:{escape_text(description)}",
                "END:VEVENT",
            ]
    lines.append("END:VCALENDAR")
    return "".join(fold_line(line) + CRLF for line in lines)
