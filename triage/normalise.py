"""Normalisation and tokenisation that survive how people in crisis type (docs/triage.md).

The design keeps offsets trivial: the first step (case and diacritic folding) maps
every character to exactly one character, so a token's span in the folded string
is its span in the original. Every later step (leetspeak, ``æ`` -> ``ae``, dropping
apostrophes and combining marks, collapsing repeated letters) only rewrites the
*inside* of tokens, so the n-th token of the rewritten string is the n-th token of
the folded one and takes its span from there.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import accumulate

# A word may carry combining marks (text typed in NFD form) and inner apostrophes
# ("don't", "rope's"); emojis are one token each so "💊💊💊" is three pills, and
# punctuation is kept as "." (sentence end) or "," (clause end) because negation,
# past and hypothetical markers are scoped by sentences and clauses. One character
# class per alternative keeps the scan fast (a per-character alternation is 3x slower).
_WORD = r"[\w\u0300-\u036f]+(?:'[\w\u0300-\u036f]+)*"
_EMOJI = r"[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2190-\u21FF]"
TOKEN_RE = re.compile(rf"{_WORD}|{_EMOJI}|\.+|,+")
# The same tokens, split out with the text between them: [gap, token, gap, ..., gap].
# One C-level pass gives the tokens (every other item) and, by summing lengths, their
# offsets, which is half the cost of a second `finditer` pass for the spans.
TOKEN_SPLIT_RE = re.compile(rf"({TOKEN_RE.pattern})")
# No token contains a space and the pattern looks neither ahead nor behind, so the
# tokens of a text are those of its space-separated chunks, in order (the engine
# memoises the tokens of each distinct chunk instead of running the regex on every
# message).
CHUNK_SEPARATOR = " "
_INNER_APOSTROPHE_RE = re.compile(r"(?<=\w)'(?=\w)")
_COMBINING_RE = re.compile(r"(?<=\w)[\u0300-\u036f]+")
_DIGIT_RE = re.compile(r"\d")
# Only tokens that mix letters and digits are read as leetspeak ("k1ll", "su1c1d3");
# pure numbers ("30 alvedon", "kl 23") keep their value.
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b"})
# People stretch words ("döööö", "pleeease") and misspell doubles ("tabletter" vs
# "tabeletter"); collapsing every run of a letter to one letter, in the lexicon and
# in messages alike, makes both forms meet. Runs of "." or "," become one mark.
# Letters are ASCII here (folding has removed diacritics).

SENTENCE_BREAK = "."
CLAUSE_BREAK = ","


# Folding is one-way for the Scandinavian vowels: a lexicon word written with one
# matches a message typed without it ("dod" for "död"), but a word the lexicon has
# with one is not the same as a plain one typed that way ("tåget", the train, is not
# Danish "taget", the roof). Messages keep them (`keep_nordic`); a lexicon word with
# one gets two keys, the plain one and one that keeps them (ø written as ö).
NORDIC_VOWELS = "åäöø"
NORDIC_PLAIN = str.maketrans({"å": "a", "ä": "a", "ö": "o", "ø": "o"})


def build_fold_table(keep_nordic: bool = False) -> dict[int, str]:
    """Lower-case and strip diacritics for Latin letters, one character to one.

    ``ø`` has no decomposition, so it is mapped to ``o`` by hand (people without a
    Danish keyboard write "dod" for "død"); ``æ`` stays a letter here and becomes
    ``ae`` inside tokens later, which is how it is typed without the key. With
    `keep_nordic` (messages, and a lexicon word's second key), ``å ä ö`` are only
    lower-cased and ``ø`` becomes ``ö`` (see `NORDIC_VOWELS`).
    """
    table: dict[int, str] = {}
    for code in range(0x41, 0x250):
        char = chr(code)
        lower = char.lower()
        if len(lower) != 1 or not lower.isalpha():
            continue
        base = unicodedata.normalize("NFD", lower)[0]
        if base != char:
            table[code] = base
    for char, folded in (("ø", "o"), ("Ø", "o"), ("æ", "æ"), ("Æ", "æ"), ("ß", "ß")):
        table[ord(char)] = folded
    if keep_nordic:
        for char, kept in (("å", "å"), ("ä", "ä"), ("ö", "ö"), ("ø", "ö")):
            table[ord(char)] = kept
            table[ord(char.upper())] = kept
    for quote in ("’", "‘", "ʼ", "`", "´"):
        table[ord(quote)] = "'"
    # Sentence and clause marks are unified here, still one character for one.
    for mark in "!?\n…":
        table[ord(mark)] = "."
    for mark in ";:":
        table[ord(mark)] = ","
    # An underscore joins words in \w; people write "kill_myself" as two words.
    table[ord("_")] = " "
    return table


def _rewrite(folded: str) -> str:
    rewritten = folded
    if "'" in rewritten:
        rewritten = _INNER_APOSTROPHE_RE.sub("", rewritten)
    if _COMBINING_RE.search(rewritten):
        rewritten = _COMBINING_RE.sub("", rewritten)
    if "æ" in rewritten:
        rewritten = rewritten.replace("æ", "ae")
    return _collapse(rewritten)


# Plain str.replace per doubled letter is several times faster than a regex with a
# back-reference on 100-character messages, and most messages contain doubles.
_DOUBLES: tuple[tuple[str, str], ...] = tuple((c + c, c) for c in "abcdefghijklmnopqrstuvwxyz.,")


# Any doubled letter or mark of `_DOUBLES`: one C-level search tells whether the loop
# below has anything to do (most tokens have no double).
_DOUBLE_RE = re.compile(r"([a-z.,])\1")


def _collapse(text: str) -> str:
    if _DOUBLE_RE.search(text) is None:
        return text
    for double, single in _DOUBLES:
        while double in text:
            text = text.replace(double, single)
    return text


def _leet(key: str) -> str:
    if key.isdecimal() or key.isalpha() or not key.isalnum():
        return key
    return _collapse(key.translate(_LEET))


@dataclass(frozen=True, slots=True)
class Tokens:
    """A message as lexicon keys; spans (original offsets) are computed on demand."""

    keys: tuple[str, ...]
    folded: str

    def spans(self) -> list[tuple[int, int]]:
        """(start, end) in the original text of each key, in order."""
        return [m.span() for m in TOKEN_RE.finditer(self.folded)]


def split_chunk(chunk: str) -> tuple[list[str], list[int], list[int]]:
    """The tokens of `chunk` (a piece of folded text) with their start and end offsets
    in it: `tokens[i] == chunk[starts[i] : ends[i]]`."""
    parts = TOKEN_SPLIT_RE.split(chunk)
    bounds = list(accumulate(map(len, parts)))
    return parts[1::2], bounds[0:-1:2], bounds[1::2]


def token_key(word: str, fold: Mapping[int, str]) -> str:
    """Normalise one lexicon word exactly as message tokens are normalised."""
    return _leet(_rewrite(word.translate(fold)))


def normalise_token(token: str) -> str:
    """The key of one token of folded text: the inside-token rewrites of the pipeline.

    Applied token by token this gives exactly the keys of `tokenise` (rewrites never
    cross a token boundary), which lets the engine memoise keys per token.
    """
    return _leet(_rewrite(token))


def latin1_fold_table(fold: Mapping[int, str]) -> bytes | None:
    """The Latin-1 part of `fold` as a bytes table, or None if some Latin-1 character
    folds to something outside Latin-1 (then only the `str.translate` path is exact).

    Swedish and Danish messages are almost always Latin-1, and `bytes.translate` on
    them is several times faster than `str.translate` with a dict.
    """
    table = bytearray(range(256))
    for code in range(256):
        mapped = fold.get(code)
        if mapped is None:
            continue
        if len(mapped) != 1 or ord(mapped) > 0xFF:
            return None
        table[code] = ord(mapped)
    return bytes(table)


def ascii_fold_table(fold: Mapping[int, str]) -> bytes:
    """The ASCII part of `fold` as a bytes table (bytes.translate is much faster)."""
    table = bytearray(range(256))
    for code in range(128):
        mapped = fold.get(code)
        if mapped is not None and len(mapped) == 1 and ord(mapped) < 128:
            table[code] = ord(mapped)
    return bytes(table)


def fold_text(
    text: str, fold: Mapping[int, str], ascii_fold: bytes, latin1_fold: bytes | None = None
) -> str:
    """Case- and diacritic-fold `text`, one character for one."""
    if text.isascii():
        return text.encode("ascii").translate(ascii_fold).decode("ascii")
    if latin1_fold is not None:
        # Trying the encoding is the cheap test: `max(text) <= "\xff"` compares
        # character by character in Python objects, several times the whole fold.
        try:
            latin1 = text.encode("latin-1")
        except UnicodeEncodeError:
            pass
        else:
            return latin1.translate(latin1_fold).decode("latin-1")
    return text.translate(fold)


def tokenise(text: str, fold: Mapping[int, str], ascii_fold: bytes | None = None) -> Tokens:
    """Split `text` into normalised keys (see the module docstring for offsets)."""
    folded = text.translate(fold) if ascii_fold is None else fold_text(text, fold, ascii_fold)
    keys: list[str] = TOKEN_RE.findall(_rewrite(folded))
    if _DIGIT_RE.search(folded):
        keys = [_leet(key) for key in keys]
    return Tokens(keys=tuple(keys), folded=folded)
