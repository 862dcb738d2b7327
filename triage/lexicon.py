"""Loading and compiling the reviewable lexicon files into lookup tables (docs/triage.md).

Everything expensive happens here, once, at load time: patterns are parsed and
indexed by their first token, and the fuzzy vocabulary's deletion neighbourhood
(every word with one letter removed) is precomputed, so that matching a message is
a handful of dict lookups per token rather than a regex per pattern.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from itertools import compress, count, pairwise
from operator import itemgetter
from pathlib import Path

from triage.model import CATEGORIES, RiskTier
from triage.normalise import (
    CLAUSE_BREAK,
    NORDIC_PLAIN,
    NORDIC_VOWELS,
    SENTENCE_BREAK,
    TOKEN_RE,
    ascii_fold_table,
    build_fold_table,
    latin1_fold_table,
    normalise_token,
    token_key,
)

LANGUAGES: tuple[str, ...] = ("sv", "da", "en")
RULES_FILE = "rules.toml"

# A gap ("..") lets a pattern such as "tog .. tabletter" skip "alla mammas"; three
# tokens covers determiners, possessives and a number without letting a pattern
# wander across a whole sentence (gaps never cross a sentence end either).
GAP_MAX = 3
# Misspellings are forgiven (edit distance 1) only for words of six letters or
# more: shorter words have too many real neighbours ("hoppa"/"hoppas", "dö"/"do").
FUZZY_MIN_LEN = 6
# Index buckets for stem patterns ("självmord*") use the stem's first three letters.
STEM_BUCKET = 3

MODIFIER_KINDS = frozenset(
    {"idiom", "past", "recovery", "hypothetical", "levity", "serious", "frame", "present"}
)
# "alone": the pattern counts only when it is the whole message (punctuation aside).
FLAGS = frozenset(
    {"past_sensitive", "hypothetical_immune", "hyperbole", "third_party_only", "alone"}
)


class LexiconError(ValueError):
    """A lexicon file is malformed; the message names the file, group and pattern."""


@dataclass(frozen=True, slots=True)
class Group:
    """A reviewed set of patterns that share one meaning (signal, tier, category)."""

    id: str
    lang: str
    kind: str
    signal: str
    category: str | None
    tier: RiskTier
    weight: float
    reason: str
    flags: frozenset[str]
    not_after: frozenset[str]
    suppresses: frozenset[str]


@dataclass(frozen=True, slots=True)
class Elem:
    """One pattern position: a set of words, stems, a number class, or a gap."""

    exact: frozenset[str]
    prefixes: tuple[str, ...]
    num: str
    optional: bool
    gap: bool

    def accepts(self, key: str) -> bool:
        if key in self.exact:
            return True
        for prefix in self.prefixes:
            if key.startswith(prefix):
                return True
        if self.num and key.isdecimal():
            return _number_fits(self.num, key)
        return False


def _number_fits(kind: str, key: str) -> bool:
    if len(key) > 6:
        return False
    value = int(key)
    if kind == "minor":
        # Ages of children as people write them: "she's 14", "min son på 15".
        return 0 < value < 18
    if kind == "big":
        # Ten or more tablets is the amount counsellors treat as a deliberate overdose.
        return value >= 10
    if kind == "year":
        return 1950 <= value <= 2099
    return True


@dataclass(frozen=True, slots=True)
class Pattern:
    group: Group
    elems: tuple[Elem, ...]
    source: str
    rule_id: str


@dataclass(frozen=True, slots=True)
class Combo:
    """A combination rule: fires when every slot is met by some counted signal."""

    id: str
    slots: tuple[frozenset[str], ...]
    tier: RiskTier
    categories: tuple[str, ...]
    weight: float
    reason: str


# One match: (pattern index, first token, end token). A plain tuple, not a named
# one: building a NamedTuple runs a Python-level `__new__`, a plain tuple is one
# bytecode, and a long message makes dozens of these.
Match = tuple[int, int, int]


# Cheap necessary conditions checked before a pattern is matched word by word:
# the exact words the element right after the indexed words must be (None if that
# element is optional, a gap, a stem or a number), and the words of which one must
# occur somewhere in the message for a later required element (None if there is
# no such plain element). Most candidate patterns fail one of these.
Precheck = tuple[frozenset[str] | None, frozenset[str] | None]
# A candidate pattern as the scan tries it: (pattern index, elements, the anchor
# words of its `Precheck`).
Candidate = tuple[int, tuple[Elem, ...], frozenset[str] | None]
# The patterns that may start at one token (or adjacent pair of tokens), sorted for
# the scan: those the indexed words complete (a match at once), those whose next
# word is a plain word (by that word: one dict lookup replaces a test per pattern),
# and the rest. Each part keeps pattern order, which the scan restores on merging;
# the last item says whether it has to (False when the parts' pattern numbers are
# already in ascending order one part after the other, as for most tokens).
Starts = tuple[tuple[int, ...], Mapping[str, tuple[Candidate, ...]], tuple[Candidate, ...], bool]


@dataclass(frozen=True)
class Lexicon:
    """All languages' lexicons compiled into one set of lookup tables."""

    languages: tuple[str, ...]
    patterns: tuple[Pattern, ...]
    first_exact: Mapping[str, tuple[int, ...]]
    pair_index: Mapping[tuple[str, str], tuple[int, ...]]
    pair_first: frozenset[str]
    first_stem: Mapping[str, tuple[tuple[str, int], ...]]
    first_num: tuple[int, ...]
    prechecks: tuple[Precheck, ...]
    pair_starts: Mapping[tuple[str, str], Starts]
    vocabulary: frozenset[str]
    stems: Mapping[str, tuple[str, ...]]
    fuzzy_words: frozenset[str]
    fuzzy_deletes: Mapping[str, str]
    negation_cues: frozenset[str]
    negation_after: frozenset[str]
    # A cue followed by one of these is no negation: "kan inte sluta skada mig"
    # (can't stop hurting myself) says the act goes on.
    negation_cancel: frozenset[str]
    clause_breaks: frozenset[str]
    combos: tuple[Combo, ...]
    combos_by_signal: Mapping[str, tuple[int, ...]]
    fold: Mapping[int, str]
    ascii_fold: bytes
    latin1_fold: bytes | None
    # Messages are folded keeping å ä ö (see `lookup`).
    text_fold: Mapping[int, str]
    text_latin1_fold: bytes | None
    # The keys and stems that keep å ä ö, of lexicon words written with them.
    nordic_keys: frozenset[str]
    nordic_stems: Mapping[str, tuple[str, ...]]

    @property
    def entry_counts(self) -> dict[str, int]:
        """Number of patterns per language (what reviewers maintain)."""
        counts = dict.fromkeys(self.languages, 0)
        for pattern in self.patterns:
            counts[pattern.group.lang] = counts.get(pattern.group.lang, 0) + 1
        return counts

    def correct(self, key: str) -> str:
        """`key`, or the lexicon word one edit away from it (for keys of 5+ letters)."""
        if len(key) < FUZZY_MIN_LEN - 1 or key in self.vocabulary or not key.isalpha():
            return key
        for stem in self.stems.get(key[:STEM_BUCKET], ()):
            if key.startswith(stem):
                return key
        deletes = self.fuzzy_deletes
        # A letter missing from the message ("sjävmord" for "självmord").
        found = deletes.get(key)
        if found is not None and len(found) == len(key) + 1:
            return found
        words = self.fuzzy_words
        for i in range(len(key)):
            shorter = key[:i] + key[i + 1 :]
            # An extra letter in the message ("suiccide").
            if shorter in words and len(key) > FUZZY_MIN_LEN:
                return shorter
            # One letter replaced ("suiside" for "suicide").
            found = deletes.get(shorter)
            if found is not None and len(found) == len(key):
                return found
        return key

    def knows_nordic(self, key: str) -> bool:
        """Whether `key` (which keeps å ä ö) is a lexicon word or starts with a stem."""
        if key in self.nordic_keys:
            return True
        return any(key.startswith(stem) for stem in self.nordic_stems.get(key[:STEM_BUCKET], ()))

    def singles(self, key: str) -> tuple[int, ...] | None:
        """The patterns indexed by their first word alone (exact, stem or number) that
        may start at a token whose corrected key is `key`; None if there are none."""
        singles = list(self.first_exact.get(key, ()))
        for stem, pid in self.first_stem.get(key[:STEM_BUCKET], ()):
            if key.startswith(stem):
                singles.append(pid)
        if key.isdecimal():
            singles.extend(
                pid for pid in self.first_num if self.patterns[pid].elems[0].accepts(key)
            )
        return tuple(singles) or None

    def lookup(self, token: str) -> tuple[str, Starts | None]:
        """Key and the `starts` of its `singles` for one token as found in folded
        text. The engine memoises this: it depends on the token alone, and messages
        reuse words."""
        key = None
        if not token.isascii():
            plain = token.translate(NORDIC_PLAIN)
            if plain != token:
                # Typed with å/ä/ö: the word the lexicon has with them, if it has it
                # ("tåget" is not "taget"); otherwise a misspelling or a word the
                # lexicon has without them ("selvmårdstanker"), read as before.
                nordic = normalise_token(token)
                key = nordic if self.knows_nordic(nordic) else None
                token = plain
        if key is None:
            key = self.correct(normalise_token(token))
        singles = self.singles(key)
        return key, None if singles is None else self.starts(singles, 1)

    def starts(self, pids: Sequence[int], indexed: int) -> Starts:
        """`pids` (patterns indexed by their first `indexed` words) sorted for the scan.

        The scan restores the order of `pids` by pattern index when it merges the
        parts; if `pids` is not in index order (a word that is both an exact and a
        stem first word), everything goes to the last part, tried in the given order.
        """
        if any(a > b for a, b in pairwise(pids)):
            return (), {}, tuple((pid, self.patterns[pid].elems, None) for pid in pids), False
        at_once: list[int] = []
        by_next: dict[str, list[Candidate]] = {}
        rest: list[Candidate] = []
        for pid in pids:
            elems = self.patterns[pid].elems
            if len(elems) == indexed:
                at_once.append(pid)
                continue
            follow, anchor = self.prechecks[pid]
            if follow is None:
                rest.append((pid, elems, anchor))
            else:
                for word in follow:
                    by_next.setdefault(word, []).append((pid, elems, anchor))
        parts = [
            at_once,
            sorted({pid for found in by_next.values() for pid, _, _ in found}),
            [pid for pid, _, _ in rest],
        ]
        parts = [part for part in parts if part]
        mixed = any(a[-1] > b[0] for a, b in pairwise(parts))
        return (
            tuple(at_once),
            {word: tuple(found) for word, found in by_next.items()},
            tuple(rest),
            mixed,
        )

    def scan(self, keys: Sequence[str]) -> list[Match]:
        """Every pattern match in `keys`, as (pattern index, first token, end token)."""
        singles = [self.singles(key) for key in keys]
        return self.scan_singles(keys, [None if s is None else self.starts(s, 1) for s in singles])

    def scan_singles(self, keys: Sequence[str], singles: Sequence[Starts | None]) -> list[Match]:
        """`scan` with each token's `starts` already looked up (`singles[i]` for
        `keys[i]`). Matches come ordered by first token; at one token, patterns
        indexed by two words come first, each group in pattern order."""
        matches: list[Match] = []
        present = frozenset(keys)
        # Most patterns are found through their first two words, so that common
        # openings ("jag", "i", "har") do not try hundreds of patterns each: every
        # adjacent pair of keys is looked up at once, in C, and only hits are visited.
        paired_starts = list(map(self.pair_starts.get, pairwise(keys)))
        for i in compress(count(), paired_starts):
            _scan_at(matches, paired_starts[i], keys, present, i, 2)  # type: ignore[arg-type]
        paired = len(matches)
        for i in compress(count(), singles):
            _scan_at(matches, singles[i], keys, present, i, 1)  # type: ignore[arg-type]
        if paired and len(matches) > paired:
            matches.sort(key=_START)  # stable: pairs stay first at each token
        return matches


_START = itemgetter(1)


def _scan_at(
    matches: list[Match],
    starts: Starts,
    keys: Sequence[str],
    present: frozenset[str],
    i: int,
    width: int,
) -> None:
    """Append the matches of the patterns in `starts` whose first `width` words
    (one, or a pair) are at token `i`, in pattern order."""
    at_once, by_next, rest, mixed = starts
    append = matches.append
    mark = len(matches)
    for pid in at_once:
        append((pid, i, i + width))
    first = len(matches)
    after = i + width
    if by_next and after < len(keys):
        for pid, elems, anchor in by_next.get(keys[after], ()):
            if anchor is not None and anchor.isdisjoint(present):
                continue
            end = _match(elems, keys, width + 1, after + 1)
            if end >= 0:
                append((pid, i, end))
    if mixed:
        middle = len(matches)
    for pid, elems, anchor in rest:
        if anchor is not None and anchor.isdisjoint(present):
            continue
        end = _match(elems, keys, width, after)
        if end >= 0:
            append((pid, i, end))
    if mixed and (mark < first) + (first < middle) + (middle < len(matches)) > 1:
        # Back into pattern order (a pattern occurs once per token here).
        matches[mark:] = sorted(matches[mark:])


def _match(elems: tuple[Elem, ...], keys: Sequence[str], ei: int, ti: int) -> int:
    """End token index of `elems[ei:]` matched from `keys[ti]`, or -1."""
    n = len(keys)
    size = len(elems)
    while ei < size:
        elem = elems[ei]
        if elem.gap:
            for skip in range(GAP_MAX + 1):
                if skip:
                    skipped = ti + skip - 1
                    if skipped >= n or keys[skipped] == SENTENCE_BREAK:
                        break
                end = _match(elems, keys, ei + 1, ti + skip)
                if end >= 0:
                    return end
            return -1
        if ti < n and (keys[ti] in elem.exact or elem.accepts(keys[ti])):
            if elem.optional:
                end = _match(elems, keys, ei + 1, ti + 1)
                if end >= 0:
                    return end
                ei += 1
                continue
            ei += 1
            ti += 1
            continue
        if elem.optional:
            ei += 1
            continue
        return -1
    return ti


class _Keyer:
    """Normalises lexicon words, each distinct word once (loading stays well under
    the 200 ms budget although the same words recur across hundreds of patterns)."""

    def __init__(self, fold: Mapping[int, str]) -> None:
        self.fold = fold
        self.text_fold = build_fold_table(keep_nordic=True)
        self.known: dict[str, tuple[str, ...]] = {}
        self.elems: dict[str, Elem] = {}
        # The second keys (keeping å ä ö) of words written with those vowels.
        self.nordic: set[str] = set()

    def keys(self, word: str, where: str) -> tuple[str, ...]:
        """The plain key of `word`, and a second one keeping å ä ö if it has them."""
        keys = self.known.get(word)
        if keys is None:
            # Variation selectors and joiners are not tokens: "⚰️" is matched as "⚰".
            bare = word.replace("\ufe0f", "").replace("\u200d", "")
            key = token_key(bare, self.fold)
            if TOKEN_RE.findall(key) != [key] or key in {SENTENCE_BREAK, CLAUSE_BREAK}:
                raise LexiconError(f"{where}: {word!r} is not a single word or emoji")
            keys = (key,)
            if any(vowel in bare.lower() for vowel in NORDIC_VOWELS):
                nordic = token_key(bare, self.text_fold)
                self.nordic.add(nordic)
                keys = (key, nordic)
            self.known[word] = keys
        return keys

    def listed(self, words: Iterable[str], where: str) -> frozenset[str]:
        """The keys of words listed outside patterns (negation cues and the like)."""
        return frozenset(key for word in words for key in self.keys(word, where))


def _parse_elem(raw: str, keyer: _Keyer, where: str) -> Elem:
    # Patterns share most of their words ("mig", "på", "tabletter|piller"): an Elem
    # is immutable, so each distinct one is parsed once per load.
    elem = keyer.elems.get(raw)
    if elem is None:
        elem = keyer.elems[raw] = _parse_new_elem(raw, keyer, where)
    return elem


def _parse_new_elem(raw: str, keyer: _Keyer, where: str) -> Elem:
    if raw == "..":
        return Elem(frozenset(), (), "", optional=False, gap=True)
    optional = raw.endswith("?") and len(raw) > 1
    body = raw[:-1] if optional else raw
    exact: set[str] = set()
    prefixes: list[str] = []
    num = ""
    for alt in body.split("|"):
        if alt.startswith("#"):
            num = alt[1:] or "any"
            if num not in {"any", "minor", "big", "year"}:
                raise LexiconError(f"{where}: unknown number class {alt!r}")
            continue
        stem = alt.endswith("*")
        word = alt[:-1] if stem else alt
        keys = keyer.keys(word, where)
        if stem:
            if len(keys[0]) < STEM_BUCKET:
                raise LexiconError(f"{where}: stem {alt!r} is shorter than {STEM_BUCKET}")
            prefixes.extend(keys)
        else:
            exact.update(keys)
    return Elem(frozenset(exact), tuple(prefixes), num, optional=optional, gap=False)


def _parse_pattern(source: str, keyer: _Keyer, where: str) -> tuple[Elem, ...]:
    parts = source.split()
    if not parts:
        raise LexiconError(f"{where}: empty pattern")
    elems = tuple(_parse_elem(part, keyer, where) for part in parts)
    if elems[0].gap or elems[0].optional:
        raise LexiconError(f"{where}: a pattern cannot start with a gap or optional word")
    return elems


def _group(raw: Mapping[str, object], lang: str, where: str) -> Group:
    kind = str(raw.get("kind", "signal"))
    if kind != "signal" and kind not in MODIFIER_KINDS:
        raise LexiconError(f"{where}: unknown kind {kind!r}")
    category = raw.get("category")
    if category is not None and category not in CATEGORIES:
        raise LexiconError(f"{where}: unknown category {category!r}")
    flags = frozenset(str(flag) for flag in _list(raw.get("flags", []), where))
    if flags - FLAGS:
        raise LexiconError(f"{where}: unknown flags {sorted(flags - FLAGS)}")
    group_id = str(raw.get("id", ""))
    if not group_id:
        raise LexiconError(f"{where}: group without id")
    return Group(
        id=group_id,
        lang=lang,
        kind=kind,
        signal=str(raw.get("signal", kind)),
        category=None if category is None else str(category),
        tier=RiskTier.parse(str(raw.get("tier", "none"))),
        weight=float(str(raw.get("weight", 0.0))),
        reason=str(raw.get("reason", "")),
        flags=flags,
        not_after=frozenset(str(w) for w in _list(raw.get("not_after", []), where)),
        suppresses=frozenset(str(s) for s in _list(raw.get("suppresses", []), where)),
    )


def _list(value: object, where: str) -> list[object]:
    if not isinstance(value, list):
        raise LexiconError(f"{where}: expected a list, got {value!r}")
    return value


def _default_dir() -> Path:
    return Path(str(resources.files("triage").joinpath("lexicons")))


def load_lexicon(directory: Path | None = None, languages: Sequence[str] = LANGUAGES) -> Lexicon:
    """Read and compile `<lang>.toml` for each language and `rules.toml` from `directory`."""
    base = directory if directory is not None else _default_dir()
    fold = build_fold_table()
    keyer = _Keyer(fold)
    patterns: list[Pattern] = []
    negation: set[str] = set()
    negation_after: set[str] = set()
    negation_cancel: set[str] = set()
    clause_breaks: set[str] = set()
    no_fuzzy: set[str] = set()
    for lang in languages:
        path = base / f"{lang}.toml"
        with path.open("rb") as handle:
            data = tomllib.load(handle)
        negation |= keyer.listed((str(w) for w in data.get("negation", [])), path.name)
        negation_after |= keyer.listed((str(w) for w in data.get("negation_after", [])), path.name)
        negation_cancel |= keyer.listed(
            (str(w) for w in data.get("negation_cancel", [])), path.name
        )
        clause_breaks |= keyer.listed((str(w) for w in data.get("clause_breaks", [])), path.name)
        no_fuzzy |= keyer.listed((str(w) for w in data.get("no_fuzzy", [])), path.name)
        for raw_group in data.get("group", []):
            where = f"{path.name}:{raw_group.get('id', '?')}"
            group = _group(raw_group, lang, where)
            group = replace(group, not_after=keyer.listed(group.not_after, where))
            for n, source in enumerate(_list(raw_group.get("patterns", []), where), start=1):
                elems = _parse_pattern(str(source), keyer, f"{where}: {source!r}")
                patterns.append(Pattern(group, elems, str(source), f"{group.id}#{n}"))
    combos = _load_combos(base / RULES_FILE, {p.group.signal for p in patterns})
    return _compile(
        patterns,
        negation,
        negation_after,
        negation_cancel,
        clause_breaks,
        no_fuzzy,
        combos,
        fold,
        tuple(languages),
        frozenset(keyer.nordic),
    )


def _load_combos(path: Path, known_signals: set[str]) -> tuple[Combo, ...]:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    combos: list[Combo] = []
    for raw in data.get("combo", []):
        where = f"{path.name}:{raw.get('id', '?')}"
        slots = tuple(frozenset(str(slot).split("|")) for slot in _list(raw.get("when"), where))
        unknown = set().union(*slots) - known_signals if slots else set()
        if unknown:
            raise LexiconError(f"{where}: unknown signals {sorted(unknown)}")
        categories = tuple(str(c) for c in _list(raw.get("categories", []), where))
        if set(categories) - set(CATEGORIES):
            raise LexiconError(f"{where}: unknown categories {categories}")
        combos.append(
            Combo(
                id=str(raw["id"]),
                slots=slots,
                tier=RiskTier.parse(str(raw["tier"])),
                categories=categories,
                weight=float(raw.get("weight", 1.0)),
                reason=str(raw.get("reason", "")),
            )
        )
    return tuple(combos)


def _combos_by_signal(combos: tuple[Combo, ...]) -> dict[str, tuple[int, ...]]:
    index: dict[str, set[int]] = {}
    for number, combo in enumerate(combos):
        for slot in combo.slots:
            for signal in slot:
                index.setdefault(signal, set()).add(number)
    return {signal: tuple(sorted(numbers)) for signal, numbers in index.items()}


def _plain(elem: Elem) -> bool:
    return bool(elem.exact) and not (elem.prefixes or elem.num or elem.optional or elem.gap)


def _precheck(elems: tuple[Elem, ...], paired: bool) -> Precheck:
    """See `Precheck`; `paired` patterns are indexed by their first two words."""
    position = 2 if paired else 1
    if position >= len(elems):
        return None, None
    follow = elems[position].exact if _plain(elems[position]) else None
    later = [elem.exact for elem in elems[position + 1 :] if _plain(elem)]
    anchor = min(later, key=len) if later else None
    return follow, anchor


def _compile(
    patterns: list[Pattern],
    negation: set[str],
    negation_after: set[str],
    negation_cancel: set[str],
    clause_breaks: set[str],
    no_fuzzy: set[str],
    combos: tuple[Combo, ...],
    fold: Mapping[int, str],
    languages: tuple[str, ...],
    nordic: frozenset[str] = frozenset(),
) -> Lexicon:
    first_exact: dict[str, list[int]] = {}
    first_stem: dict[str, list[tuple[str, int]]] = {}
    first_num: list[int] = []
    vocabulary: set[str] = set(
        negation | negation_after | negation_cancel | clause_breaks | no_fuzzy
    )
    stems: dict[str, set[str]] = {}
    fuzzy_words: set[str] = set()
    first_pair: dict[tuple[str, str], list[int]] = {}
    paired: set[int] = set()
    for pid, pattern in enumerate(patterns):
        first = pattern.elems[0]
        second = pattern.elems[1] if len(pattern.elems) > 1 else None
        pairable = (
            second is not None
            and second.exact
            and not (second.prefixes or second.num or second.optional or second.gap)
        )
        for key in first.exact:
            if pairable and second is not None:
                paired.add(pid)
                for next_key in second.exact:
                    first_pair.setdefault((key, next_key), []).append(pid)
            else:
                first_exact.setdefault(key, []).append(pid)
        for stem in first.prefixes:
            first_stem.setdefault(stem[:STEM_BUCKET], []).append((stem, pid))
        if first.num:
            first_num.append(pid)
        # Misspellings are forgiven for the words that carry meaning (risk words,
        # drug names), not for grammatical glue such as "bundet"/"fundet".
        signal_group = pattern.group.kind == "signal" and pattern.group.category is not None
        for elem in pattern.elems:
            vocabulary |= elem.exact
            for stem in elem.prefixes:
                stems.setdefault(stem[:STEM_BUCKET], set()).add(stem)
            if signal_group:
                fuzzy_words |= {
                    w
                    for w in (*elem.exact, *elem.prefixes)
                    if len(w) >= FUZZY_MIN_LEN and w.isalpha()
                }
    # A key keeping å ä ö is only looked up as typed (see `Lexicon.lookup`).
    fuzzy_words -= no_fuzzy | nordic
    deletes: dict[str, str] = {}
    for word in sorted(fuzzy_words):
        for i in range(len(word)):
            deletes.setdefault(word[:i] + word[i + 1 :], word)
    prechecks = tuple(
        _precheck(pattern.elems, pid in paired) for pid, pattern in enumerate(patterns)
    )
    text_fold = build_fold_table(keep_nordic=True)
    lexicon = Lexicon(
        languages=languages,
        patterns=tuple(patterns),
        pair_starts={},
        first_exact={k: tuple(v) for k, v in first_exact.items()},
        pair_index={pair: tuple(pids) for pair, pids in first_pair.items()},
        pair_first=frozenset(key for key, _ in first_pair),
        first_stem={k: tuple(v) for k, v in first_stem.items()},
        first_num=tuple(first_num),
        prechecks=prechecks,
        vocabulary=frozenset(vocabulary),
        stems={k: tuple(sorted(v)) for k, v in stems.items()},
        fuzzy_words=frozenset(fuzzy_words),
        fuzzy_deletes=deletes,
        negation_cues=frozenset(negation),
        negation_after=frozenset(negation_after),
        negation_cancel=frozenset(negation_cancel),
        clause_breaks=frozenset(clause_breaks),
        combos=combos,
        combos_by_signal=_combos_by_signal(combos),
        fold=fold,
        ascii_fold=ascii_fold_table(fold),
        latin1_fold=latin1_fold_table(fold),
        text_fold=text_fold,
        text_latin1_fold=latin1_fold_table(text_fold),
        nordic_keys=nordic & vocabulary,
        nordic_stems={
            bucket: tuple(stem for stem in bucket_stems if stem in nordic)
            for bucket, bucket_stems in stems.items()
            if not nordic.isdisjoint(bucket_stems)
        },
    )
    # Many pairs share their patterns (a word written with å/ä/ö has two keys, so
    # "är på" is indexed as four pairs): sort each distinct set of patterns once.
    by_pids: dict[tuple[int, ...], Starts] = {}
    pair_starts = {}
    for pair, pids in lexicon.pair_index.items():
        starts = by_pids.get(pids)
        if starts is None:
            starts = by_pids[pids] = lexicon.starts(pids, 2)
        pair_starts[pair] = starts
    return replace(lexicon, pair_starts=pair_starts)
