"""``albumreg recognize``, ``make-sample`` and ``bench-recognition`` run in-process."""

from __future__ import annotations

import json

import pytest

from albumreg.cli.main import main
from albumreg.tools.sample_photos import SAMPLE_PHOTO, fonts_available
from handlers.domain.models import Extraction

needs_fonts = pytest.mark.skipif(
    not fonts_available(), reason="DejaVu fonts missing: install fonts-dejavu-core (make setup)"
)


def test_recognize_prints_the_six_albums(capsys):
    assert main(["recognize", str(SAMPLE_PHOTO)]) == 0
    out = capsys.readouterr().out
    for title in ("Kind of Blue", "Abbey Road", "Rumours", "Purple Rain", "OK Computer"):
        assert title in out
    assert "engine ocr:rapidocr" in out


def test_recognize_json_is_an_extraction(capsys):
    assert main(["recognize", str(SAMPLE_PHOTO), "--json"]) == 0
    extraction = Extraction.model_validate_json(capsys.readouterr().out)
    assert [album.year for album in extraction.albums] == [1959, 1969, 1977, 1971, 1984, 1997]


def test_recognize_missing_file_exits_2(capsys, tmp_path):
    assert main(["recognize", str(tmp_path / "nope.jpg")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_recognize_text_file_exits_2(capsys, tmp_path):
    path = tmp_path / "albums.jpg"
    path.write_text("Kind of Blue\n")
    assert main(["recognize", str(path)]) == 2
    assert "not a usable image" in capsys.readouterr().err


@needs_fonts
def test_make_sample_writes_the_photo_and_its_truth(capsys, tmp_path):
    out = tmp_path / "shelf.jpg"
    assert main(["make-sample", "--variant", "notext", "--seed", "3", "--out", str(out)]) == 0
    assert out.read_bytes()[:3] == b"\xff\xd8\xff"
    printed = capsys.readouterr().out
    assert printed.count("slot ") == 6
    assert "expect unrecognized" in printed


def test_bench_recognition_refuses_zero_images(capsys):
    assert main(["bench-recognition", "--images-per-variant", "0"]) == 2


@pytest.mark.slow
@needs_fonts
def test_bench_recognition_json_covers_every_variant(capsys):
    assert main(["bench-recognition", "--images-per-variant", "1", "--json"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert len(report["variants"]) == 8
    assert report["total"]["wrong"] == 0
    assert "warm-up" in captured.err
