"""The triage engine: one message (plus earlier ones) in, an explained Assessment out.

Pure by design (docs/triage.md, STYLE.md §1): no I/O at assessment time, no clock,
no module state. `load_engine()` reads the lexicon files once; `Engine.assess` only
looks things up in the tables compiled from them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from itertools import accumulate, compress
from operator import itemgetter, not_
from pathlib import Path
from typing import NamedTuple

from triage.lexicon import Combo, Lexicon, Match, Pattern, Starts, load_lexicon
from triage.model import CATEGORIES, Assessment, Evidence, ExplainedOnDemand, RiskTier
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
# Shared calm assessments, one per `lang` argument seen; the bound only guards
# against a client inventing language codes.
CALM_MEMO_MAX = 64
# `RiskTier.label` computes a string on every call; reasons need it per hit.
_LABELS: tuple[str, ...] = tuple(tier.label for tier in RiskTier)
_NO_FRAMES: frozenset[str] = frozenset()
_NO_HITS: tuple[_Hit, ...] = ()
_PATTERN = itemgetter(0)
_START = itemgetter(1)
_END = itemgetter(2)
_SIGNAL = itemgetter(8)
_LANG = itemgetter(9)
# Categories in their documented order, for sorting with a C-level key.
_CATEGORY_RANK = {category: rank for rank, category in enumerate(CATEGORIES)}


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
    lang: str


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
        self._token_singles: dict[str, Starts | None] = {}
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
        self._calm_by_lang: dict[str | None, Assessment] = {}
        # Per pattern, what deciding a match's effect reads, unpacked in one step.
        self._effect_info = tuple(
            (
                pattern,
                pattern.group.signal,
                pattern.group.lang,
                pattern.group.tier,
                # A negated suicide/self-harm statement of medium or more counts as low.
                pattern.group.category in ("suicide", "self_harm")
                and pattern.group.tier >= RiskTier.MEDIUM,
                "hyperbole" in pattern.group.flags,
                "past_sensitive" in pattern.group.flags,
                "hypothetical_immune" in pattern.group.flags,
            )
            for pattern in lexicon.patterns
        )
        # Per pattern, what removing duplicate matches reads: signal, and whether tiered.
        self._dedup_info = tuple(
            (pattern.group.signal, pattern.group.tier > RiskTier.NONE)
            for pattern in lexicon.patterns
        )
        # Per combination rule, its slots as the hits that can fill them are found:
        # a one-signal slot by that signal, a wider slot by its set.
        self._combo_slots: tuple[tuple[str | frozenset[str], ...], ...] = tuple(
            tuple(next(iter(slot)) if len(slot) == 1 else slot for slot in combo.slots)
            for combo in lexicon.combos
        )
        # Where a negation cue's reach ends, looking back from a match.
        self._scope_ends = lexicon.clause_breaks | {SENTENCE_BREAK, CLAUSE_BREAK}

    def clear_memos(self) -> None:
        """Forget every memoised lookup (results never depend on them); the benchmark
        uses this to measure without the help of repeated words."""
        self._token_keys.clear()
        self._token_singles.clear()
        self._quiet.clear()
        self._combos_for.clear()
        self._calm_by_lang.clear()

    def assess(self, text: str, lang: str | None = None, context: Sequence[str] = ()) -> Assessment:
        """Assess `text`; `lang` is the caller's chosen language (a hint only) and
        `context` the same caller's earlier messages, oldest first.

        Tier, score, categories, language and rules are decided here; the evidence
        and reasons are built from the same hits on first access (see
        `ExplainedOnDemand`), so they are exactly what an eager build would give.
        """
        context_frames = _NO_FRAMES
        earlier: list[_Analysis] = []
        if context:
            context = tuple(context)  # the explanation is built later: keep what was seen
            earlier = [self._analyse(message, i, _NO_FRAMES) for i, message in enumerate(context)]
            for analysis in earlier:
                if analysis.frames:
                    context_frames = context_frames | analysis.frames
        current = self._analyse(text, None, context_frames)
        hits = current.hits
        if not hits and not any(a.hits for a in earlier):
            # Most messages: nothing matched anywhere, so nothing to weigh or explain.
            return self._calm(lang)

        tier = RiskTier.NONE
        weight_sum = 0.0
        categories: set[str] = set()
        language = lang or self._detect_language(current)
        counted: list[_Hit] = []
        for hit in hits:
            hit_tier = hit.tier
            if hit_tier > tier:
                tier = hit_tier
            if hit.effect == COUNTED:
                counted.append(hit)
                group = hit.pattern.group
                if language is None or language == group.lang:
                    weight_sum += group.weight
                else:
                    weight_sum += group.weight * OTHER_LANGUAGE_WEIGHT
                if hit_tier >= CATEGORY_MIN_TIER and group.category:
                    categories.add(group.category)

        fired: list[tuple[Combo, list[_Hit]]] = []
        current_signals = frozenset(map(_SIGNAL, counted))
        if earlier:
            earlier_hits = [h for a in earlier for h in a.hits if h.effect == COUNTED]
            all_signals = current_signals.union([h.signal for h in earlier_hits])
            counted.extend(earlier_hits)
        else:
            all_signals = current_signals
        candidates = self._combo_candidates(current_signals, all_signals)
        if candidates:
            combos = self.lexicon.combos
            combo_slots = self._combo_slots
            by_signal = _by_signal(counted)
            for number in candidates:
                combo = combos[number]
                used = _combo_hits(combo_slots[number], counted, by_signal)
                if used is None:
                    continue
                fired.append((combo, used))
                if combo.tier > tier:
                    tier = combo.tier
                weight_sum += combo.weight
                categories.update(combo.categories)

        floor_from: RiskTier | None = None
        if earlier:
            context_tier = max(self._tier_alone(a) for a in earlier)
            # Risk raised earlier in the conversation does not vanish because the
            # latest message is calm: keep the tier one step below the earlier peak.
            floor = RiskTier(max(RiskTier.NONE, context_tier - 1))
            if floor > tier:
                tier = floor
                floor_from = context_tier
                weight_sum += 1.0

        return ExplainedOnDemand.create(
            tier,
            1.0 - math.exp(-weight_sum / SCORE_SCALE),
            tuple(sorted(categories, key=_CATEGORY_RANK.__getitem__))
            if categories and tier >= CATEGORY_MIN_TIER
            else (),
            language,
            tuple([combo.id for combo, _ in fired]),
            _Explanation(text, context, hits, fired, floor_from),
        )

    def _calm(self, lang: str | None) -> Assessment:
        """The assessment of a message with no match anywhere; immutable, so one per
        `lang` is shared (callers send a handful of language codes)."""
        calm = self._calm_by_lang.get(lang)
        if calm is None:
            calm = Assessment(
                tier=RiskTier.NONE,
                score=0.0,
                categories=(),
                evidence=(),
                reasons=(NO_SIGNAL_REASON,),
                language=lang or None,
                rules_fired=(),
            )
            if len(self._calm_by_lang) < CALM_MEMO_MAX:
                self._calm_by_lang[lang] = calm
        return calm

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
        candidates = self._combo_candidates(signals, signals)
        if candidates:
            combos = self.lexicon.combos
            by_signal = _by_signal(counted)
            for number in candidates:
                combo = combos[number]
                if (
                    combo.tier > tier
                    and _combo_hits(self._combo_slots[number], counted, by_signal) is not None
                ):
                    tier = combo.tier
        return tier

    def _detect_language(self, analysis: _Analysis) -> str | None:
        langs: list[str] = list(map(_LANG, analysis.hits))
        if not langs:
            return None
        # The language with most matches; on a tie, the first in alphabetical order.
        return max(sorted(set(langs)), key=langs.count)

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
        is_modifier = list(map(self._modifier_patterns.__contains__, map(_PATTERN, matches)))
        if True in is_modifier:
            modifiers = _modifiers(
                lexicon, list(compress(matches, is_modifier)), keys, sentence_of, extra_frames
            )
            signal_matches = list(compress(matches, map(not_, is_modifier)))
        else:
            modifiers = (
                self._no_modifiers
                if not extra_frames
                else _Modifiers((), frozenset(), frozenset(), False, False, False, extra_frames)
            )
            signal_matches = matches
        hits: list[_Hit] = []
        effect_info = self._effect_info
        cues = lexicon.negation_cues
        negation_after = lexicon.negation_after
        scope_ends = self._scope_ends
        idioms = modifiers.idioms
        frames = modifiers.frames
        levity = modifiers.levity and not modifiers.serious
        sentence_scoped = modifiers.past_sentences or modifiers.hypothetical_sentences
        size = len(keys)
        for pid, start, end in _signal_matches(self._dedup_info, signal_matches):
            pattern, signal, lang, tier, negated_low, hyperbole, past_sensitive, immune = (
                effect_info[pid]
            )
            # The effect of the match: the first of these that applies (docs/triage.md,
            # "Precision rules"); written out here because it runs for every match.
            effect = COUNTED
            for idiom_start, idiom_end in idioms:
                if idiom_start <= start and end <= idiom_end:
                    effect = "idiom"
                    tier = RiskTier.NONE
                    break
            else:
                negated = False
                window = keys[start - NEGATION_WINDOW if start > NEGATION_WINDOW else 0 : start]
                # Most matches have no cue nearby: one C-level test, then the exact walk.
                if not cues.isdisjoint(window):
                    for key in reversed(window):
                        if key in scope_ends:
                            break
                        if key in cues:
                            negated = True
                            break
                # Scandinavian word order puts the negation after the verb: "han slår
                # mig inte".
                if negated or (end < size and keys[end] in negation_after):
                    # Saying "I will NOT kill myself" still puts the subject on the
                    # table: a counsellor reads that as distress, not as no risk at all.
                    effect = "negated"
                    tier = RiskTier.LOW if negated_low else RiskTier.NONE
                elif signal in frames:
                    # "I'm gonna kill him" about a game partner is frustration, not a threat.
                    effect = "benign_frame"
                    tier = min(tier, RiskTier.LOW)
                elif hyperbole and levity:
                    effect = "levity"
                    tier = min(tier, RiskTier.LOW)
                elif sentence_scoped:
                    sentence = sentence_of[start]
                    if past_sensitive and sentence in modifiers.past_sentences:
                        effect = "past"
                        tier = min(tier, RiskTier.LOW if modifiers.recovery else RiskTier.MEDIUM)
                    elif sentence in modifiers.hypothetical_sentences and not immune:
                        effect = "hypothetical"
                        tier = min(tier, RiskTier.LOW)
            hits.append(
                _Hit(
                    pattern,
                    start,
                    end,
                    bounds[2 * start],
                    bounds[2 * end - 1],
                    effect,
                    tier,
                    source,
                    signal,
                    lang,
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
    patterns = lexicon.patterns
    for pid, start, end in matches:
        group = patterns[pid].group
        kind = group.kind
        if kind == "idiom":
            if start > 0 and keys[start - 1] in group.not_after:
                continue
            idioms.append((start, end))
        elif kind == "past":
            past.add(sentence_of[start])
        elif kind == "hypothetical":
            hypothetical.add(sentence_of[start])
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


def _signal_matches(
    dedup_info: Sequence[tuple[str, bool]], signal_matches: list[Match]
) -> list[Match]:
    """Signal matches with duplicates removed: per signal, a match inside a longer
    match of the same signal adds nothing; nor does a tiered reading of a few words
    inside a longer tiered phrase ("hit me" inside "if a bus hit me" is not
    violence). Untiered ingredients (means, times) stay: rules need them.
    `dedup_info[pid]` is the pattern's (signal, tiered)."""
    if len(signal_matches) < 2:
        return signal_matches
    # By first token, longer first at the same token, else as found: two stable
    # C-level sorts instead of a Python key function.
    ordered = sorted(signal_matches, key=_END, reverse=True)
    ordered.sort(key=_START)
    kept: list[Match] = []
    kept_spans: list[tuple[int, int, str, bool]] = []
    reach = -1  # the furthest end of a kept match
    for match in ordered:
        pid, start, end = match
        signal, tiered = dedup_info[pid]
        if end > reach:
            # Nothing kept reaches this far, so nothing kept contains it.
            reach = end
            kept.append(match)
            kept_spans.append((start, end, signal, tiered))
            continue
        for outer_start, outer_end, outer_signal, outer_tiered in kept_spans:
            # `ordered` is by start, so every kept match starts at or before this one.
            if end <= outer_end and outer_start <= start:
                if outer_signal == signal:
                    break
                if outer_end - outer_start > end - start and outer_tiered and tiered:
                    break
        else:
            kept.append(match)
            kept_spans.append((start, end, signal, tiered))
    return kept


def _slots_met(combo: Combo, signals: frozenset[str] | set[str]) -> bool:
    return all(not slot.isdisjoint(signals) for slot in combo.slots)


def _by_signal(hits: Sequence[_Hit]) -> dict[str, list[_Hit]]:
    found: dict[str, list[_Hit]] = {}
    for hit in hits:
        found.setdefault(hit.signal, []).append(hit)
    return found


def _combo_hits(
    slots: tuple[str | frozenset[str], ...],
    counted: Sequence[_Hit],
    by_signal: dict[str, list[_Hit]],
) -> list[_Hit] | None:
    """Counted hits that satisfy every slot of a combination rule, one per slot and
    sharing no words (the insulin in "stop taking my insulin" is part of the method,
    not extra means), or None. At least one must come from the current message, so
    that a combination found entirely in earlier messages does not fire on every new
    one. `by_signal` is `counted` by signal, each list in the order of `counted`.
    """
    options: list[Sequence[_Hit]] = [
        by_signal.get(slot, _NO_HITS)
        if isinstance(slot, str)
        else [h for h in counted if h.signal in slot]
        for slot in slots
    ]
    if not all(options):
        return None
    if len(options) == 2:
        # The usual shape, written out: the first pair in search order that does
        # not overlap and involves the current message.
        for first in options[0]:
            for second in options[1]:
                if (
                    first.source == second.source
                    and first.start < second.end
                    and second.start < first.end
                ):
                    continue
                if first.source is None or second.source is None:
                    return [first, second]
        return None
    return _choose(options, [])


def _choose(options: Sequence[Sequence[_Hit]], used: list[_Hit]) -> list[_Hit] | None:
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


class _Explanation:
    """Everything `assess` decided, kept to build the evidence and reasons on demand
    (`ExplainedOnDemand`); the output is what an eager build gave, in the same order."""

    __slots__ = ("_context", "_fired", "_floor_from", "_hits", "_text")

    def __init__(
        self,
        text: str,
        context: Sequence[str],
        hits: tuple[_Hit, ...],
        fired: list[tuple[Combo, list[_Hit]]],
        floor_from: RiskTier | None,
    ) -> None:
        self._text = text
        self._context = context
        self._hits = hits
        self._fired = fired
        self._floor_from = floor_from

    def build(self) -> tuple[tuple[Evidence, ...], tuple[str, ...]]:
        text = self._text
        context = self._context
        reasons: list[str] = []
        for hit in self._hits:
            group = hit.pattern.group
            hit_tier = hit.tier
            if hit.effect == COUNTED:
                if hit_tier:
                    reasons.append(
                        f"{_LABELS[hit_tier]}: {group.reason} {_quote(text, hit)} [{group.id}]"
                    )
            else:
                reasons.append(
                    f"discounted ({hit.effect}, counts as {_LABELS[hit_tier]}): {group.reason} "
                    f"{_quote(text, hit)} [{group.id}]"
                )
        context_hits: dict[tuple[int | None, int, int], _Hit] = {}
        for combo, used in self._fired:
            from_context = [h for h in used if h.source is not None]
            for h in from_context:
                context_hits[(h.source, h.start, h.end)] = h
            note = " (with an earlier message)" if from_context else ""
            parts = ", ".join(f"{h.signal} {_quote(_text_of(h, text, context), h)}" for h in used)
            reasons.append(f"{_LABELS[combo.tier]}: {combo.reason}{note}: {parts} [{combo.id}]")
        floor_from = self._floor_from
        if floor_from is not None:
            floor = RiskTier(floor_from - 1)
            reasons.append(
                f"{floor.label}: an earlier message in this conversation was {floor_from.label}"
            )
        evidence = [_evidence(h, text) for h in self._hits]
        evidence.extend(
            _evidence(h, context[h.source]) for h in context_hits.values() if h.source is not None
        )
        if not reasons:
            reasons.append(NO_SIGNAL_REASON)
        return tuple(evidence), tuple(reasons)


def _text_of(hit: _Hit, text: str, context: Sequence[str]) -> str:
    return text if hit.source is None else context[hit.source]


def _quote(text: str, hit: _Hit) -> str:
    return f"“{text[hit.start : hit.end]}”"


def _evidence(hit: _Hit, text: str) -> Evidence:
    pattern, _, _, start, end, effect, tier, source, signal, _ = hit
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
