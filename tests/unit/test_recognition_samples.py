"""The shelf-photo generator: deterministic, honest ground truth, clear failure without fonts."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from albumreg.tools import sample_photos as samples
from albumreg.tools.sample_photos import (
    VARIANTS,
    FontsMissingError,
    demo_albums,
    fonts_available,
    make_sample,
)

pytestmark = pytest.mark.skipif(
    not fonts_available(), reason="DejaVu fonts missing: install fonts-dejavu-core (make setup)"
)


def test_make_sample_is_deterministic_for_a_seed():
    assert make_sample("noisy", 11).image == make_sample("noisy", 11).image
    assert make_sample("noisy", 11).image != make_sample("noisy", 12).image


@pytest.mark.parametrize("variant", VARIANTS)
def test_make_sample_gives_a_jpeg_and_six_slots_of_truth(variant):
    sample = make_sample(variant, 2)
    assert Image.open(io.BytesIO(sample.image)).format == "JPEG"
    assert len(sample.truth) == len(sample.drawn) == 6
    flagged = [drawn for drawn, album in zip(sample.drawn, sample.truth, strict=True) if not album]
    assert len(flagged) == (1 if variant in ("notext", "outside") else 0)


def test_make_sample_outside_album_is_not_in_the_catalog():
    sample = make_sample("outside", 4)
    (drawn,) = [d for d, album in zip(sample.drawn, sample.truth, strict=True) if album is None]
    title, artist = drawn.split(" / ")
    assert (title, artist) in samples.OUTSIDE_ALBUMS
    catalog = {(album.title, album.artist) for album in demo_albums()}
    assert (title, artist) not in catalog


def test_make_sample_lowres_is_smaller():
    clean = Image.open(io.BytesIO(make_sample("clean", 1).image))
    small = Image.open(io.BytesIO(make_sample("lowres", 1).image))
    assert small.width < clean.width / 2


def test_demo_albums_are_the_catalog_entries_in_slot_order():
    albums = demo_albums()
    assert [(a.title, a.artist) for a in albums] == list(samples.DEMO_ALBUMS)
    assert len({a.release_id for a in albums}) == len(albums) == 6


def test_make_sample_rejects_unknown_variant():
    with pytest.raises(ValueError, match="unknown variant"):
        make_sample("polaroid")


def test_make_sample_names_the_missing_font_package(monkeypatch, tmp_path):
    monkeypatch.setattr(samples, "FONT_DIR", tmp_path)
    with pytest.raises(FontsMissingError, match="fonts-dejavu-core"):
        make_sample("clean")
