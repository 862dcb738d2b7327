"""The triage engine: one message (plus earlier ones) in, an explained Assessment out.

Pure by design (docs/triage.md, STYLE.md §1): no I/O at assessment time, no clock,
no module state. `load_engine()` reads the lexicon files once; `Engine.assess` only
looks things up in the tables compiled from them.
"""

from __future__ import annotations

import functools
import math
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate, compress, count
from operator import add, itemgetter, not_
from pathlib import Path
from typing import NamedTuple

from triage.lexicon import Combo, Lexicon, Match, Pattern, Starts, load_lexicon
from triage.model import CATEGORIES, Assessment, Evidence, ExplainedOnDemand, RiskTier
from triage.normalise import CHUNK_SEPARATOR, CLAUSE_BREAK, SENTENCE_BREAK, fold_text, split_chunk

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
# Distinct space-separated chunks ("jag", "det,", "nu...") whose tokens and lookups an
# engine remembers, bounded and emptied like the token memo. Only chunks up to
# CHUNK_MEMO_MAX_CHARS long are remembered: a word with its punctuation, never a
# whole message (a long chunk is split again each time it is seen).
CHUNK_MEMO_MAX = 100_000
CHUNK_MEMO_MAX_CHARS = 32

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
_FIRST = itemgetter(0)
_START = itemgetter(1)
_END = itemgetter(2)
_SIGNAL = itemgetter(7)
_LANG = itemgetter(8)
# Categories in their documented order, for sorting with a C-level key.
_CATEGORY_RANK = {category: rank for rank, category in enumerate(CATEGORIES)}
_new_tuple = tuple.__new__


class _Hit(NamedTuple):
    # A tuple, not a frozen dataclass: cheaper to build, and a long message has many.
    # Tokens `start_token` up to `end_token` of its text; `spans` gives the offsets.
    pattern: Pattern
    start_token: int
    end_token: int
    spans: _Spans
    effect: str
    tier: RiskTier
    source: int | None
    signal: str
    lang: str


# Each token's start and end offset within its chunk.
_ChunkSpans = tuple[tuple[int, ...], tuple[int, ...]]


class _Spans:
    """Where the tokens of one analysed text are in it, worked out on first use (only
    an explanation needs character offsets; matching works on token numbers)."""

    __slots__ = ("_bases", "_chunks", "_spans", "_through")

    def __init__(self, chunks: list[str], spans: list[_ChunkSpans]) -> None:
        self._chunks = chunks
        self._spans = spans
        # Tokens in chunks 0..j (cumulative), and where chunk j starts in the text.
        self._through: list[int] = []
        self._bases: list[int] = []

    def char_span(self, start_token: int, end_token: int) -> tuple[int, int]:
        """Offsets in the text of tokens `start_token` up to (not including) `end_token`."""
        through = self._through
        if not through:
            through.extend(accumulate(map(len, map(_FIRST, self._spans))))
            # Chunk j starts after the j earlier chunks and the j spaces between them.
            self._bases.extend(map(add, accumulate(map(len, self._chunks), initial=0), count()))
        spans = self._spans
        bases = self._bases
        chunk = bisect_right(through, start_token)
        chunk_starts = spans[chunk][0]
        start = bases[chunk] + chunk_starts[start_token - through[chunk] + len(chunk_starts)]
        last = end_token - 1
        chunk = bisect_right(through, last)
        chunk_ends = spans[chunk][1]
        return start, bases[chunk] + chunk_ends[last - through[chunk] + len(chunk_ends)]


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
    patterns) and per-chunk tokenisation (the keys and offsets of the tokens between
    two spaces). The memos are private to the instance, bounded, and each entry is a
    function of its token or chunk alone, so they never change what `assess` returns.
    """

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        # Memo: folded token -> its key (normalised, fuzzy-corrected), and key -> the
        # patterns that may start at it (None for most keys).
        self._token_keys: dict[str, str] = {}
        self._key_starts: dict[str, Starts | None] = {}
        # Memo: chunk of folded text (between single spaces) -> its tokens' keys
        # joined by spaces (keys never contain white space), and the tokens' offsets
        # in the chunk. Every key of a remembered chunk is in `_key_starts`.
        self._chunk_keys: dict[str, str] = {}
        self._chunk_spans: dict[str, _ChunkSpans] = {}
        # Chunks whose tokens no pattern starts with: a message made only of these
        # (many chat messages) has no match, which one C-level set test establishes.
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
        # Patterns that count only as the whole message ("hjälp!").
        self._alone = frozenset(
            pid for pid, pattern in enumerate(lexicon.patterns) if "alone" in pattern.group.flags
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
        self._forget_tokens()
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

    def _forget_tokens(self) -> None:
        self._token_keys.clear()
        self._key_starts.clear()
        self._chunk_keys.clear()
        self._chunk_spans.clear()
        self._quiet.clear()

    def _learn(self, chunks: Sequence[str]) -> None:
        """Memoise every chunk of `chunks` not yet known (those up to
        CHUNK_MEMO_MAX_CHARS long) and the keys of all their tokens. The memos are
        emptied first if they could overflow, never while a message is read, so
        every key of the message is in `_key_starts` afterwards."""
        chunk_keys = self._chunk_keys
        new = [chunk for chunk in dict.fromkeys(chunks) if chunk not in chunk_keys]
        if (
            len(chunk_keys) + len(new) > CHUNK_MEMO_MAX
            or len(self._token_keys) + sum(map(len, new)) > TOKEN_MEMO_MAX
        ):
            self._forget_tokens()
            new = list(dict.fromkeys(chunks))
        token_keys = self._token_keys
        key_starts = self._key_starts
        lexicon = self.lexicon
        pair_first = lexicon.pair_first
        for chunk in new:
            if chunk.isalnum():
                # One word (`isalnum` is what `\w` matches, bar "_", which folds to a
                # space): the usual chunk, no regular expression needed.
                tokens, starts, ends = [chunk], [0], [len(chunk)]
            else:
                tokens, starts, ends = split_chunk(chunk)
            # A key is never empty and never contains white space (it is made of the
            # token characters), so keys joined by spaces split back into the keys.
            keys: list[str] = []
            for token in tokens:
                key = token_keys.get(token)
                if key is None:
                    key, found = lexicon.lookup(token)
                    token_keys[token] = key
                    key_starts[key] = found
                keys.append(key)
            if len(chunk) <= CHUNK_MEMO_MAX_CHARS:
                chunk_keys[chunk] = " ".join(keys)
                self._chunk_spans[chunk] = (tuple(starts), tuple(ends))
                if pair_first.isdisjoint(keys) and not any(map(key_starts.__getitem__, keys)):
                    self._quiet.add(chunk)

    def _keys_of(self, chunk: str) -> str:
        """The keys of `chunk` joined by spaces, memoised or (a long chunk) not."""
        keys = self._chunk_keys.get(chunk)
        if keys is None:
            token_keys = self._token_keys
            keys = " ".join([token_keys[token] for token in split_chunk(chunk)[0]])
        return keys

    def _spans_of(self, chunks: list[str]) -> list[_ChunkSpans]:
        """The offsets of the tokens of each chunk in it (for an explanation)."""
        spans: list[_ChunkSpans | None] = list(map(self._chunk_spans.get, chunks))
        if None in spans:  # a long chunk, not remembered
            for i, chunk in enumerate(chunks):
                if spans[i] is None:
                    _, starts, ends = split_chunk(chunk)
                    spans[i] = (tuple(starts), tuple(ends))
        return spans  # type: ignore[return-value]

    def _analyse(self, text: str, source: int | None, extra_frames: frozenset[str]) -> _Analysis:
        lexicon = self.lexicon
        folded = fold_text(text, lexicon.text_fold, lexicon.ascii_fold, lexicon.text_latin1_fold)
        chunks = folded.split(CHUNK_SEPARATOR)
        if self._quiet.issuperset(chunks):
            return self._empty
        # The tokens of the chunks are the tokens of the text (see CHUNK_SEPARATOR).
        try:
            joined = " ".join(map(self._chunk_keys.get, chunks))  # type: ignore[arg-type]
        except TypeError:  # a chunk not remembered (yet)
            self._learn(chunks)
            try:
                joined = " ".join(map(self._chunk_keys.get, chunks))  # type: ignore[arg-type]
            except TypeError:  # a chunk too long to remember
                joined = " ".join(map(self._keys_of, chunks))
        keys = joined.split()
        matches = lexicon.scan_singles(keys, list(map(self._key_starts.__getitem__, keys)))
        if not matches:
            return self._empty
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
        if not signal_matches:
            return _Analysis((), modifiers.frames)
        spans = _Spans(chunks, self._spans_of(chunks))
        hits: list[_Hit] = []
        effect_info = self._effect_info
        cues = lexicon.negation_cues
        negation_after = lexicon.negation_after
        cancel = lexicon.negation_cancel
        alone = self._alone
        scope_ends = self._scope_ends
        idioms = modifiers.idioms
        frames = modifiers.frames
        levity = modifiers.levity and not modifiers.serious
        sentence_scoped = modifiers.past_sentences or modifiers.hypothetical_sentences
        size = len(keys)
        for pid, start, end in _signal_matches(self._dedup_info, signal_matches):
            if pid in alone and not _stands_alone(keys, start, end):
                continue
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
                    for at in range(len(window) - 1, -1, -1):
                        key = window[at]
                        if key in scope_ends:
                            break
                        if key in cues:
                            # "kan inte sluta skada mig": the cue negates the stopping.
                            negated = at + 1 == len(window) or window[at + 1] not in cancel
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
            # What `_Hit(...)` does, without its Python-level `__new__`.
            hits.append(
                _new_tuple(_Hit, (pattern, start, end, spans, effect, tier, source, signal, lang))
            )
        return _Analysis(tuple(hits), modifiers.frames)


def _stands_alone(keys: list[str], start: int, end: int) -> bool:
    """True when nothing but punctuation surrounds keys[start:end]."""
    breaks = (SENTENCE_BREAK, CLAUSE_BREAK)
    return all(key in breaks for key in keys[:start]) and all(key in breaks for key in keys[end:])


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
                    and first.start_token < second.end_token
                    and second.start_token < first.end_token
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
        if any(
            u.source == hit.source
            and u.start_token < hit.end_token
            and hit.start_token < u.end_token
            for u in used
        ):
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
        evidence: list[Evidence] = []
        # The message's own quotes by token span, for the combination rules' reasons.
        quotes: dict[tuple[int, int], str] = {}
        for (
            pattern,
            start_token,
            end_token,
            spans,
            effect,
            tier,
            source,
            signal,
            lang,
        ) in self._hits:
            start, end = spans.char_span(start_token, end_token)
            quoted = quotes[start_token, end_token] = text[start:end]
            group = pattern.group
            # Positional: measurably cheaper than keywords for an 11-field frozen
            # dataclass. Order: start, end, text, rule_id, signal, category, tier,
            # effect, reason, lang, source.
            evidence.append(
                Evidence(
                    start,
                    end,
                    quoted,
                    pattern.rule_id,
                    signal,
                    group.category,
                    tier,
                    effect,
                    group.reason,
                    lang,
                    source,
                )
            )
            if effect == COUNTED:
                if tier:
                    reasons.append(f"{_LABELS[tier]}: {group.reason} “{quoted}” [{group.id}]")
            else:
                reasons.append(
                    f"discounted ({effect}, counts as {_LABELS[tier]}): {group.reason} "
                    f"“{quoted}” [{group.id}]"
                )
        context_hits: dict[tuple[int | None, int, int], _Hit] = {}
        for combo, used in self._fired:
            from_context = [h for h in used if h.source is not None]
            for h in from_context:
                context_hits[(h.source, h.start_token, h.end_token)] = h
            note = " (with an earlier message)" if from_context else ""
            parts = ", ".join(
                [
                    f"{h.signal} “{quotes[h.start_token, h.end_token]}”"
                    if h.source is None
                    else f"{h.signal} {_quote(context[h.source], h)}"
                    for h in used
                ]
            )
            reasons.append(f"{_LABELS[combo.tier]}: {combo.reason}{note}: {parts} [{combo.id}]")
        floor_from = self._floor_from
        if floor_from is not None:
            floor = RiskTier(floor_from - 1)
            reasons.append(
                f"{floor.label}: an earlier message in this conversation was {floor_from.label}"
            )
        evidence.extend(
            _evidence(h, context[h.source]) for h in context_hits.values() if h.source is not None
        )
        if not reasons:
            reasons.append(NO_SIGNAL_REASON)
        return tuple(evidence), tuple(reasons)


def _quote(text: str, hit: _Hit) -> str:
    start, end = hit.spans.char_span(hit.start_token, hit.end_token)
    return f"“{text[start:end]}”"


def _evidence(hit: _Hit, text: str) -> Evidence:
    pattern, start_token, end_token, spans, effect, tier, source, signal, _ = hit
    start, end = spans.char_span(start_token, end_token)
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
