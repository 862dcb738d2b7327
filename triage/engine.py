"""The triage engine: one message (plus earlier ones) in, an explained Assessment out.

Pure by design (docs/triage.md, STYLE.md §1): no I/O at assessment time, no clock,
no module state. `load_engine()` reads the lexicon files once; `Engine.assess` only
looks things up in the tables compiled from them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from itertools import accumulate
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

from triage.lexicon import Combo, Group, Lexicon, Match, Pattern, load_lexicon
from triage.model import CATEGORIES, Assessment, Evidence, RiskTier
from triage.normalise import CLAUSE_BREAK, SENTENCE_BREAK, TOKEN_SPLIT_RE, fold_text

# How far back a negation cue reaches ("jag tänker INTE ta livet av mig"): three
# tokens covers an auxiliary and an adverb between cue and verb; a clause break
# (comma, "men", "but") ends the scope earlier.
NEGATION_WINDOW = 3
# Matches from the caller's chosen language count fully towards the score; the
# other lexicons still run (short Scandinavian messages are ambiguous) but count a
# little less. Tiers are never weighted: a Danish means+time message written to the
# Swedish line is just as imminent.
OTHER_LANGUAGE_WEIGHT = 0.8
# Scale of the score: a sum of weights of 4 (one clear high signal) maps to ~0.63.
SCORE_SCALE = 4.0
# Categories are reported for what actually worries: medium and above.
CATEGORY_MIN_TIER = RiskTier.MEDIUM
# Distinct tokens whose lookup an engine remembers. Chat vocabulary is heavily
# skewed (a few thousand words make up nearly every message), so this holds a busy
# line's working set many times over; an entry is a few hundred bytes, so the memo
# stays in the tens of megabytes. When full it is simply emptied: that costs one
# round of recomputation and never changes a result.
TOKEN_MEMO_MAX = 100_000

COUNTED = "counted"
# Distinct signal sets whose candidate combination rules are remembered; a message
# has a handful of signals out of ~60, and real traffic repeats a few hundred sets.
COMBO_MEMO_MAX = 10_000
NO_SIGNAL_REASON = "none: no risk or distress signal found"
# `RiskTier.label` computes a string on every call; reasons need it per hit.
_LABELS: tuple[str, ...] = tuple(tier.label for tier in RiskTier)
_NO_FRAMES: frozenset[str] = frozenset()
_START = itemgetter(1)
_END = itemgetter(2)


class _Hit(NamedTuple):
    # A tuple, not a frozen dataclass: cheaper to build, and a long message has many.
    pattern: Pattern
    start_token: int
    end_token: int
    start: int
    end: int
    effect: str
    tier: RiskTier
    source: int | None
    signal: str


class _Analysis(NamedTuple):
    hits: tuple[_Hit, ...]
    frames: frozenset[str]


class _Modifiers(NamedTuple):
    idioms: tuple[tuple[int, int], ...]
    past_sentences: frozenset[int]
    hypothetical_sentences: frozenset[int]
    recovery: bool
    levity: bool
    serious: bool
    frames: frozenset[str]


class Engine:
    """A loaded lexicon and the rules that turn its matches into an Assessment.

    The engine memoises per-token lookups (key, fuzzy correction, candidate
    patterns). The memo is private to the instance, bounded, and a function of the
    token alone, so it never changes what `assess` returns.
    """

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        # Memo: folded token -> its key (normalised, fuzzy-corrected) and the
        # patterns that may start at it (None for most tokens).
        self._token_keys: dict[str, str] = {}
        self._token_singles: dict[str, tuple[int, ...] | None] = {}
        # Tokens no pattern starts with: a message made only of these (many chat
        # messages) has no match, which one C-level set test establishes.
        self._quiet: set[str] = set()
        # Memo: (current signals, all signals) -> combination rules worth trying.
        self._combos_for: dict[tuple[frozenset[str], frozenset[str]], tuple[int, ...]] = {}
        self._no_modifiers = _Modifiers(
            (), frozenset(), frozenset(), False, False, False, _NO_FRAMES
        )
        self._modifier_patterns = frozenset(
            pid for pid, pattern in enumerate(lexicon.patterns) if pattern.group.kind != "signal"
        )
        self._empty = _Analysis((), _NO_FRAMES)

    def assess(self, text: str, lang: str | None = None, context: Sequence[str] = ()) -> Assessment:
        """Assess `text`; `lang` is the caller's chosen language (a hint only) and
        `context` the same caller's earlier messages, oldest first."""
        earlier = [self._analyse(message, i, _NO_FRAMES) for i, message in enumerate(context)]
        context_frames = _NO_FRAMES
        for analysis in earlier:
            if analysis.frames:
                context_frames = context_frames | analysis.frames
        current = self._analyse(text, None, context_frames)
        if not current.hits and not any(a.hits for a in earlier):
            # Most messages: nothing matched anywhere, so nothing to weigh or explain.
            return Assessment(
                tier=RiskTier.NONE,
                score=0.0,
                categories=(),
                evidence=(),
                reasons=(NO_SIGNAL_REASON,),
                language=lang or None,
                rules_fired=(),
            )

        reasons: list[str] = []
        rules_fired: list[str] = []
        tier = RiskTier.NONE
        weight_sum = 0.0
        categories: set[str] = set()
        language = lang or self._detect_language(current)
        for hit in current.hits:
            group = hit.pattern.group
            hit_tier = hit.tier
            if hit.effect == COUNTED:
                if hit_tier > tier:
                    tier = hit_tier
                share = 1.0 if language is None or language == group.lang else OTHER_LANGUAGE_WEIGHT
                weight_sum += group.weight * share
                if hit_tier >= CATEGORY_MIN_TIER and group.category:
                    categories.add(group.category)
                if hit_tier:
                    reasons.append(
                        f"{_LABELS[hit_tier]}: {group.reason} {_quote(text, hit)} [{group.id}]"
                    )
            else:
                if hit_tier > tier:
                    tier = hit_tier
                reasons.append(
                    f"discounted ({hit.effect}, counts as {_LABELS[hit_tier]}): {group.reason} "
                    f"{_quote(text, hit)} [{group.id}]"
                )

        context_hits: dict[tuple[int | None, int, int], _Hit] = {}
        earlier_hits = [h for a in earlier for h in a.hits if h.effect == COUNTED]
        counted = [h for h in current.hits if h.effect == COUNTED]
        current_signals = frozenset([h.signal for h in counted])
        all_signals = current_signals.union([h.signal for h in earlier_hits])
        counted.extend(earlier_hits)
        combos = self.lexicon.combos
        for number in self._combo_candidates(current_signals, all_signals):
            combo = combos[number]
            used = _combo_hits(combo, counted)
            if used is None:
                continue
            rules_fired.append(combo.id)
            if combo.tier > tier:
                tier = combo.tier
            weight_sum += combo.weight
            categories.update(combo.categories)
            from_context = [h for h in used if h.source is not None]
            for h in from_context:
                context_hits[(h.source, h.start, h.end)] = h
            note = " (with an earlier message)" if from_context else ""
            parts = ", ".join(f"{h.signal} {_quote(_text_of(h, text, context), h)}" for h in used)
            reasons.append(f"{_LABELS[combo.tier]}: {combo.reason}{note}: {parts} [{combo.id}]")

        if earlier:
            context_tier = max(self._tier_alone(a) for a in earlier)
            # Risk raised earlier in the conversation does not vanish because the
            # latest message is calm: keep the tier one step below the earlier peak.
            floor = RiskTier(max(RiskTier.NONE, context_tier - 1))
            if floor > tier:
                tier = floor
                reasons.append(
                    f"{floor.label}: an earlier message in this conversation was "
                    f"{context_tier.label}"
                )
                weight_sum += 1.0

        if tier < CATEGORY_MIN_TIER:
            categories.clear()
        evidence = [_evidence(h, text) for h in current.hits]
        evidence.extend(
            _evidence(h, context[h.source]) for h in context_hits.values() if h.source is not None
        )
        if not reasons:
            reasons.append(NO_SIGNAL_REASON)
        return Assessment(
            tier=tier,
            score=1.0 - math.exp(-weight_sum / SCORE_SCALE),
            categories=tuple(c for c in CATEGORIES if c in categories) if categories else (),
            evidence=tuple(evidence),
            reasons=tuple(reasons),
            language=language,
            rules_fired=tuple(rules_fired),
        )

    def _combo_candidates(
        self, current_signals: frozenset[str], all_signals: frozenset[str]
    ) -> tuple[int, ...]:
        """Combination rules (numbers, in order) that involve a signal of the current
        message and whose every slot some signal meets: the only ones that can fire.
        A function of the two sets alone, and few distinct sets occur, so memoised."""
        memo_key = (current_signals, all_signals)
        found = self._combos_for.get(memo_key)
        if found is None:
            if len(self._combos_for) >= COMBO_MEMO_MAX:
                self._combos_for.clear()
            by_signal = self.lexicon.combos_by_signal
            combos = self.lexicon.combos
            involved = sorted({n for signal in current_signals for n in by_signal.get(signal, ())})
            found = tuple(n for n in involved if _slots_met(combos[n], all_signals))
            self._combos_for[memo_key] = found
        return found

    def _tier_alone(self, analysis: _Analysis) -> RiskTier:
        hits = analysis.hits
        if not hits:
            return RiskTier.NONE
        tier = max(h.tier for h in hits)
        counted = [h for h in hits if h.effect == COUNTED]
        signals = frozenset([h.signal for h in counted])
        combos = self.lexicon.combos
        for number in self._combo_candidates(signals, signals):
            combo = combos[number]
            if combo.tier > tier and _combo_hits(combo, counted) is not None:
                tier = combo.tier
        return tier

    def _detect_language(self, analysis: _Analysis) -> str | None:
        counts: dict[str, int] = {}
        for hit in analysis.hits:
            lang = hit.pattern.group.lang
            counts[lang] = counts.get(lang, 0) + 1
        if not counts:
            return None
        return max(sorted(counts), key=lambda lang: counts[lang])

    def _learn(self, tokens: Sequence[str]) -> None:
        """Memoise the lookup of every token in `tokens` not yet known."""
        token_keys = self._token_keys
        token_singles = self._token_singles
        if len(token_keys) + len(tokens) > TOKEN_MEMO_MAX:
            token_keys.clear()
            token_singles.clear()
            self._quiet.clear()
        lexicon = self.lexicon
        for token in tokens:
            if token in token_keys:
                continue
            key, singles = lexicon.lookup(token)
            token_keys[token] = key
            token_singles[token] = singles
            if singles is None and key not in lexicon.pair_first:
                self._quiet.add(token)

    def _analyse(self, text: str, source: int | None, extra_frames: frozenset[str]) -> _Analysis:
        lexicon = self.lexicon
        folded = fold_text(text, lexicon.fold, lexicon.ascii_fold, lexicon.latin1_fold)
        # [gap, token, gap, token, ..., gap]
        parts = TOKEN_SPLIT_RE.split(folded)
        tokens = parts[1::2]
        if self._quiet.issuperset(tokens):
            return self._empty
        keys: list[str] = list(map(self._token_keys.get, tokens))  # type: ignore[arg-type]
        if None in keys:
            self._learn(tokens)
            keys = list(map(self._token_keys.get, tokens))  # type: ignore[arg-type]
        matches = lexicon.scan_singles(keys, list(map(self._token_singles.get, tokens)))
        if not matches:
            return self._empty
        # Offsets: token i spans bounds[2i]..bounds[2i+1] in the folded text, which is
        # the original text's offsets (folding is one character for one).
        bounds = list(accumulate(map(len, parts)))
        sentence_of = _SentenceIds(keys)
        modifier_patterns = self._modifier_patterns
        modifier_matches = [m for m in matches if m.pattern in modifier_patterns]
        if modifier_matches:
            modifiers = _modifiers(lexicon, modifier_matches, keys, sentence_of, extra_frames)
            signal_matches = [m for m in matches if m.pattern not in modifier_patterns]
        else:
            modifiers = (
                self._no_modifiers
                if not extra_frames
                else _Modifiers((), frozenset(), frozenset(), False, False, False, extra_frames)
            )
            signal_matches = matches
        hits: list[_Hit] = []
        patterns = lexicon.patterns
        for match in _signal_matches(lexicon, signal_matches):
            pattern = patterns[match.pattern]
            effect, tier = _effect(lexicon, pattern, match, keys, sentence_of, modifiers)
            hits.append(
                _Hit(
                    pattern,
                    match.start,
                    match.end,
                    bounds[2 * match.start],
                    bounds[2 * match.end - 1],
                    effect,
                    tier,
                    source,
                    pattern.group.signal,
                )
            )
        return _Analysis(tuple(hits), modifiers.frames)


class _SentenceIds:
    """Sentence number of a token, counted only when a sentence-scoped modifier
    (past, hypothetical) is present: most messages never ask."""

    __slots__ = ("_ids", "_keys")

    def __init__(self, keys: Sequence[str]) -> None:
        self._keys = keys
        self._ids: list[int] | None = None

    def __getitem__(self, index: int) -> int:
        ids = self._ids
        if ids is None:
            ids = self._ids = _sentence_ids(self._keys)
        return ids[index]


def _sentence_ids(keys: Sequence[str]) -> list[int]:
    ids: list[int] = []
    sentence = 0
    for key in keys:
        ids.append(sentence)
        if key == SENTENCE_BREAK:
            sentence += 1
    return ids


def _modifiers(
    lexicon: Lexicon,
    matches: Sequence[Match],
    keys: Sequence[str],
    sentence_of: _SentenceIds,
    extra_frames: frozenset[str],
) -> _Modifiers:
    idioms: list[tuple[int, int]] = []
    past: set[int] = set()
    hypothetical: set[int] = set()
    recovery = levity = serious = False
    frames: set[str] = set(extra_frames)
    for match in matches:
        group = lexicon.patterns[match.pattern].group
        kind = group.kind
        if kind == "idiom":
            if match.start > 0 and keys[match.start - 1] in group.not_after:
                continue
            idioms.append((match.start, match.end))
        elif kind == "past":
            past.add(sentence_of[match.start])
        elif kind == "hypothetical":
            hypothetical.add(sentence_of[match.start])
        elif kind == "recovery":
            recovery = True
        elif kind == "levity":
            levity = True
        elif kind == "serious":
            serious = True
        elif kind == "frame":
            frames |= group.suppresses
    return _Modifiers(
        idioms=tuple(idioms),
        past_sentences=frozenset(past),
        hypothetical_sentences=frozenset(hypothetical),
        recovery=recovery,
        levity=levity,
        serious=serious,
        frames=frozenset(frames),
    )


def _signal_matches(lexicon: Lexicon, signal_matches: list[Match]) -> list[Match]:
    """Signal matches with duplicates removed: per signal, a match inside a longer
    match of the same signal adds nothing; nor does a tiered reading of a few words
    inside a longer tiered phrase ("hit me" inside "if a bus hit me" is not
    violence). Untiered ingredients (means, times) stay: rules need them."""
    if len(signal_matches) < 2:
        return signal_matches
    # By first token, longer first at the same token, else as found: two stable
    # C-level sorts instead of a Python key function.
    ordered = sorted(signal_matches, key=_END, reverse=True)
    ordered.sort(key=_START)
    patterns = lexicon.patterns
    kept: list[Match] = []
    kept_groups: list[Group] = []
    reach = -1  # the furthest end of a kept match
    for match in ordered:
        pid, start, end = match
        group = patterns[pid].group
        if end > reach:
            # Nothing kept reaches this far, so nothing kept contains it.
            reach = end
            kept.append(match)
            kept_groups.append(group)
            continue
        for (_, outer_start, outer_end), outer_group in zip(kept, kept_groups, strict=True):
            # `ordered` is by start, so every kept match starts at or before this one.
            if end <= outer_end and outer_start <= start:
                if outer_group.signal == group.signal:
                    break
                if (
                    outer_end - outer_start > end - start
                    and outer_group.tier > RiskTier.NONE
                    and group.tier > RiskTier.NONE
                ):
                    break
        else:
            kept.append(match)
            kept_groups.append(group)
    return kept


def _negated(lexicon: Lexicon, match: Match, keys: Sequence[str]) -> bool:
    start = match.start
    window = keys[max(0, start - NEGATION_WINDOW) : start]
    cues = lexicon.negation_cues
    # Most matches have no cue nearby at all: one C-level test, then the exact walk.
    if not cues.isdisjoint(window):
        breaks = lexicon.clause_breaks
        for key in reversed(window):
            if key in (SENTENCE_BREAK, CLAUSE_BREAK) or key in breaks:
                break
            if key in cues:
                return True
    # Scandinavian word order puts the negation after the verb: "han slår mig inte".
    end = match.end
    return end < len(keys) and keys[end] in lexicon.negation_after


def _effect(
    lexicon: Lexicon,
    pattern: Pattern,
    match: Match,
    keys: Sequence[str],
    sentence_of: _SentenceIds,
    modifiers: _Modifiers,
) -> tuple[str, RiskTier]:
    group = pattern.group
    tier = group.tier
    for start, end in modifiers.idioms:
        if start <= match.start and match.end <= end:
            return "idiom", RiskTier.NONE
    if _negated(lexicon, match, keys):
        # Saying "I will NOT kill myself" still puts the subject on the table:
        # a counsellor reads that as distress, not as no risk at all.
        if group.category in ("suicide", "self_harm") and tier >= RiskTier.MEDIUM:
            return "negated", RiskTier.LOW
        return "negated", RiskTier.NONE
    if group.signal in modifiers.frames:
        # "I'm gonna kill him" about a game partner is frustration, not a threat.
        return "benign_frame", min(tier, RiskTier.LOW)
    if "hyperbole" in group.flags and modifiers.levity and not modifiers.serious:
        return "levity", min(tier, RiskTier.LOW)
    if not (modifiers.past_sentences or modifiers.hypothetical_sentences):
        return COUNTED, tier
    sentence = sentence_of[match.start]
    if "past_sensitive" in group.flags and sentence in modifiers.past_sentences:
        cap = RiskTier.LOW if modifiers.recovery else RiskTier.MEDIUM
        return "past", min(tier, cap)
    if sentence in modifiers.hypothetical_sentences and "hypothetical_immune" not in group.flags:
        return "hypothetical", min(tier, RiskTier.LOW)
    return COUNTED, tier


def _slots_met(combo: Combo, signals: frozenset[str] | set[str]) -> bool:
    return all(not slot.isdisjoint(signals) for slot in combo.slots)


def _combo_hits(combo: Combo, counted: Sequence[_Hit]) -> list[_Hit] | None:
    """Counted hits that satisfy every slot of `combo`, one per slot and sharing no
    words (the insulin in "stop taking my insulin" is part of the method, not extra
    means), or None. At least one must come from the current message, so that a
    combination found entirely in earlier messages does not fire on every new one.
    """
    options = [[h for h in counted if h.signal in slot] for slot in combo.slots]
    if not all(options):
        return None
    return _choose(options, [])


def _choose(options: list[list[_Hit]], used: list[_Hit]) -> list[_Hit] | None:
    # A tiny depth-first search: slots are few (at most three) and so are hits.
    if len(used) == len(options):
        return list(used) if any(h.source is None for h in used) else None
    for hit in options[len(used)]:
        if any(u.source == hit.source and u.start < hit.end and hit.start < u.end for u in used):
            continue
        used.append(hit)
        found = _choose(options, used)
        used.pop()
        if found is not None:
            return found
    return None


def _text_of(hit: _Hit, text: str, context: Sequence[str]) -> str:
    return text if hit.source is None else context[hit.source]


def _quote(text: str, hit: _Hit) -> str:
    return f"“{text[hit.start : hit.end]}”"


def _evidence(hit: _Hit, text: str) -> Evidence:
    pattern, _, _, start, end, effect, tier, source, signal = hit
    group = pattern.group
    # Positional: measurably cheaper than keywords for an 11-field frozen dataclass.
    # Order: start, end, text, rule_id, signal, category, tier, effect, reason, lang, source.
    return Evidence(
        start,
        end,
        text[start:end],
        pattern.rule_id,
        signal,
        group.category,
        tier,
        effect,
        group.reason,
        group.lang,
        source,
    )


def load_engine(directory: Path | None = None) -> Engine:
    """Read the lexicon files (the packaged ones unless `directory` is given) once."""
    return Engine(load_lexicon(directory))


@functools.cache
def default_engine() -> Engine:
    """The engine over the packaged lexicons, loaded on first use and then shared.

    The cache holds one Engine; neither it nor the engine's own per-token memos
    ever change what an assessment returns.
    """
    return load_engine()


def assess(text: str, lang: str | None = None, context: Sequence[str] = ()) -> Assessment:
    """Convenience: `default_engine().assess(text, lang, context)`."""
    return default_engine().assess(text, lang, tuple(context))
