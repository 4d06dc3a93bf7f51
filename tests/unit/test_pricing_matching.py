"""The standard-library matcher both price agents use: hazards of self-titled albums,
roman numerals, credit variants and shared title words."""

from __future__ import annotations

import pytest

from handlers.adapters.pricing.matching import (
    Candidate,
    artist_similarity,
    best_match,
    name_score,
    normalize,
    raw_name_score,
    similarity,
)


def chosen(artist: str, title: str, year: int | None, candidates: list[Candidate]) -> int:
    match = best_match(artist, title, year, candidates)
    assert match is not None
    return match.candidate.release_id


def test_normalize_ignores_case_accents_punctuation_and_ampersand():
    assert normalize("Déjà Vu") == normalize("deja vu")
    assert normalize("Simon & Garfunkel") == normalize("Simon and Garfunkel")
    assert normalize("Sgt. Pepper's  Lonely") == "sgt pepper s lonely"


def test_similarity_is_order_insensitive_and_bounded():
    assert similarity("kind of blue", "blue of kind") == 1.0
    assert 0.0 < similarity("abbey road", "abey rood") < 1.0
    assert similarity("", "blue") == 0.0


def test_artist_similarity_accepts_credit_variants_and_discogs_suffixes():
    assert artist_similarity("Prince", "Prince And The Revolution") >= 0.9
    assert artist_similarity("Beatles", "The Beatles") >= 0.9
    assert artist_similarity("Nirvana", "Nirvana (2)") == 1.0
    assert artist_similarity("Miles Davis", "Joni Mitchell") < 0.6


def test_best_match_prefers_exact_self_titled_over_sequel():
    candidates = [
        Candidate(2, "Led Zeppelin", "Led Zeppelin II", 1969),
        Candidate(1, "Led Zeppelin", "Led Zeppelin", 1969),
        Candidate(4, "Led Zeppelin", "Led Zeppelin IV", 1971),
    ]
    assert chosen("Led Zeppelin", "Led Zeppelin", None, candidates) == 1
    assert chosen("Led Zeppelin", "Led Zeppelin IV", None, candidates) == 4


def test_best_match_rejects_shared_title_word_by_other_artist():
    candidates = [Candidate(1, "Miles Davis", "Kind Of Blue", 1959)]
    assert best_match("Joni Mitchell", "Blue", 1971, candidates) is None
    assert best_match("Miles Davis", "Blue", 1959, candidates) is None


def test_best_match_rejects_artist_alone_for_self_titled_album():
    candidates = [Candidate(1, "Weezer", "Weezer", 1994)]
    assert best_match("Weezer", "Pinkerton", 1996, candidates) is None


@pytest.mark.parametrize("year, expected", [(1959, 10), (1997, 11), (None, 10)])
def test_best_match_uses_year_only_to_break_ties(year, expected):
    pressings = [
        Candidate(10, "Miles Davis", "Kind Of Blue", 1959),
        Candidate(11, "Miles Davis", "Kind Of Blue", 1997),
    ]
    assert chosen("Miles Davis", "Kind of Blue", year, pressings) == expected


def test_best_match_year_never_beats_a_better_name():
    candidates = [
        Candidate(1, "The Beatles", "Abbey Road", 2019),
        Candidate(2, "The Beatles", "Abbey Road Sessions", 1969),
    ]
    assert chosen("The Beatles", "Abbey Road", 1969, candidates) == 1


def test_name_score_orders_exact_above_misread():
    exact = Candidate(1, "The Beatles", "Abbey Road")
    misread = name_score("The Beatles", "Abey Rood", exact)
    assert name_score("The Beatles", "Abbey Road", exact) == 1.0
    assert misread is not None
    assert 0.75 < misread < 1.0


def test_raw_name_score_has_no_floor():
    candidate = Candidate(1, "Miles Davis", "Kind Of Blue")
    assert name_score("Joni Mitchell", "Blue", candidate) is None
    assert 0.0 < raw_name_score("Joni Mitchell", "Blue", candidate) < 0.6
