"""Lines from a file an operator writes (`helpline lines import FILE`).

A line is what a caller reaches: its names, the languages it answers in, its time
zone, the emergency numbers and text the caller sees when risk is detected, and
where the quick-exit button leads. The file is YAML or JSON; `helpline lines
export` writes the same shape. Checking is pure and names the place of every
fault, so a line with a missing emergency text never reaches a caller.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from server.models import Line

LANGUAGES = ("sv", "da", "en")
LINE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
MAX_TEXT = 500
KEYS = frozenset({"id", "name", "audience", "languages", "time_zone", "emergency", "exit_url"})


class LineFileError(ValueError):
    """The file cannot be used; the message says where and why."""


def parse_line_file(text: str) -> list[Line]:
    """The lines of a YAML or JSON document: a list, or a mapping with `lines`."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise LineFileError(f"not YAML or JSON: {error}") from error
    if isinstance(data, dict) and "lines" in data:
        data = data["lines"]
    if not isinstance(data, list) or not data:
        raise LineFileError("expected a non-empty list of lines (or a mapping with `lines`)")
    lines = [parse_line(item, f"lines[{n}]") for n, item in enumerate(data)]
    ids = [line.id for line in lines]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise LineFileError(f"line ids appear twice: {', '.join(duplicates)}")
    return lines


def parse_line(item: Any, at: str) -> Line:
    if not isinstance(item, dict):
        raise LineFileError(f"{at}: expected a mapping")
    unknown = set(item) - KEYS
    if unknown:
        raise LineFileError(f"{at}: unknown keys {sorted(unknown)}")
    line_id = item.get("id")
    if not isinstance(line_id, str) or not LINE_ID.match(line_id):
        raise LineFileError(f"{at}.id: 1-40 of a-z, 0-9 and '-', starting with a letter or digit")
    at = f"{at} ({line_id})"
    languages = item.get("languages", list(LANGUAGES))
    if (
        not isinstance(languages, list)
        or not languages
        or any(lang not in LANGUAGES for lang in languages)
        or len(set(languages)) != len(languages)
    ):
        raise LineFileError(f"{at}.languages: a list of {', '.join(LANGUAGES)}")
    time_zone = item.get("time_zone")
    try:
        ZoneInfo(str(time_zone))
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise LineFileError(f"{at}.time_zone: not a known time zone: {time_zone!r}") from error
    return Line(
        id=line_id,
        name=_texts(item.get("name"), languages, f"{at}.name"),
        audience=_texts(item.get("audience"), languages, f"{at}.audience"),
        languages=list(languages),
        time_zone=str(time_zone),
        emergency=_emergency(item.get("emergency"), languages, f"{at}.emergency"),
        exit_url=_exit_url(item.get("exit_url"), f"{at}.exit_url"),
    )


def _texts(value: Any, languages: list[str], at: str) -> dict[str, str]:
    """A text in every language the line answers in (others are allowed)."""
    if not isinstance(value, dict):
        raise LineFileError(f"{at}: expected a mapping of language to text")
    texts = {}
    for lang, text in value.items():
        if lang not in LANGUAGES:
            raise LineFileError(f"{at}: unknown language {lang!r}")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            raise LineFileError(f"{at}.{lang}: a text of 1-{MAX_TEXT} characters")
        texts[lang] = text.strip()
    missing = [lang for lang in languages if lang not in texts]
    if missing:
        raise LineFileError(f"{at}: missing {', '.join(missing)} (the line answers in it)")
    return texts


def _emergency(value: Any, languages: list[str], at: str) -> dict[str, Any]:
    # What a caller in danger sees: there must be a number to call and words for it.
    if not isinstance(value, dict):
        raise LineFileError(f"{at}: expected `numbers` and `text`")
    numbers = value.get("numbers")
    if not isinstance(numbers, list) or not numbers:
        raise LineFileError(f"{at}.numbers: at least one number to call")
    checked = []
    for n, entry in enumerate(numbers):
        where = f"{at}.numbers[{n}]"
        if not isinstance(entry, dict):
            raise LineFileError(f"{where}: expected `label` and `number`")
        number = entry.get("number")
        if isinstance(number, int) and not isinstance(number, bool):
            number = str(number)  # YAML reads an unquoted 112 as a number
        if not isinstance(number, str) or not re.fullmatch(r"\+?[0-9][0-9 -]{1,19}", number):
            raise LineFileError(f"{where}.number: digits, spaces or '-', optionally after '+'")
        checked.append(
            {"label": _texts(entry.get("label"), languages, f"{where}.label"), "number": number}
        )
    return {"numbers": checked, "text": _texts(value.get("text"), languages, f"{at}.text")}


def _exit_url(value: Any, at: str) -> str:
    parts = urlsplit(value) if isinstance(value, str) else None
    local = parts is not None and parts.hostname in ("localhost", "127.0.0.1")
    if parts is None or not parts.netloc or not (parts.scheme == "https" or local):
        raise LineFileError(f"{at}: an https:// address (where quick exit leads)")
    return str(value)


def export_lines(lines: list[Line]) -> str:
    """The file `parse_line_file` reads, for the given lines."""
    return yaml.safe_dump(
        {"lines": [line.public() for line in lines]}, allow_unicode=True, sort_keys=False
    )
