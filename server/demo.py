"""The demo line set-up created on first start: two lines and three staff accounts."""

from __future__ import annotations

import secrets

from server.auth import hash_password
from server.console_demo import ensure_console_demo
from server.models import Line, StaffRole
from server.store import Store

EMERGENCY_SE_DK = {
    "numbers": [
        {"label": {"sv": "Larmnummer", "da": "Alarmnummer", "en": "Emergency"}, "number": "112"},
        {
            "label": {
                "sv": "Självmordslinjen (Mind)",
                "da": "Självmordslinjen (Sverige)",
                "en": "Suicide line, Sweden (Mind)",
            },
            "number": "90101",
        },
        {
            "label": {
                "sv": "Livslinien (Danmark)",
                "da": "Livslinien",
                "en": "Livslinien, Denmark",
            },
            "number": "70 201 201",
        },
    ],
    "text": {
        "sv": "Är du i fara just nu? Ring 112. Du kan fortsätta skriva här medan du väntar.",
        "da": "Er du i fare lige nu? Ring 112. Du kan blive ved med at skrive her, mens du venter.",
        "en": "Are you in danger right now? Call 112. You can keep writing here while you wait.",
    },
}

DEMO_LINES = [
    Line(
        id="adults",
        name={
            "sv": "Stödlinjen för vuxna",
            "da": "Støttelinjen for voksne",
            "en": "Support line for adults",
        },
        audience={
            "sv": "För dig som är vuxen och mår dåligt.",
            "da": "For dig, der er voksen og har det svært.",
            "en": "For adults who are struggling.",
        },
        languages=["sv", "da", "en"],
        time_zone="Europe/Stockholm",
        emergency=EMERGENCY_SE_DK,
        exit_url="https://www.google.com/",
    ),
    Line(
        id="young",
        name={
            "sv": "Unga och föräldrar",
            "da": "Unge og forældre",
            "en": "Young people and parents",
        },
        audience={
            "sv": "För unga 18-25 år och deras föräldrar.",
            "da": "For unge på 18-25 år og deres forældre.",
            "en": "For young people aged 18-25 and their parents.",
        },
        languages=["sv", "da", "en"],
        time_zone="Europe/Stockholm",
        emergency=EMERGENCY_SE_DK,
        exit_url="https://www.google.com/",
    ),
]

DEMO_STAFF = [
    ("supervisor", "Supervisor", StaffRole.SUPERVISOR),
    ("counsellor1", "Counsellor 1", StaffRole.COUNSELLOR),
    ("counsellor2", "Counsellor 2", StaffRole.COUNSELLOR),
]


async def ensure_demo(store: Store, capacity: int) -> dict[str, str]:
    """Create the demo lines always, the staff only on a fresh database.

    Returns the generated passwords (empty when staff already existed): they are
    shown once and never stored in clear.
    """
    for line in DEMO_LINES:
        if await store.get_line(line.id) is None:
            await store.upsert_line(line)
    if await store.staff_count() > 0:
        return {}
    passwords: dict[str, str] = {}
    for username, display_name, role in DEMO_STAFF:
        password = secrets.token_urlsafe(12)
        await store.create_staff(username, display_name, role, hash_password(password), capacity)
        passwords[username] = password
    await ensure_console_demo(store)
    return passwords
