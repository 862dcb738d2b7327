"""Demo content for the console: canned responses, referrals and wrap-up topics.

Called by the demo set-up (``server.demo``) after the demo lines exist; it adds
content only to the lines 'adults' and 'young', and only to a line that has none.
"""

from __future__ import annotations

from typing import Any

from server.store import Store

DEMO_CANNED: list[tuple[str, str, str, str]] = [
    (
        "sv",
        "hej",
        "Hälsning",
        "Hej, jag heter {name}. Jag finns här för dig. Vad vill du prata om?",
    ),
    (
        "sv",
        "tack",
        "Avslut",
        "Tack för att du skrev till oss. Du är välkommen tillbaka när du vill.",
    ),
    (
        "sv",
        "112",
        "Akut fara",
        "Om du är i fara just nu: ring 112. Jag är kvar här medan du ringer.",
    ),
    ("da", "hej", "Hilsen", "Hej, jeg hedder {name}. Jeg er her for dig. Hvad vil du tale om?"),
    (
        "da",
        "tak",
        "Afslutning",
        "Tak fordi du skrev til os. Du er velkommen tilbage når som helst.",
    ),
    ("da", "112", "Akut fare", "Hvis du er i fare lige nu: ring 112. Jeg er her, mens du ringer."),
    (
        "en",
        "hi",
        "Greeting",
        "Hi, my name is {name}. I am here for you. What would you like to talk about?",
    ),
    ("en", "thanks", "Closing", "Thank you for writing to us. You are welcome back any time."),
    (
        "en",
        "112",
        "Acute danger",
        "If you are in danger right now, call 112. I will stay here while you call.",
    ),
]

_EMERGENCY = {"sv": "Larmnummer 112", "da": "Alarmnummer 112", "en": "Emergency 112"}
DEMO_REFERRALS: list[dict[str, Any]] = [
    {
        "category": "emergency",
        "name": _EMERGENCY,
        "description": {"sv": "Akut fara för liv", "da": "Akut livsfare", "en": "Danger to life"},
        "phone": "112",
        "url": None,
    },
    {
        "category": "service",
        "name": {"sv": "Självmordslinjen (Mind)", "da": "Självmordslinjen", "en": "Suicide line"},
        "description": {"sv": "Dygnet runt", "da": "Døgnet rundt", "en": "Around the clock"},
        "phone": "90101",
        "url": "https://mind.se/hitta-hjalp/sjalvmordslinjen/",
    },
    {
        "category": "clinic",
        "name": {"sv": "1177 Vårdguiden", "da": "1177 (Sverige)", "en": "1177 health guide"},
        "description": {
            "sv": "Sjukvårdsrådgivning",
            "da": "Sundhedsrådgivning",
            "en": "Health advice",
        },
        "phone": "1177",
        "url": "https://www.1177.se/",
    },
    {
        "category": "booking",
        "name": {"sv": "Boka samtal", "da": "Book en samtale", "en": "Book a session"},
        "description": {
            "sv": "Demo: bokningslänk",
            "da": "Demo: bookinglink",
            "en": "Demo: booking link",
        },
        "phone": None,
        "url": "https://www.example.org/book",
    },
]

DEMO_TOPICS: dict[str, list[dict[str, Any]]] = {
    "adults": [
        {"id": "loneliness", "label": {"sv": "Ensamhet", "da": "Ensomhed", "en": "Loneliness"}},
        {
            "id": "relationships",
            "label": {"sv": "Relationer", "da": "Relationer", "en": "Relationships"},
        },
        {
            "id": "suicidal-thoughts",
            "label": {"sv": "Självmordstankar", "da": "Selvmordstanker", "en": "Suicidal thoughts"},
        },
        {"id": "anxiety", "label": {"sv": "Ångest", "da": "Angst", "en": "Anxiety"}},
        {"id": "violence", "label": {"sv": "Våld", "da": "Vold", "en": "Violence"}},
    ],
    "young": [
        {"id": "cannabis", "label": {"sv": "Cannabis", "da": "Hash", "en": "Cannabis"}},
        {"id": "alcohol", "label": {"sv": "Alkohol", "da": "Alkohol", "en": "Alcohol"}},
        {
            "id": "party-drugs",
            "label": {"sv": "Partydroger", "da": "Partystoffer", "en": "Party drugs"},
        },
        {"id": "parents", "label": {"sv": "Föräldrar", "da": "Forældre", "en": "Parents"}},
        {"id": "school", "label": {"sv": "Skola", "da": "Skole", "en": "School"}},
        {"id": "self-harm", "label": {"sv": "Självskada", "da": "Selvskade", "en": "Self-harm"}},
    ],
}


async def ensure_console_demo(store: Store) -> None:
    """Seed canned responses, referrals and topics on the demo lines that have none."""
    supervisor = await store.staff_by_username("supervisor")
    for line_id in ("adults", "young"):
        if await store.get_line(line_id) is None:
            continue
        if supervisor is not None and not await store.canned_responses(line_id):
            for lang, shortcut, title, body in DEMO_CANNED:
                await store.save_canned_response(
                    supervisor.id, line_id, lang, shortcut, title, body
                )
        if not await store.referrals(line_id):
            for n, referral in enumerate(DEMO_REFERRALS):
                await store.add_referral(line_id, sort=n, **referral)
        if not await store.wrap_up_topics(line_id):
            await store.set_wrap_up_topics(line_id, DEMO_TOPICS[line_id])
