"""The strict catalog matcher: right albums from OCR text, never a wrong one from stray words."""

from __future__ import annotations

import pytest

from albumreg.cloud.catalog import load_catalog
from albumreg.cloud.recognition.matcher import CatalogMatcher, words


@pytest.fixture(scope="module")
def matcher() -> CatalogMatcher:
    return CatalogMatcher(load_catalog())


def matched(matcher: CatalogMatcher, *lines: str) -> tuple[str, str] | None:
    verdict = matcher.match(lines)
    return (verdict.match.album.title, verdict.match.album.artist) if verdict.match else None


def test_words_drop_accents_apostrophes_and_punctuation():
    assert words("Déjà Vu") == ["deja", "vu"]
    assert words("Sgt. Pepper's Lonely") == ["sgt", "peppers", "lonely"]
    assert words("AC/DC  Run-D.M.C.") == ["ac", "dc", "run", "d", "m", "c"]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (("MILES DAVIS", "KIND OF BLUE"), ("Kind of Blue", "Miles Davis")),
        (("Joni Mitchell", "Blue"), ("Blue", "Joni Mitchell")),
        (("THE BEATLES", "ABBEY ROAD"), ("Abbey Road", "The Beatles")),
        (("FLEETWOOD MAC", "RUMOURS"), ("Rumours", "Fleetwood Mac")),
        (("Radiohead", "OKCOMPUTER"), ("OK Computer", "Radiohead")),
        (("Fleet wood Mac", "Rurnours"), ("Rumours", "Fleetwood Mac")),
        (("Jean-Michel Jarre", "Oxygene"), ("Oxygène", "Jean-Michel Jarre")),
        (("Pearl Jam", "TEN"), ("Ten", "Pearl Jam")),
        (("Taylor Swift", "1989"), ("1989", "Taylor Swift")),
        (("PRINCE", "1999"), ("1999", "Prince")),
    ],
    ids=lambda value: "|".join(value) if isinstance(value, tuple) else value,
)
def test_match_finds_catalog_album(matcher, lines, expected):
    assert matched(matcher, *lines) == expected


def test_match_self_titled_album_from_its_name_alone(matcher):
    verdict = matcher.match(["FLEETWOOD MAC"])
    assert verdict.match is not None
    assert (verdict.match.album.title, verdict.match.name_only) == ("Fleetwood Mac", True)
    assert verdict.match.confidence < 1.0


def test_match_self_titled_album_printed_twice_is_not_name_only(matcher):
    verdict = matcher.match(["Weezer", "WEEZER"])
    assert verdict.match is not None
    assert (verdict.match.album.title, verdict.match.name_only) == ("Weezer", False)


@pytest.mark.parametrize("lines", [("LED ZEPPELIN",), ("LED ZEPPELIN", "LED ZEPPELIN")])
def test_match_flags_a_name_whose_numbered_volumes_cannot_be_ruled_out(matcher, lines):
    verdict = matcher.match(lines)
    assert verdict.match is None
    assert "volume is unclear" in verdict.reason
    assert "Led Zeppelin III" in verdict.reason


def test_match_numbered_title_wrapped_above_the_artist(matcher):
    assert matched(matcher, "LED ZEPPELIN", "III", "LED ZEPPELIN") == (
        "Led Zeppelin III",
        "Led Zeppelin",
    )


def test_match_prefers_the_album_that_explains_more_text_over_self_titled(matcher):
    assert matched(matcher, "Metallica", "S&M") == ("S&M", "Metallica")
    assert matched(matcher, "Plays Metallica by", "Four Cellos", "Apocalyptica") == (
        "Plays Metallica by Four Cellos",
        "Apocalyptica",
    )


@pytest.mark.parametrize(
    ("numeral", "title"),
    [
        ("II", "Led Zeppelin II"),
        ("III", "Led Zeppelin III"),
        ("IV", "Led Zeppelin IV"),
        ("Il", "Led Zeppelin II"),
        ("vI", "Led Zeppelin II"),
    ],
)
def test_match_roman_numerals_pick_the_right_volume(matcher, numeral, title):
    assert matched(matcher, "LED ZEPPELIN", numeral) == (title, "Led Zeppelin")


def test_match_read_numeral_lowers_confidence(matcher):
    verdict = matcher.match(["Led Zeppelin", "vI"])
    assert verdict.match is not None
    assert verdict.match.confidence < 1.0


@pytest.mark.parametrize(
    "lines",
    [
        ("Taylor Swift", "1999"),
        ("MILES DAVIS", "KIND OF RED"),
        ("MILES DAVIS", "BIRTH OF THE COOL"),
        ("Prince", "Purple Haze"),
        ("Fleetwood Mac", "Tango in the Night"),
        ("Radiohead", "Amnesiac"),
        ("Live in Boston", "The Night Ferries"),
        ("Blue", "Weezer Tribute Band"),
        ("Glass Harbour", "The Night Ferries"),
    ],
    ids="|".join,
)
def test_match_refuses_albums_outside_the_catalog(matcher, lines):
    verdict = matcher.match(lines)
    assert verdict.match is None
    assert "no catalog album matches" in verdict.reason


@pytest.mark.parametrize(
    "lines",
    [("xq7 ||| ~~",), ("STEREO", "33 1/3 RPM"), ("Blue",), ("The",), ("a", "b", "c")],
    ids="|".join,
)
def test_match_refuses_junk_and_single_words(matcher, lines):
    assert matched(matcher, *lines) is None


def test_match_reports_a_cover_without_text(matcher):
    verdict = matcher.match([])
    assert (verdict.match, verdict.reason) == (None, "no text found on this cover")


def test_match_flags_two_equally_good_albums():
    original = next(album for album in load_catalog() if album.title == "Rumours")
    twin = original.model_copy(update={"release_id": 1, "year": 2004})
    verdict = CatalogMatcher([original, twin]).match(["Fleetwood Mac", "Rumours"])
    assert verdict.match is None
    assert "more than one album" in verdict.reason
