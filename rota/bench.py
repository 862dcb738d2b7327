"""Benchmark: coverage and gaps for a year of 200 staff on 10 lines.

Design note: docs/rota.md ("Performance"). The issue's budget is one second on
one core. Run ``python -m rota.bench``; the numbers are measured each run with
``time.perf_counter``, never stored.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from rota.coverage import compute_coverage
from rota.model import (
    EVERY_DAY,
    DailyRange,
    HolidayOverride,
    Line,
    OpeningHours,
    RequirementRule,
    Role,
    Rota,
    ShiftTemplate,
    Staff,
    WeeklyRange,
)

LINES = 10
STAFF_PER_LINE = 20
SUPERVISORS_PER_LINE = 5
# Eight-hour shifts, the common pattern on Swedish helplines.
_SHIFTS = (DailyRange(0, 480), DailyRange(480, 960), DailyRange(960, 1440))


def benchmark_rota(year: int = 2026) -> Rota:
    """A synthetic rota: 10 lines (every third one with opening hours), 200 staff."""
    lines = []
    staff = []
    templates = []
    anchor = date(year, 1, 5)
    for n in range(LINES):
        line_id = f"line{n}"
        opening = OpeningHours(always=True)
        if n % 3 == 2:
            opening = OpeningHours(
                weekly=(
                    WeeklyRange(frozenset(range(5)), DailyRange(900, 1320)),
                    WeeklyRange(frozenset({5, 6}), DailyRange(780, 1020)),
                )
            )
        rules = (
            RequirementRule(
                "evening peak", frozenset(range(5)), DailyRange(1080, 1320), {Role.COUNSELLOR: 3}
            ),
        )
        lines.append(Line(line_id, opening=opening, rules=rules))
        people = [f"{line_id}-p{i}" for i in range(STAFF_PER_LINE)]
        supervisors = people[:SUPERVISORS_PER_LINE]
        counsellors = people[SUPERVISORS_PER_LINE:]
        staff += [Staff(p, roles=frozenset({Role.SUPERVISOR})) for p in supervisors]
        staff += [Staff(p) for p in counsellors]
        for k, hours in enumerate(_SHIFTS):
            # Sunday nights left out on odd lines so there are gaps to find.
            days = EVERY_DAY if (n % 2 == 0 or k) else frozenset(range(6))
            templates.append(
                ShiftTemplate(
                    f"{line_id}-sup-{k}",
                    line_id,
                    Role.SUPERVISOR,
                    days,
                    hours,
                    tuple(supervisors[k:] + supervisors[:k]),
                    anchor,
                )
            )
            templates.append(
                ShiftTemplate(
                    f"{line_id}-c-{k}",
                    line_id,
                    Role.COUNSELLOR,
                    EVERY_DAY,
                    hours,
                    tuple(counsellors[k * 5 :] + counsellors[: k * 5]),
                    anchor,
                    turn_days=7,
                    per_shift=2,
                )
            )
    holidays = (
        HolidayOverride(date(year, 12, 24), "Christmas Eve", (DailyRange(600, 840),)),
        HolidayOverride(date(year, 6, 19), "Midsummer Eve", ()),
    )
    return Rota(
        lines=tuple(lines), staff=tuple(staff), templates=tuple(templates), holidays=holidays
    )


def run_benchmark(year: int = 2026, repeat: int = 3) -> dict[str, Any]:
    """Time a year's coverage (best of ``repeat``) and report sizes and the budget."""
    rota = benchmark_rota(year)
    start = datetime(year, 1, 1, tzinfo=UTC)
    end = start + timedelta(days=365)
    timings = []
    coverage = None
    for _ in range(repeat):
        began = time.perf_counter()
        coverage = compute_coverage(rota, start, end)
        timings.append(time.perf_counter() - began)
    assert coverage is not None
    return {
        "lines": len(rota.lines),
        "staff": len(rota.staff),
        "templates": len(rota.templates),
        "days": 365,
        "gaps": len(coverage.gaps),
        "overstaffing": len(coverage.overstaffing),
        "best_seconds": min(timings),
        "all_seconds": timings,
        "budget_seconds": 1.0,
        "within_budget": min(timings) < 1.0,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run_benchmark(), indent=2))
