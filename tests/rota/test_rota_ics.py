from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from rota.ics import fold_line, to_ics
from rota.model import Assignment, Role, Shift

STAMP = datetime(2026, 3, 1, 12, tzinfo=UTC)


def shift(shift_id: str, start: datetime, staff: str, note: str = "") -> Shift:
    return Shift(
        shift_id,
        "young",
        start,
        start + timedelta(hours=7),
        (Assignment(staff, Role.COUNSELLOR, note),),
        origin="template 'young-weekday'",
    )


def unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def test_calendar_structure_and_utc_times() -> None:
    shifts = [
        shift("young-weekday@2026-03-02", datetime(2026, 3, 2, 14, tzinfo=UTC), "c1"),
        shift("young-weekday@2026-03-03", datetime(2026, 3, 3, 14, tzinfo=UTC), "c2"),
    ]
    text = to_ics(shifts, "c1", dtstamp=STAMP, line_names={"young": "Young people"})
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and lines[-1] == ""
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == 1
    assert "VERSION:2.0" in lines
    assert "UID:young-weekday@2026-03-02/c1@rota.helpline.invalid" in lines
    assert "DTSTAMP:20260301T120000Z" in lines
    assert "DTSTART:20260302T140000Z" in lines
    assert "DTEND:20260302T210000Z" in lines
    assert "SUMMARY:Young people: counsellor" in lines


def test_crlf_only_and_folding_at_75_octets() -> None:
    note = "cover c1: Åsa Öberg covers for counsellor1, approved; " * 4
    text = to_ics(
        [shift("s", datetime(2026, 3, 2, 14, tzinfo=UTC), "c1", note)], "c1", dtstamp=STAMP
    )
    assert "\n" not in text.replace("\r\n", "")
    physical = text.split("\r\n")
    assert all(len(line.encode("utf-8")) <= 75 for line in physical)
    assert any(line.startswith(" ") for line in physical)
    description = next(line for line in unfold(text) if line.startswith("DESCRIPTION:"))
    assert "Åsa Öberg covers for counsellor1\\, approved\\;" in description


def test_same_input_same_bytes() -> None:
    shifts = [shift("s", datetime(2026, 3, 2, 14, tzinfo=UTC), "c1")]
    assert to_ics(shifts, "c1", dtstamp=STAMP) == to_ics(shifts, "c1", dtstamp=STAMP)


@given(st.text(min_size=0, max_size=400))
def test_folding_round_trips(value: str) -> None:
    line = "DESCRIPTION:" + value.replace("\r", "").replace("\n", "")
    folded = fold_line(line)
    assert all(len(part.encode("utf-8")) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line
