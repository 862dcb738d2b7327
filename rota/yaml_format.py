"""The human-writable YAML import format: ``parse_rota_yaml(text) -> Rota``.

Design note: docs/rota.md ("YAML format") documents every field. The parser
walks PyYAML's node tree instead of loaded Python values, for two reasons:
every error can name the line and the path of the bad field, and YAML 1.1's
surprises are avoided (unquoted ``15:00`` would load as the integer 900 and
``no`` as False); each scalar is read as the string its author wrote.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from rota.localtime import local_to_utc
from rota.model import (
    DEFAULT_TIMEZONE,
    EVERY_DAY,
    MINUTES_PER_DAY,
    WEEKDAY_NAMES,
    Assignment,
    ClockIn,
    Cover,
    DailyRange,
    HolidayOverride,
    Line,
    OpeningHours,
    RequirementRule,
    Role,
    Rota,
    Shift,
    ShiftTemplate,
    Staff,
    Swap,
    WeeklyRange,
)

FORMAT_VERSION = 1

T = TypeVar("T")


class RotaFormatError(ValueError):
    """A rota file is malformed; ``line`` (1-based) and ``path`` locate the field."""

    def __init__(self, message: str, *, path: str = "", line: int | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        where = ", ".join(
            part for part in (f"line {line}" if line else "", path and f"at {path}") if part
        )
        super().__init__(f"{where}: {message}" if where else message)


@dataclass(frozen=True)
class _Node:
    node: yaml.Node
    path: str

    @property
    def line(self) -> int:
        return int(self.node.start_mark.line) + 1

    def error(self, message: str) -> RotaFormatError:
        return RotaFormatError(message, path=self.path, line=self.line)

    def is_null(self) -> bool:
        return isinstance(self.node, yaml.ScalarNode) and self.node.tag == "tag:yaml.org,2002:null"

    def scalar(self) -> str:
        if not isinstance(self.node, yaml.ScalarNode):
            raise self.error("expected a single value")
        return str(self.node.value).strip()

    def items(self) -> list[_Node]:
        if self.is_null():
            return []
        if not isinstance(self.node, yaml.SequenceNode):
            raise self.error("expected a list")
        return [_Node(child, f"{self.path}[{i}]") for i, child in enumerate(self.node.value)]

    def mapping(self, allowed: frozenset[str] | None = None) -> _Map:
        if not isinstance(self.node, yaml.MappingNode):
            raise self.error("expected a mapping of fields")
        fields: dict[str, _Node] = {}
        for key_node, value_node in self.node.value:
            key_holder = _Node(key_node, self.path)
            key = key_holder.scalar()
            child = _Node(value_node, f"{self.path}.{key}" if self.path else key)
            if key in fields:
                raise child.error(f"duplicate field {key!r}")
            if allowed is not None and key not in allowed:
                raise child.error(f"unknown field {key!r}; expected one of {sorted(allowed)}")
            fields[key] = child
        return _Map(self, fields)


@dataclass(frozen=True)
class _Map:
    owner: _Node
    fields: dict[str, _Node]

    def required(self, key: str) -> _Node:
        child = self.fields.get(key)
        if child is None or child.is_null():
            raise self.owner.error(f"missing required field {key!r}")
        return child

    def optional(self, key: str) -> _Node | None:
        child = self.fields.get(key)
        if child is None or child.is_null():
            return None
        return child

    def text(self, key: str, default: str | None = None) -> str:
        child = self.optional(key)
        if child is None:
            if default is None:
                return self.required(key).scalar()
            return default
        return child.scalar()

    def parsed(self, key: str, parse: Callable[[_Node], T], default: T) -> T:
        child = self.optional(key)
        return default if child is None else parse(child)


_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def _minute(node: _Node, text: str) -> int:
    match = _TIME.match(text.strip())
    if not match:
        raise node.error(f"expected a time like 08:00, got {text!r}")
    hours, minutes = int(match[1]), int(match[2])
    if minutes >= 60 or hours > 24 or (hours == 24 and minutes):
        raise node.error(f"no such time of day {text!r}")
    return hours * 60 + minutes


def _range_text(node: _Node, text: str) -> DailyRange:
    parts = text.split("-")
    if len(parts) != 2:
        raise node.error(f"expected hours like 15:00-22:00, got {text!r}")
    start, end = _minute(node, parts[0]), _minute(node, parts[1])
    if start == MINUTES_PER_DAY:
        raise node.error("a range cannot start at 24:00")
    if end <= start:
        # "22:00-08:00" runs into the next morning.
        end += MINUTES_PER_DAY
    return DailyRange(start, end)


def _range(node: _Node) -> DailyRange:
    return _range_text(node, node.scalar())


def _ranges(node: _Node) -> tuple[DailyRange, ...]:
    """One range, a comma-separated string of ranges, a list of them, or ``closed``."""
    if isinstance(node.node, yaml.SequenceNode):
        return tuple(r for item in node.items() for r in _ranges(item))
    text = node.scalar()
    if text.lower() == "closed":
        return ()
    return tuple(_range_text(node, part.strip()) for part in text.split(",") if part.strip())


def _weekday(node: _Node, name: str) -> int:
    key = name.strip().lower()[:3]
    if key not in WEEKDAY_NAMES:
        raise node.error(f"unknown weekday {name!r}; use mon, tue, wed, thu, fri, sat, sun")
    return WEEKDAY_NAMES.index(key)


def _days(node: _Node) -> frozenset[int]:
    """``every day``, ``mon-fri``, ``mon, wed``, or a list of those."""
    if isinstance(node.node, yaml.SequenceNode):
        days: set[int] = set()
        for item in node.items():
            days |= _days(item)
        return frozenset(days)
    return _days_text(node, node.scalar())


def _days_text(node: _Node, text: str) -> frozenset[int]:
    text = text.lower()
    if text in {"every day", "daily", "all", "*"}:
        return EVERY_DAY
    days: set[int] = set()
    for part in text.split(","):
        if "-" in part:
            first, last = (_weekday(node, p) for p in part.split("-", 1))
            span = (last - first) % 7
            days.update((first + i) % 7 for i in range(span + 1))
        elif part.strip():
            days.add(_weekday(node, part))
    if not days:
        raise node.error("no weekdays given")
    return frozenset(days)


def _date(node: _Node) -> date:
    try:
        return date.fromisoformat(node.scalar())
    except ValueError:
        raise node.error(f"expected a date like 2026-03-29, got {node.scalar()!r}") from None


def _count(node: _Node) -> int:
    text = node.scalar()
    if not text.isdigit():
        raise node.error(f"expected a whole number of people, got {text!r}")
    return int(text)


def _positive(node: _Node) -> int:
    value = _count(node)
    if value < 1:
        raise node.error("must be at least 1")
    return value


def _role(node: _Node) -> Role:
    text = node.scalar().lower()
    try:
        return Role(text)
    except ValueError:
        raise node.error(
            f"unknown role {text!r}; expected one of {[str(r) for r in Role]}"
        ) from None


def _instant(node: _Node, tz: ZoneInfo) -> datetime:
    """A local date and time in the line's zone, or an ISO instant with an offset."""
    text = node.scalar()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise node.error(f"expected a date and time like 2026-03-02 15:00, got {text!r}") from None
    if value.tzinfo is not None:
        return value.astimezone(ZoneInfo("UTC"))
    # Through local_to_utc so DST-skipped times behave as everywhere else.
    minute = value.hour * 60 + value.minute
    return local_to_utc(value.date(), minute, tz) + (value - value.replace(second=0, microsecond=0))


def _zone(node: _Node) -> ZoneInfo:
    name = node.scalar()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise node.error(f"unknown time zone {name!r}") from None


def _identifier(node: _Node) -> str:
    text = node.scalar()
    if not text or any(c.isspace() for c in text):
        raise node.error(f"an id must be non-empty without spaces, got {text!r}")
    return text


_ROLE_COUNT_FIELDS = MappingProxyType(
    {"counsellors": Role.COUNSELLOR, "supervisors": Role.SUPERVISOR}
)


def _role_counts(node: _Node) -> dict[Role, int]:
    fields = node.mapping(frozenset(_ROLE_COUNT_FIELDS)).fields
    return {_ROLE_COUNT_FIELDS[k]: _count(v) for k, v in fields.items() if not v.is_null()}


def _opening(node: _Node) -> OpeningHours:
    if isinstance(node.node, yaml.ScalarNode):
        if node.scalar().lower() in {"always", "24/7"}:
            return OpeningHours(always=True)
        raise node.error("expected 'always', '24/7' or a mapping of days to hours")
    weekly: list[WeeklyRange] = []
    for key, child in node.mapping().fields.items():
        weekdays = _days_text(child, key)
        weekly.extend(WeeklyRange(weekdays, r) for r in _ranges(child))
    return OpeningHours(always=False, weekly=tuple(weekly))


_RULE_FIELDS = frozenset(
    {"name", "days", "hours", "counsellors", "supervisors", "max_counsellors", "max_supervisors"}
)


def _rule(node: _Node, index: int) -> RequirementRule:
    fields = node.mapping(_RULE_FIELDS)
    minimum = {
        role: _count(fields.fields[key])
        for key, role in _ROLE_COUNT_FIELDS.items()
        if fields.optional(key) is not None
    }
    maximum = {
        role: _count(fields.fields[f"max_{key}"])
        for key, role in _ROLE_COUNT_FIELDS.items()
        if fields.optional(f"max_{key}") is not None
    }
    if not minimum and not maximum:
        raise node.error("a rule must set counsellors, supervisors or a max_ field")
    return RequirementRule(
        name=fields.text("name", f"rule {index + 1}"),
        weekdays=fields.parsed("days", _days, EVERY_DAY),
        range=_range(fields.required("hours")),
        minimum=minimum,
        maximum=maximum,
    )


def _line(node: _Node) -> Line:
    fields = node.mapping(frozenset({"id", "name", "timezone", "open", "requirements"}))
    line_id = _identifier(fields.required("id"))
    tz_node = fields.optional("timezone")
    timezone = DEFAULT_TIMEZONE if tz_node is None else _zone(tz_node).key
    minimum: dict[Role, int] = {Role.COUNSELLOR: 1, Role.SUPERVISOR: 1}
    maximum: dict[Role, int] = {}
    rules: tuple[RequirementRule, ...] = ()
    requirements = fields.optional("requirements")
    if requirements is not None:
        req = requirements.mapping(frozenset({"default", "maximum", "rules"}))
        minimum = req.parsed("default", _role_counts, minimum)
        maximum = req.parsed("maximum", _role_counts, maximum)
        rules_node = req.optional("rules")
        if rules_node is not None:
            rules = tuple(_rule(item, i) for i, item in enumerate(rules_node.items()))
    return Line(
        line_id=line_id,
        name=fields.text("name", line_id),
        timezone=timezone,
        opening=fields.parsed("open", _opening, OpeningHours(always=True)),
        default_minimum=minimum,
        default_maximum=maximum,
        rules=rules,
    )


def _staff(node: _Node) -> Staff:
    if isinstance(node.node, yaml.ScalarNode):
        return Staff(_identifier(node))
    fields = node.mapping(frozenset({"id", "name", "roles"}))
    staff_id = _identifier(fields.required("id"))
    roles_node = fields.optional("roles")
    roles = (
        frozenset({Role.COUNSELLOR})
        if roles_node is None
        else frozenset(_role(r) for r in roles_node.items())
    )
    if not roles:
        raise node.error("a staff member needs at least one role")
    return Staff(staff_id, fields.text("name", staff_id), roles)


class _Context:
    """What later sections are checked against (ids declared so far)."""

    def __init__(self, lines: dict[str, Line], staff: dict[str, Staff]) -> None:
        self.lines = lines
        self.staff = staff
        self.zones = {line_id: ZoneInfo(line.timezone) for line_id, line in lines.items()}

    def line_id(self, node: _Node) -> str:
        line_id = node.scalar()
        if line_id not in self.lines:
            raise node.error(f"unknown line {line_id!r}; declared: {sorted(self.lines)}")
        return line_id

    def staff_id(self, node: _Node, role: Role | None = None) -> str:
        return self.staff_id_text(node, node.scalar(), role)

    def staff_id_text(self, node: _Node, staff_id: str, role: Role | None = None) -> str:
        person = self.staff.get(staff_id)
        if person is None:
            raise node.error(f"unknown staff member {staff_id!r}")
        if role is not None and role not in person.roles:
            raise node.error(f"{staff_id} does not have the role {role}")
        return staff_id


_TEMPLATE_FIELDS = frozenset(
    {
        "id",
        "line",
        "role",
        "days",
        "hours",
        "rotation",
        "rotation_start",
        "turn_days",
        "per_shift",
        "valid_from",
        "valid_until",
    }
)


def _template(node: _Node, ctx: _Context) -> ShiftTemplate:
    fields = node.mapping(_TEMPLATE_FIELDS)
    role = _role(fields.required("role"))
    rotation = tuple(ctx.staff_id(item, role) for item in fields.required("rotation").items())
    if not rotation:
        raise fields.required("rotation").error("a rotation needs at least one person")
    per_shift = fields.parsed("per_shift", _positive, 1)
    if per_shift > len(rotation):
        raise fields.required("per_shift").error(
            f"per_shift {per_shift} exceeds the {len(rotation)} people in the rotation"
        )
    valid_from = fields.parsed("valid_from", _date, None)
    rotation_start = fields.parsed("rotation_start", _date, valid_from)
    if rotation_start is None:
        raise node.error("missing required field 'rotation_start' (or 'valid_from')")
    return ShiftTemplate(
        template_id=_identifier(fields.required("id")),
        line_id=ctx.line_id(fields.required("line")),
        role=role,
        weekdays=fields.parsed("days", _days, EVERY_DAY),
        range=_range(fields.required("hours")),
        rotation=rotation,
        rotation_start=rotation_start,
        turn_days=fields.parsed("turn_days", _positive, 7),
        per_shift=per_shift,
        valid_from=valid_from,
        valid_until=fields.parsed("valid_until", _date, None),
    )


def _shift(node: _Node, ctx: _Context) -> Shift:
    fields = node.mapping(frozenset({"id", "line", "start", "end", "staff"}))
    line_id = ctx.line_id(fields.required("line"))
    tz = ctx.zones[line_id]
    start = _instant(fields.required("start"), tz)
    end = _instant(fields.required("end"), tz)
    if end <= start:
        raise fields.required("end").error("a shift must end after it starts")
    assignments = []
    for staff_id, role_node in fields.required("staff").mapping().fields.items():
        role = _role(role_node)
        assignments.append(Assignment(ctx.staff_id_text(role_node, staff_id, role), role))
    return Shift(
        shift_id=_identifier(fields.required("id")),
        line_id=line_id,
        start=start,
        end=end,
        assignments=tuple(assignments),
        origin="one-off shift",
    )


def _holiday(node: _Node, ctx: _Context) -> HolidayOverride:
    fields = node.mapping(frozenset({"date", "name", "lines", "hours"}))
    day = _date(fields.required("date"))
    lines_node = fields.optional("lines")
    line_ids = (
        None if lines_node is None else frozenset(ctx.line_id(item) for item in lines_node.items())
    )
    return HolidayOverride(
        day=day,
        name=fields.text("name", f"holiday {day.isoformat()}"),
        hours=fields.parsed("hours", _ranges, ()),
        line_ids=line_ids,
    )


def _approver(fields: _Map, ctx: _Context) -> str | None:
    node = fields.optional("approved_by")
    return None if node is None else ctx.staff_id(node, Role.SUPERVISOR)


def _swap(node: _Node, ctx: _Context) -> Swap:
    fields = node.mapping(
        frozenset({"id", "shift_a", "staff_a", "shift_b", "staff_b", "approved_by"})
    )
    return Swap(
        swap_id=_identifier(fields.required("id")),
        shift_a=fields.text("shift_a"),
        staff_a=ctx.staff_id(fields.required("staff_a")),
        shift_b=fields.text("shift_b"),
        staff_b=ctx.staff_id(fields.required("staff_b")),
        approved_by=_approver(fields, ctx),
    )


def _cover(node: _Node, ctx: _Context) -> Cover:
    fields = node.mapping(frozenset({"id", "shift", "staff", "by", "approved_by"}))
    return Cover(
        cover_id=_identifier(fields.required("id")),
        shift_id=fields.text("shift"),
        staff_id=ctx.staff_id(fields.required("staff")),
        covered_by=ctx.staff_id(fields.required("by")),
        approved_by=_approver(fields, ctx),
    )


def _clock_in(node: _Node, ctx: _Context) -> ClockIn:
    fields = node.mapping(frozenset({"staff", "line", "role", "start", "end", "approved_by"}))
    line_id = ctx.line_id(fields.required("line"))
    role = _role(fields.required("role"))
    tz = ctx.zones[line_id]
    start = _instant(fields.required("start"), tz)
    end = _instant(fields.required("end"), tz)
    if end <= start:
        raise fields.required("end").error("a clock-in must end after it starts")
    return ClockIn(
        staff_id=ctx.staff_id(fields.required("staff"), role),
        line_id=line_id,
        role=role,
        start=start,
        end=end,
        approved_by=ctx.staff_id(fields.required("approved_by"), Role.SUPERVISOR),
    )


def _unique(items: list[T], key: Callable[[T], str], nodes: list[_Node], what: str) -> None:
    seen: set[str] = set()
    for item, node in zip(items, nodes, strict=True):
        value = key(item)
        if value in seen:
            raise node.error(f"duplicate {what} id {value!r}")
        seen.add(value)


_TOP_FIELDS = frozenset(
    {"version", "lines", "staff", "templates", "shifts", "holidays", "swaps", "covers", "clock_ins"}
)


def parse_rota_yaml(text: str) -> Rota:
    """Parse and validate a rota file; raises ``RotaFormatError`` naming line and field."""
    try:
        root_node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise RotaFormatError(
            f"not valid YAML: {exc.problem}", line=None if mark is None else mark.line + 1
        ) from None
    if root_node is None:
        raise RotaFormatError("the rota file is empty")
    root = _Node(root_node, "").mapping(_TOP_FIELDS)
    version_node = root.optional("version")
    if version_node is not None and version_node.scalar() != str(FORMAT_VERSION):
        raise version_node.error(f"unsupported version; this parser reads {FORMAT_VERSION}")

    line_nodes = root.required("lines").items()
    lines = [_line(n) for n in line_nodes]
    _unique(lines, lambda x: x.line_id, line_nodes, "line")
    staff_node = root.optional("staff")
    staff_nodes = [] if staff_node is None else staff_node.items()
    staff = [_staff(n) for n in staff_nodes]
    _unique(staff, lambda x: x.staff_id, staff_nodes, "staff")
    ctx = _Context({x.line_id: x for x in lines}, {x.staff_id: x for x in staff})

    def section(name: str, parse: Callable[[_Node, _Context], T]) -> tuple[list[T], list[_Node]]:
        node = root.optional(name)
        nodes = [] if node is None else node.items()
        return [parse(n, ctx) for n in nodes], nodes

    templates, template_nodes = section("templates", _template)
    _unique(templates, lambda x: x.template_id, template_nodes, "template")
    shifts, shift_nodes = section("shifts", _shift)
    _unique(shifts, lambda x: x.shift_id, shift_nodes, "shift")
    holidays, _ = section("holidays", _holiday)
    swaps, swap_nodes = section("swaps", _swap)
    _unique(swaps, lambda x: x.swap_id, swap_nodes, "swap")
    covers, cover_nodes = section("covers", _cover)
    _unique(covers, lambda x: x.cover_id, cover_nodes, "cover")
    clock_ins, _ = section("clock_ins", _clock_in)
    return Rota(
        lines=tuple(lines),
        staff=tuple(staff),
        templates=tuple(templates),
        shifts=tuple(shifts),
        holidays=tuple(holidays),
        swaps=tuple(swaps),
        covers=tuple(covers),
        clock_ins=tuple(clock_ins),
    )
