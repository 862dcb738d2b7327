"""Counsellor-facing explanations of triage evidence in Swedish, Danish and English.

The engine explains itself in English (`Evidence.reason`, `Assessment.reasons`);
the console shows the explanation in the counsellor's chosen language. This is
presentation only: the table (`lexicons/explain.toml`) is read once, and looking
a text up never changes what the engine decided.

```python
explain = default_explanations()
explain.for_evidence(evidence, "sv")      # "uttrycker en önskan eller avsikt att ta sitt liv"
explain.for_rule("combo.overdose_taken", "da")
explain.for_effect("idiom", "sv")         # "bildligt uttryck"
```

A text missing in the asked language falls back to English, then to the engine's
own reason (or the given default).
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from triage.model import Evidence

EXPLAIN_FILE = "explain.toml"
LANGUAGES: tuple[str, ...] = ("sv", "da", "en")
FALLBACK = "en"
KINDS: tuple[str, ...] = ("signal", "group", "rule", "effect")
EFFECTS: tuple[str, ...] = (
    "counted",
    "negated",
    "idiom",
    "past",
    "hypothetical",
    "levity",
    "benign_frame",
)

# One entry: language code -> text.
Texts = Mapping[str, str]


class ExplainError(ValueError):
    """The explanation table is malformed; the message names the entry."""


def group_key(rule_id: str) -> str:
    """The group id of an evidence rule id without its language.

    `sv.means.hoarded#2` -> `means.hoarded`; other ids (`semantic.nearest`) as they are.
    """
    group_id = rule_id.split("#", 1)[0]
    lang, dot, rest = group_id.partition(".")
    return rest if dot and lang in LANGUAGES else group_id


@dataclass(frozen=True)
class Explanations:
    """The table of `explain.toml`: per kind (`signal`, `group`, `rule`, `effect`)
    a map from key to {language: text}."""

    signal: Mapping[str, Texts]
    group: Mapping[str, Texts]
    rule: Mapping[str, Texts]
    effect: Mapping[str, Texts]

    def text(self, kind: str, key: str, lang: str | None) -> str | None:
        """The text of `key` in `lang`, else in English; None when there is none."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        entry: Texts | None = getattr(self, kind).get(key)
        if entry is None:
            return None
        return entry.get(lang or FALLBACK) or entry.get(FALLBACK) or None

    def for_rule(self, rule_id: str, lang: str | None, default: str = "") -> str:
        """A combination rule (`combo.…`) or `semantic.nearest` in `lang`."""
        return self.text("rule", rule_id, lang) or default

    def for_effect(self, effect: str, lang: str | None) -> str:
        """What an `Evidence.effect` means; the effect's own name when unknown."""
        return self.text("effect", effect, lang) or effect

    def for_evidence(self, evidence: Evidence | Mapping[str, object], lang: str | None) -> str:
        """What one evidence item (an `Evidence` or its `to_json()`) means, in `lang`.

        Looked up by the exact rule (the semantic layer's), then by the group (for
        groups narrower than their signal), then by the signal; else the engine's
        own `reason`.
        """
        if isinstance(evidence, Evidence):
            rule_id, signal, reason = evidence.rule_id, evidence.signal, evidence.reason
        else:
            rule_id = str(evidence.get("rule_id") or "")
            signal = str(evidence.get("signal") or "")
            reason = str(evidence.get("reason") or "")
        return (
            self.text("rule", rule_id, lang)
            or self.text("group", group_key(rule_id), lang)
            or self.text("signal", signal, lang)
            or reason
        )

    def to_json(self) -> dict[str, dict[str, dict[str, str]]]:
        """The whole table, JSON-ready (what the console fetches)."""
        return {
            kind: {key: dict(texts) for key, texts in getattr(self, kind).items()} for kind in KINDS
        }


def _entries(raw: object, kind: str, where: str) -> Mapping[str, Texts]:
    if raw is None:
        return MappingProxyType({})
    if not isinstance(raw, dict):
        raise ExplainError(f"{where}: [{kind}] must be a table")
    entries: dict[str, Texts] = {}
    for key, texts in raw.items():
        name = f"{where}: {kind}.{key}"
        if not isinstance(texts, dict):
            raise ExplainError(f"{name} must be a table of languages")
        unknown = set(texts) - set(LANGUAGES)
        if unknown:
            raise ExplainError(f"{name}: unknown languages {sorted(unknown)}")
        for lang, text in texts.items():
            if not isinstance(text, str) or not text.strip():
                raise ExplainError(f"{name}.{lang} must be a non-empty string")
        if FALLBACK not in texts:
            raise ExplainError(f"{name} has no {FALLBACK!r} text")
        entries[str(key)] = MappingProxyType({str(k): str(v).strip() for k, v in texts.items()})
    return MappingProxyType(entries)


def _default_path() -> Path:
    return Path(str(resources.files("triage").joinpath("lexicons", EXPLAIN_FILE)))


def load_explanations(path: Path | None = None) -> Explanations:
    """Read the explanation table (the packaged `lexicons/explain.toml` by default)."""
    source = path if path is not None else _default_path()
    with source.open("rb") as handle:
        data = tomllib.load(handle)
    unknown = set(data) - set(KINDS)
    if unknown:
        raise ExplainError(f"{source.name}: unknown sections {sorted(unknown)}")
    return Explanations(**{kind: _entries(data.get(kind), kind, source.name) for kind in KINDS})


@functools.cache
def default_explanations() -> Explanations:
    """The packaged table, read on first use and then shared (it never changes)."""
    return load_explanations()
