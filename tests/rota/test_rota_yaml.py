from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rota.cli import DEMO_ROTA
from rota.model import Role
from rota.yaml_format import RotaFormatError, parse_rota_yaml

MINIMAL = """\
lines:
  - id: young
    open:
      mon-fri: "15:00-22:00"
      sat: 15:00-21:00
      sun: 13:00-17:00
staff:
  - {id: c1, roles: [counsellor]}
  - {id: boss, roles: [supervisor]}
templates:
  - {id: t, line: young, role: counsellor, days: mon-fri, hours: 15:00-22:00,
     rotation: [c1], rotation_start: 2026-01-05}
"""


def test_demo_file_parses() -> None:
    rota = parse_rota_yaml(DEMO_ROTA.read_text(encoding="utf-8"))
    assert {line.line_id for line in rota.lines} == {"adults", "young"}
    assert {"supervisor", "counsellor1", "counsellor2"} <= set(rota.staff_by_id())
    assert rota.line("adults").opening.always
    assert not rota.line("young").opening.always


def test_unquoted_times_are_not_sexagesimal_numbers() -> None:
    rota = parse_rota_yaml(MINIMAL)
    weekly = rota.line("young").opening.weekly
    assert [(sorted(w.weekdays), w.range.label()) for w in weekly] == [
        ([0, 1, 2, 3, 4], "15:00-22:00"),
        ([5], "15:00-21:00"),
        ([6], "13:00-17:00"),
    ]
    assert rota.templates[0].role == Role.COUNSELLOR


def test_local_times_of_one_off_shifts_use_the_line_zone() -> None:
    rota = parse_rota_yaml(
        MINIMAL
        + """\
shifts:
  - {id: x, line: young, start: 2026-07-01 15:00, end: "2026-07-01T22:00", staff: {c1: counsellor}}
"""
    )
    shift = rota.shifts[0]
    assert shift.start == datetime(2026, 7, 1, 13, tzinfo=UTC)
    assert shift.end == datetime(2026, 7, 1, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the rota file is empty"),
        ("lines: [", "not valid YAML"),
        ("version: 2\nlines: []\n", "line 1, at version: unsupported version"),
        ("lines:\n  - {id: a, opne: always}\n", "line 2, at lines[0].opne: unknown field 'opne'"),
        ("lines:\n  - {name: x}\n", "line 2, at lines[0]: missing required field 'id'"),
        (
            "lines:\n  - id: a\n    open: {mon: 25:00-26:00}\n",
            "line 3, at lines[0].open.mon: no such time of day '25:00'",
        ),
        (
            "lines:\n  - id: a\n    open: {funday: 10:00-12:00}\n",
            "unknown weekday 'funday'",
        ),
        ("lines:\n  - id: a\n    timezone: Mars/Olympus\n", "unknown time zone 'Mars/Olympus'"),
        ("lines:\n  - {id: a}\n  - {id: a}\n", "line 3, at lines[1]: duplicate line id 'a'"),
        (
            "lines:\n  - id: a\n    requirements: {default: {counsellors: two}}\n",
            "lines[0].requirements.default.counsellors: expected a whole number",
        ),
        (
            MINIMAL.replace("line: young, role", "line: old, role"),
            "line 11, at templates[0].line: unknown line 'old'",
        ),
        (
            MINIMAL.replace("rotation: [c1]", "rotation: [c1, boss]"),
            "at templates[0].rotation[1]: boss does not have the role counsellor",
        ),
        (
            MINIMAL.replace("rotation: [c1]", "rotation: [nobody]"),
            "unknown staff member 'nobody'",
        ),
        (
            MINIMAL.replace("role: counsellor, days", "role: janitor, days"),
            "unknown role 'janitor'",
        ),
        (
            MINIMAL + "covers:\n  - {id: c, shift: t@2026-01-05, staff: c1, by: c1, "
            "approved_by: c1}\n",
            "at covers[0].approved_by: c1 does not have the role supervisor",
        ),
        (
            MINIMAL + "shifts:\n  - {id: x, line: young, start: 2026-07-01 15:00, "
            "end: 2026-07-01 14:00, staff: {c1: counsellor}}\n",
            "a shift must end after it starts",
        ),
        (
            MINIMAL + "holidays:\n  - {date: 2026-13-01, hours: closed}\n",
            "at holidays[0].date: expected a date",
        ),
    ],
)
def test_bad_input_names_line_and_field(text: str, message: str) -> None:
    with pytest.raises(RotaFormatError) as caught:
        parse_rota_yaml(text)
    assert message in str(caught.value)


def test_holiday_and_change_sections() -> None:
    rota = parse_rota_yaml(
        MINIMAL
        + """\
holidays:
  - {date: 2026-12-24, name: Christmas Eve, hours: closed}
  - {date: 2026-12-31, lines: [young], hours: "10:00-12:00, 13:00-14:00"}
swaps:
  - {id: w, shift_a: t@2026-01-05, staff_a: c1, shift_b: t@2026-01-06, staff_b: c1}
clock_ins:
  - {staff: boss, line: young, role: supervisor, start: 2026-01-05 15:00,
     end: 2026-01-05 16:00, approved_by: boss}
"""
    )
    assert rota.holidays[0].hours == () and rota.holidays[0].line_ids is None
    assert [r.label() for r in rota.holidays[1].hours] == ["10:00-12:00", "13:00-14:00"]
    assert rota.swaps[0].approved_by is None
    assert rota.clock_ins[0].approved_by == "boss"
