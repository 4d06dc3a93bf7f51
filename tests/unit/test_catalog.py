"""The bundled sample catalog: complete, consistent and holding the albums other tests rely on."""

from __future__ import annotations

import unicodedata
from collections import Counter

import pytest
from pydantic import ValidationError

from albumreg.cloud.catalog import CONDITIONS, CatalogAlbum, load_catalog
from albumreg.tools.sample_photos import DEMO_ALBUMS


def test_catalog_has_at_least_160_albums():
    assert len(load_catalog()) >= 160


def test_catalog_release_ids_unique_and_synthetic():
    ids = [album.release_id for album in load_catalog()]
    assert len(ids) == len(set(ids))
    assert min(ids) >= 900001


def test_catalog_prices_cover_every_condition_and_decrease():
    for album in load_catalog():
        assert tuple(album.prices) == CONDITIONS, album.title
        amounts = [album.prices[c] for c in CONDITIONS]
        assert amounts == sorted(amounts, reverse=True), album.title
        assert len(set(amounts)) == len(amounts), album.title
        assert album.lowest_price > 0


def test_catalog_years_plausible():
    assert all(1900 <= album.year <= 2026 for album in load_catalog())


def test_catalog_text_printable_and_bounded():
    for album in load_catalog():
        for text in (album.title, album.artist, album.genre):
            assert 0 < len(text) <= 200
            assert not any(unicodedata.category(ch).startswith("C") for ch in text)


def test_catalog_contains_the_demo_albums_once_each():
    found = Counter((a.title, a.artist) for a in load_catalog())
    assert all(found[name] == 1 for name in DEMO_ALBUMS), DEMO_ALBUMS


def test_catalog_holds_fuzzy_matching_hazards():
    albums = load_catalog()
    self_titled = [a for a in albums if a.title == a.artist]
    per_artist = Counter(a.artist for a in albums)
    titles = {a.title for a in albums}
    assert len(self_titled) >= 3
    assert {"Led Zeppelin II", "Led Zeppelin IV"} <= titles
    assert max(per_artist.values()) >= 4
    assert sum("Blue" in a.title.split() for a in albums) >= 3


def test_catalog_spans_genres():
    genres = {a.genre for a in load_catalog()}
    assert {"Rock", "Jazz", "Soul", "Hip Hop", "Pop", "Electronic", "Classical Crossover"} <= genres


def test_catalog_is_loaded_once():
    assert load_catalog() is load_catalog()


def test_catalog_album_rejects_increasing_prices():
    good = load_catalog()[0].model_dump()
    bad_prices = dict(good["prices"])
    bad_prices["Poor (P)"] = bad_prices["Mint (M)"]
    with pytest.raises(ValidationError):
        CatalogAlbum.model_validate({**good, "prices": bad_prices})


def test_catalog_album_rejects_missing_condition():
    good = load_catalog()[0].model_dump()
    prices = {k: v for k, v in good["prices"].items() if k != "Fair (F)"}
    with pytest.raises(ValidationError):
        CatalogAlbum.model_validate({**good, "prices": prices})
