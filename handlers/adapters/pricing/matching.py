"""Fuzzy matching of an album against search results, with the standard library only.

rapidfuzz is a local-only package, so the Lambda code scores with ``difflib`` and token sets.
Both price agents (deterministic and LLM) use this one scorer. Imports nothing outside stdlib.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

TITLE_WEIGHT = 0.6
"""The title says more than the artist: one artist has many albums, few albums share a title."""

TITLE_FLOOR = 0.75
ARTIST_FLOOR = 0.6
"""Each field must clear its own floor, so one strong field cannot carry a wrong album
(a self-titled album is otherwise "found" from the artist alone)."""

CREDIT_VARIANT_SCORE = 0.9
"""Artist credits that differ only by added words ("Prince" vs "Prince And The Revolution")."""

_DISCOGS_SUFFIX = re.compile(r"\s*(\(\d+\)|\*)\s*$")
_NOT_WORD = re.compile(r"[^\w]+")


@dataclass(frozen=True)
class Candidate:
    """A release the API offered, with artist and title already separated."""

    release_id: int
    artist: str
    title: str
    year: int | None = None


@dataclass(frozen=True)
class Match:
    """The chosen release and how well its names agree with the album (0..1)."""

    candidate: Candidate
    score: float


def normalize(text: str) -> str:
    """Case, accents, punctuation and ``&`` vs ``and`` must not decide a match."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.casefold().replace("&", " and ")
    return " ".join(_NOT_WORD.sub(" ", plain).replace("_", " ").split())


def similarity(left: str, right: str) -> float:
    """Similarity of two normalized strings, insensitive to word order."""
    if left == right:
        return 1.0
    if not left or not right:
        return 0.0
    direct = SequenceMatcher(None, left, right, autojunk=False).ratio()
    reordered = SequenceMatcher(
        None, " ".join(sorted(left.split())), " ".join(sorted(right.split())), autojunk=False
    ).ratio()
    return max(direct, reordered)


def artist_similarity(wanted: str, offered: str) -> float:
    """Like ``similarity``, but a credit that only adds words still counts as the artist."""
    offered = _DISCOGS_SUFFIX.sub("", offered)
    left, right = normalize(wanted), normalize(offered)
    score = similarity(left, right)
    words_left, words_right = set(left.split()), set(right.split())
    if words_left and words_right and (words_left <= words_right or words_right <= words_left):
        score = max(score, CREDIT_VARIANT_SCORE)
    return score


def _field_scores(artist: str, title: str, candidate: Candidate) -> tuple[float, float]:
    return (
        artist_similarity(artist, candidate.artist),
        similarity(normalize(title), normalize(candidate.title)),
    )


def name_score(artist: str, title: str, candidate: Candidate) -> float | None:
    """Weighted agreement of artist and title, or None when either field is below its floor."""
    artist_score, title_score = _field_scores(artist, title, candidate)
    if title_score < TITLE_FLOOR or artist_score < ARTIST_FLOOR:
        return None
    return TITLE_WEIGHT * title_score + (1 - TITLE_WEIGHT) * artist_score


def raw_name_score(artist: str, title: str, candidate: Candidate) -> float:
    """The same weighted agreement without floors: how far a chosen release is from the text."""
    artist_score, title_score = _field_scores(artist, title, candidate)
    return TITLE_WEIGHT * title_score + (1 - TITLE_WEIGHT) * artist_score


def best_match(
    artist: str, title: str, year: int | None, candidates: Iterable[Candidate]
) -> Match | None:
    """The best-named candidate; among equally named ones (pressings), the one of that year.

    Ties beyond that keep the API's own relevance order.
    """
    best: tuple[float, bool] | None = None
    chosen: Match | None = None
    for candidate in candidates:
        score = name_score(artist, title, candidate)
        if score is None:
            continue
        key = (score, year is not None and candidate.year == year)
        if best is None or key > best:
            best, chosen = key, Match(candidate, score)
    return chosen
