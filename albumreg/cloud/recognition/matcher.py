"""Strict fuzzy matching of the text read from one cover against the album catalog.

Artist and title are scored separately, each with a floor, so a single shared word never makes a
match; numbers and roman numerals must be present as words. Local only: imports rapidfuzz,
which is not in the Lambda artifact (``ocr`` imports this module, nothing else does).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from albumreg.cloud.catalog import CatalogAlbum

FIELD_FLOOR = 80.0
"""Least similarity (0-100, rapidfuzz ``ratio`` on letters without spaces) for artist and for
title. At 80 a field survives about one wrong character in five; measured on synthetic covers,
out-of-catalog albums that share an artist or a title word never reach it on both fields."""

NEAR_NUMERAL_SCORE = 85.0
"""Field score when a roman numeral is off by one letter ("II" read as "vI"): still a match,
but one that ranks below an exact reading of the same text."""

NAME_ONLY_SHARE = 0.6
"""A match supported by one name only (a self-titled album, or a title hidden inside the artist's
name) must account for this share of the cover's text, so "Boston" alone matches the album
Boston but "Live in Boston" by someone else does not."""

NAME_ONLY_CONFIDENCE = 0.75
"""Confidence factor for name-only matches: weaker evidence, so the reviewer looks twice."""

AMBIGUITY_MARGIN = 3.0
"""Two albums explaining the same text within this many points: flagged, not guessed."""

_ROMAN = re.compile(r"^(?:i{1,3}|iv|vi{0,3}|ix|x{1,3})$")
_ROMAN_LOOKALIKES = str.maketrans({"l": "i", "1": "i", "j": "i"})
_SEPARATORS = re.compile(r"[^0-9a-z]+")
_APOSTROPHES = re.compile(r"['’‘`´]")  # noqa: RUF001 - typographic apostrophes appear on covers


def words(text: str) -> list[str]:
    """Lower-case ASCII words: accents dropped, apostrophes joined, other punctuation splits."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return [word for word in _SEPARATORS.split(_APOSTROPHES.sub("", plain)) if word]


@dataclass(frozen=True)
class Match:
    """A catalog album the text supports.

    Attributes:
        album: the catalog entry (its year is the original release year).
        score: the weaker of the artist and title similarities, 0-100.
        name_only: the evidence is one name (self-titled); see ``NAME_ONLY_SHARE``.
    """

    album: CatalogAlbum
    score: float
    name_only: bool

    @property
    def confidence(self) -> float:
        """0..1 from the score, lower for name-only evidence."""
        factor = NAME_ONLY_CONFIDENCE if self.name_only else 1.0
        return round(self.score / 100.0 * factor, 2)


@dataclass(frozen=True)
class Verdict:
    """The outcome for one cover: a match, or the reason there is none."""

    match: Match | None
    reason: str = ""


@dataclass(frozen=True)
class _Field:
    joined: str
    length: int
    numerals: tuple[str, ...]


@dataclass(frozen=True)
class _Window:
    start: int
    end: int
    tokens: tuple[str, ...]

    @property
    def joined(self) -> str:
        return "".join(self.tokens)

    def within(self, other: _Window) -> bool:
        return other.start <= self.start and self.end <= other.end


@dataclass(frozen=True)
class _Hit:
    window: _Window
    score: float


@dataclass(frozen=True)
class _Candidate:
    album: CatalogAlbum
    score: float
    explained: int
    name_only: bool


def _field(text: str) -> _Field:
    tokens = words(text)
    numerals = tuple(token for token in tokens if token.isdigit() or _ROMAN.match(token))
    return _Field(joined="".join(tokens), length=len(tokens), numerals=numerals)


class CatalogMatcher:
    """Finds the catalog album a cover's text names, or says why none is safe to pick."""

    def __init__(self, catalog: Sequence[CatalogAlbum]) -> None:
        self._albums = [
            (album, _field(album.artist), _field(album.title))
            for album in catalog
            if words(album.artist) and words(album.title)
        ]
        self._volumes = _numbered_volumes(catalog)

    def match(self, lines: Sequence[str]) -> Verdict:
        """Match the lines read from one cover, in reading order.

        Returns:
            A ``Verdict`` with the best album, or with no album and the reason (no text, no
            album above both floors, two albums equally well supported, or a self-titled
            album whose numbered volumes the text cannot rule out).
        """
        tokens = [token for line in lines for token in words(line)]
        if not tokens:
            return Verdict(None, "no text found on this cover")
        windows = _windows(tokens)
        artist_hits: dict[str, list[_Hit]] = {}
        candidates: list[_Candidate] = []
        for album, artist, title in self._albums:
            if artist.joined not in artist_hits:
                artist_hits[artist.joined] = _best_hits(artist, windows)
            found_artist = artist_hits[artist.joined]
            found_title = _best_hits(title, windows) if found_artist else []
            if found_title:
                candidate = _candidate(album, found_artist, found_title, tokens)
                if candidate is not None:
                    candidates.append(candidate)
        verdict = _decide(candidates, tokens)
        if verdict.match and verdict.match.album.release_id in self._volumes:
            # The numeral is what tells "Led Zeppelin III" from "Led Zeppelin"; when the best
            # reading is the plain name, a numeral OCR missed cannot be ruled out.
            others = " / ".join(self._volumes[verdict.match.album.release_id])
            return Verdict(None, f"reads {verdict.match.album.title} but the volume is unclear "
                           f"(also in the catalog: {others})")  # fmt: skip
        return verdict


def _numbered_volumes(catalog: Sequence[CatalogAlbum]) -> dict[int, list[str]]:
    """Albums whose title, plus a number, is another album by the same artist (Led Zeppelin)."""
    volumes: dict[int, list[str]] = {}
    for album in catalog:
        name = words(album.title)
        for other in catalog:
            extra = words(other.title)[len(name) :]
            if (
                other.artist == album.artist
                and words(other.title)[: len(name)] == name
                and extra
                and all(token.isdigit() or _ROMAN.match(token) for token in extra)
            ):
                volumes.setdefault(album.release_id, []).append(other.title)
    return volumes


def _windows(tokens: list[str]) -> dict[int, list[_Window]]:
    """Runs of consecutive words, by length.

    OCR splits and merges words, so a field is compared, spaces removed, with runs one word
    shorter or longer than itself.
    """
    longest = len(tokens)
    return {
        size: [
            _Window(start, start + size, tuple(tokens[start : start + size]))
            for start in range(longest - size + 1)
        ]
        for size in range(1, longest + 1)
    }


def _best_hits(field: _Field, windows: dict[int, list[_Window]]) -> list[_Hit]:
    """Every run of words tied for the best score for ``field``, numerals checked.

    A name printed twice gives two hits; below the floor there are none.
    """
    pool = [
        window
        for size in range(max(1, field.length - 1), field.length + 2)
        for window in windows.get(size, [])
    ]
    found = process.extract(
        field.joined,
        [window.joined for window in pool],
        scorer=fuzz.ratio,
        score_cutoff=FIELD_FLOOR,
        limit=None,
    )
    hits: list[_Hit] = []
    for _, score, index in found:
        window = pool[index]
        numeral_score = _numerals_score(field.numerals, window)
        if numeral_score is not None:
            hits.append(_Hit(window, min(float(score), numeral_score)))
    best = max((hit.score for hit in hits), default=0.0)
    return [hit for hit in hits if hit.score == best]


def _numerals_score(numerals: tuple[str, ...], window: _Window) -> float | None:
    """Score the numbers of a field: 100 if all are present, None if one is missing.

    Every number must be a word of the window (``NEAR_NUMERAL_SCORE`` when a roman numeral is
    one letter off).
    "Led Zeppelin II" must not match a cover reading "Led Zeppelin III", and "1989" must not
    match "1999": fuzzy similarity alone would accept both.
    """
    if not numerals:
        return 100.0
    read = [_as_numeral(token) for token in window.tokens]
    score = 100.0
    for numeral in numerals:
        if numeral in read:
            continue
        if _ROMAN.match(numeral) and any(_one_letter_apart(numeral, token) for token in read):
            score = min(score, NEAR_NUMERAL_SCORE)
            continue
        return None
    return score


def _as_numeral(token: str) -> str:
    if token.isdigit() or not set(token) <= set("ivxl1j"):
        return token
    return token.translate(_ROMAN_LOOKALIKES)


def _one_letter_apart(expected: str, read: str) -> bool:
    return (
        len(expected) == len(read)
        and set(read) <= set("ivx")
        and sum(a != b for a, b in zip(expected, read, strict=True)) == 1
    )


def _candidate(
    album: CatalogAlbum, artists: list[_Hit], titles: list[_Hit], tokens: list[str]
) -> _Candidate | None:
    """The reading of artist and title that explains the most text.

    None when that reading rests on one name which does not dominate the text.
    """
    artist, title = max(
        ((artist, title) for artist in artists for title in titles),
        key=lambda pair: _coverage(pair, tokens),
    )
    covered = _covered(artist, title)
    # The title adds no words of its own: the cover may just show a name (self-titled album).
    name_only = title.window.within(artist.window)
    if name_only:
        total = sum(len(token) for token in tokens if len(token) > 1)
        named = sum(len(tokens[index]) for index in covered if len(tokens[index]) > 1)
        if total == 0 or named / total < NAME_ONLY_SHARE:
            return None
    return _Candidate(
        album=album,
        score=min(artist.score, title.score),
        explained=sum(len(tokens[index]) for index in covered),
        name_only=name_only,
    )


def _covered(artist: _Hit, title: _Hit) -> set[int]:
    return set(range(artist.window.start, artist.window.end)) | set(
        range(title.window.start, title.window.end)
    )


def _coverage(pair: tuple[_Hit, _Hit], tokens: list[str]) -> tuple[int, int]:
    """Characters explained by an artist and title reading, then (tie) the earlier reading."""
    artist, title = pair
    explained = sum(len(tokens[index]) for index in _covered(artist, title))
    return explained, -min(artist.window.start, title.window.start)


def _decide(candidates: list[_Candidate], tokens: list[str]) -> Verdict:
    """Prefer the album that explains the most text, then the better score; refuse near-ties."""
    if not candidates:
        preview = " ".join(tokens)[:80]
        return Verdict(None, f"no catalog album matches the text read: {preview}")
    ranked = sorted(candidates, key=lambda c: (c.explained, c.score), reverse=True)
    best = ranked[0]
    for other in ranked[1:]:
        if other.album.release_id == best.album.release_id:
            continue
        if other.explained == best.explained and best.score - other.score < AMBIGUITY_MARGIN:
            return Verdict(
                None,
                f"text fits more than one album: {best.album.title} / {other.album.title}",
            )
        break
    return Verdict(Match(best.album, best.score, best.name_only))
