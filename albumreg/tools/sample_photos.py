"""Synthetic shelf photos: six drawn album covers in a 3x2 grid, with their ground truth.

Used by the tests, the recognition benchmark and ``albumreg make-sample``. Draws with Pillow
and the Debian DejaVu fonts; deterministic for a given seed. Local only: never imported by
``handlers``.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from albumreg.cloud.catalog import CatalogAlbum, load_catalog

SAMPLE_PHOTO = Path(__file__).with_name("data") / "sample-shelf.jpg"
"""The demo photo (clean variant, the six ``DEMO_ALBUMS``), regenerated with
``albumreg make-sample --demo-albums --out albumreg/tools/data/sample-shelf.jpg``."""

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = (
    "DejaVuSans-Bold.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSansCondensed-Bold.ttf",
    "DejaVuSans.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSansMono-Bold.ttf",
)

VARIANTS = (
    "clean",
    "rotated",
    "noisy",
    "jpeg",
    "lowres",
    "notext",
    "outside",
    "scattered",
)
"""Every kind of photo the benchmark measures; ``clean`` is the bundled demo sample."""

DEMO_ALBUMS = (
    ("Kind of Blue", "Miles Davis"),
    ("Abbey Road", "The Beatles"),
    ("Rumours", "Fleetwood Mac"),
    ("Blue", "Joni Mitchell"),
    ("Purple Rain", "Prince"),
    ("OK Computer", "Radiohead"),
)

OUTSIDE_ALBUMS = (
    ("Birth of the Cool", "Miles Davis"),
    ("Kind of Red", "Miles Davis"),
    ("Tango in the Night", "Fleetwood Mac"),
    ("Purple Haze", "Prince"),
    ("Amnesiac", "Radiohead"),
    ("Hejira", "Joni Mitchell"),
    ("Glass Harbour", "The Night Ferries"),
    ("Paper Lanterns", "Mira Solano"),
    ("Northern Static", "Velvet Engine"),
    ("Saltwater Hymns", "Orla Quinn"),
    ("Neon Orchard", "The Copper Kites"),
    ("Quiet Machines", "Halden Rue"),
)
"""Albums NOT in the catalog; half share an artist or a title word with one that is."""

COVER_PX = 440
_MIN_POINTS = 14
GAP_PX = 44
MARGIN_PX = 72
CANVAS = (3 * COVER_PX + 2 * GAP_PX + 2 * MARGIN_PX, 2 * COVER_PX + GAP_PX + 2 * MARGIN_PX)

_PALETTE = (
    (24, 38, 92),
    (196, 48, 43),
    (241, 196, 15),
    (30, 132, 73),
    (236, 236, 228),
    (20, 20, 22),
    (142, 68, 173),
    (230, 126, 34),
    (52, 152, 219),
    (245, 183, 177),
    (93, 109, 126),
    (22, 160, 133),
)

Color = tuple[int, int, int]


class FontsMissingError(RuntimeError):
    """The DejaVu fonts are not installed; the message says how to get them."""


@dataclass(frozen=True)
class Sample:
    """One generated photo and what is on it.

    Attributes:
        image: the JPEG bytes.
        truth: per slot (1..6, row by row), the catalog album drawn there, or None when the
            cover has no text or shows an album outside the catalog.
        drawn: per slot, what the cover shows, for reports (``title / artist``).
        variant: one of ``VARIANTS``.
        seed: the seed that reproduces it.
    """

    image: bytes
    truth: tuple[CatalogAlbum | None, ...]
    drawn: tuple[str, ...]
    variant: str
    seed: int


@dataclass(frozen=True)
class _Cover:
    title: str
    artist: str
    album: CatalogAlbum | None
    text: bool = True


def fonts_available() -> bool:
    """Whether ``fonts()`` would succeed: tests skip with a reason instead of failing."""
    return all((FONT_DIR / name).is_file() for name in FONT_FILES)


def fonts() -> list[Path]:
    """The font files covers are drawn with.

    Raises:
        FontsMissingError: the Debian package ``fonts-dejavu-core`` is not installed.
    """
    paths = [FONT_DIR / name for name in FONT_FILES]
    missing = [path.name for path in paths if not path.is_file()]
    if missing:
        raise FontsMissingError(
            f"fonts missing in {FONT_DIR}: {', '.join(missing)}. Install the Debian package "
            "fonts-dejavu-core (`make setup` does, as root: apt-get install fonts-dejavu-core)."
        )
    return paths


def demo_albums(catalog: Sequence[CatalogAlbum] | None = None) -> list[CatalogAlbum]:
    """The six well-known albums of the bundled demo photo, in slot order."""
    by_name = {(album.title, album.artist): album for album in catalog or load_catalog()}
    return [by_name[name] for name in DEMO_ALBUMS]


def make_sample(
    variant: str = "clean",
    seed: int = 0,
    *,
    albums: Sequence[CatalogAlbum] | None = None,
    catalog: Sequence[CatalogAlbum] | None = None,
) -> Sample:
    """Draw one shelf photo.

    Args:
        variant: one of ``VARIANTS``.
        seed: the same seed always gives the same image.
        albums: six catalog albums in slot order; by default six drawn from the catalog by
            the seed.
        catalog: where albums are drawn from (the bundled catalog by default).

    Returns:
        The photo and its ground truth.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; expected one of {', '.join(VARIANTS)}")
    font_paths = fonts()
    rng = random.Random(f"{variant}:{seed}")  # noqa: S311 - reproducible drawings, not secrets
    chosen = list(albums) if albums is not None else rng.sample(list(catalog or load_catalog()), 6)
    if len(chosen) != 6:
        raise ValueError(f"a shelf photo shows six albums, got {len(chosen)}")
    covers = [_Cover(album.title, album.artist, album) for album in chosen]
    odd_slot = rng.randrange(6)
    if variant == "notext":
        covers[odd_slot] = _Cover("", "", None, text=False)
    elif variant == "outside":
        title, artist = rng.choice(OUTSIDE_ALBUMS)
        covers[odd_slot] = _Cover(title, artist, None)
    drawn = [_draw_cover(rng, cover, font_paths) for cover in covers]
    canvas = _shelf(rng)
    if variant == "scattered":
        _place_scattered(rng, canvas, drawn)
    else:
        _place_grid(canvas, drawn)
    return Sample(
        image=_finish(rng, canvas, variant),
        truth=tuple(cover.album for cover in covers),
        drawn=tuple(
            f"{cover.title} / {cover.artist}" if cover.text else "(no text)" for cover in covers
        ),
        variant=variant,
        seed=seed,
    )


def _finish(rng: random.Random, canvas: Image.Image, variant: str) -> bytes:
    """Apply the variant's photographic damage and encode as JPEG."""
    quality = 90
    if variant == "rotated":
        angle = rng.choice((-1, 1)) * rng.uniform(2.0, 4.5)
        canvas = canvas.rotate(
            angle, resample=Image.Resampling.BICUBIC, fillcolor=canvas.getpixel((2, 2))
        )
    elif variant == "noisy":
        noise = Image.frombytes("RGB", canvas.size, rng.randbytes(canvas.width * canvas.height * 3))
        canvas = Image.blend(canvas, noise, 0.2).filter(ImageFilter.GaussianBlur(1.4))
    elif variant == "jpeg":
        quality = 12
    elif variant == "lowres":
        canvas = canvas.resize(
            (round(canvas.width * 0.45), round(canvas.height * 0.45)), Image.Resampling.LANCZOS
        )
    buffer = io.BytesIO()
    canvas.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def _shelf(rng: random.Random) -> Image.Image:
    """A wooden shelf: brown planks with grain, so covers stand out as on a real photo."""
    base: Color = (rng.randint(105, 140), rng.randint(70, 90), rng.randint(40, 55))
    canvas = Image.new("RGB", CANVAS, base)
    draw = ImageDraw.Draw(canvas)
    for _ in range(260):
        y = rng.randrange(CANVAS[1])
        shade = rng.randint(-22, 22)
        color = tuple(max(0, min(255, channel + shade)) for channel in base)
        points = [
            (x, y + round(3 * math.sin(x / rng.uniform(60, 160))))
            for x in range(0, CANVAS[0] + 40, 40)
        ]
        draw.line(points, fill=color, width=rng.randint(1, 3))
    for x in range(0, CANVAS[0], CANVAS[0] // 4):
        draw.line([(x, 0), (x, CANVAS[1])], fill=(60, 38, 22), width=3)
    return canvas


def _place_grid(canvas: Image.Image, covers: list[Image.Image]) -> None:
    for index, cover in enumerate(covers):
        row, column = divmod(index, 3)
        left = MARGIN_PX + column * (COVER_PX + GAP_PX)
        top = MARGIN_PX + row * (COVER_PX + GAP_PX)
        _paste_with_shadow(canvas, cover, (left, top))


def _place_scattered(rng: random.Random, canvas: Image.Image, covers: list[Image.Image]) -> None:
    """Covers of varied size, tilted and offset, rows shifted: not a grid a fixed split fits.

    Row membership stays unambiguous (top row centres in the upper half), which is what
    numbering "row by row" needs.
    """
    width, height = CANVAS
    for row in range(2):
        shift = rng.uniform(-0.07, 0.07) * width
        for column in range(3):
            cover = covers[row * 3 + column]
            side = round(COVER_PX * rng.uniform(0.72, 0.88))
            tilted = cover.resize((side, side), Image.Resampling.LANCZOS).rotate(
                rng.uniform(-7, 7), resample=Image.Resampling.BICUBIC, expand=True
            )
            centre_x = width * (0.5 + (column - 1) * 0.3) + shift + rng.uniform(-25, 25)
            centre_y = height * (0.27 if row == 0 else 0.73) + rng.uniform(-30, 30)
            _paste_with_shadow(
                canvas,
                tilted,
                (round(centre_x - tilted.width / 2), round(centre_y - tilted.height / 2)),
            )


def _paste_with_shadow(canvas: Image.Image, cover: Image.Image, at: tuple[int, int]) -> None:
    """Paste a cover with a soft drop shadow: the edge a photo of a real sleeve would show."""
    mask = cover.getchannel("A")
    shadow = Image.new("L", canvas.size, 0)
    shadow.paste(mask, (at[0] + 7, at[1] + 9))
    shadow = shadow.filter(ImageFilter.GaussianBlur(6)).point(lambda value: value * 3 // 4)
    canvas.paste(Image.new("RGB", canvas.size, (25, 15, 8)), (0, 0), shadow)
    canvas.paste(cover.convert("RGB"), at, mask)


def _draw_cover(rng: random.Random, cover: _Cover, font_paths: list[Path]) -> Image.Image:
    """One square cover: a coloured background, some shapes, and artist and title text."""
    size = COVER_PX
    background = rng.choice(_PALETTE)
    image = Image.new("RGBA", (size, size), (*background, 255))
    draw = ImageDraw.Draw(image)
    layout = rng.choice(_LAYOUTS)
    layout(rng, draw, size, background, cover, font_paths)
    return image


def _shapes(
    rng: random.Random, draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], avoid: Color
) -> None:
    """Decoration in ``box``: circles, stripes or blocks in colours other than ``avoid``."""
    left, top, right, bottom = box
    if right - left < 20 or bottom - top < 20:
        return
    colors = [color for color in _PALETTE if color != avoid]
    style = rng.choice(("circles", "stripes", "blocks", "triangles"))
    for _ in range(rng.randint(3, 7)):
        color = rng.choice(colors)
        x0, x1 = sorted(rng.randint(left, right) for _ in range(2))
        y0, y1 = sorted(rng.randint(top, bottom) for _ in range(2))
        if style == "circles":
            radius = rng.randint(12, max(13, (bottom - top) // 3))
            cx, cy = rng.randint(left, right), rng.randint(top, bottom)
            draw.ellipse(
                (
                    max(left, cx - radius),
                    max(top, cy - radius),
                    min(right, cx + radius),
                    min(bottom, cy + radius),
                ),
                fill=color,
            )
        elif style == "stripes":
            draw.rectangle((left, y0, right, min(bottom, y0 + rng.randint(6, 24))), fill=color)
        elif style == "blocks":
            draw.rectangle((x0, y0, max(x0 + 8, x1), max(y0 + 8, y1)), fill=color)
        else:
            draw.polygon([(x0, bottom), (x1, bottom), ((x0 + x1) // 2, y0)], fill=color)


def _ink(background: Color) -> Color:
    """Black or white, whichever reads better on ``background``."""
    red, green, blue = background
    luminance = 0.299 * red + 0.587 * green + 0.114 * blue
    return (15, 15, 15) if luminance > 140 else (250, 250, 245)


def _fit(
    draw: ImageDraw.ImageDraw,
    text: str,
    font_path: Path,
    size: int,
    box: tuple[int, int, int, int],
    max_lines: int,
) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The largest font (from ``size`` down) at which ``text`` fits ``box`` in ``max_lines``."""
    left, top, right, bottom = box
    for points in range(size, _MIN_POINTS, -2):
        font = ImageFont.truetype(str(font_path), points)
        lines = _wrap(draw, text, font, right - left)
        if len(lines) <= max_lines and len(lines) * _line_height(font) <= bottom - top:
            return font, lines
    font = ImageFont.truetype(str(font_path), _MIN_POINTS)
    return font, _wrap(draw, text, font, right - left)


def _line_height(font: ImageFont.FreeTypeFont) -> int:
    return round(font.size * 1.22)


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int
) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(candidate, font=font) <= width:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines


def _text_block(
    draw: ImageDraw.ImageDraw,
    text: str,
    font_path: Path,
    *,
    size: int,
    box: tuple[int, int, int, int],
    ink: Color,
    align: str = "center",
    max_lines: int = 3,
) -> int:
    """Draw wrapped text inside ``box``; returns the y just below it."""
    left, top, right, _ = box
    font, lines = _fit(draw, text, font_path, size, box, max_lines)
    y = top
    for line in lines:
        line_width = draw.textlength(line, font=font)
        x = left if align == "left" else left + (right - left - line_width) / 2
        draw.text((x, y), line, font=font, fill=ink)
        y += _line_height(font)
    return y


def _cased(rng: random.Random, text: str) -> str:
    return text.upper() if rng.random() < 0.5 else text


def _lines_for(rng: random.Random, cover: _Cover) -> tuple[str, str | None]:
    """Title and artist as printed; a self-titled album prints its name once."""
    title = _cased(rng, cover.title)
    if cover.title.casefold() == cover.artist.casefold():
        return title, None
    return title, _cased(rng, cover.artist)


def _layout_top_bottom(
    rng: random.Random,
    draw: ImageDraw.ImageDraw,
    size: int,
    background: Color,
    cover: _Cover,
    font_paths: list[Path],
) -> None:
    pad = size // 14
    _shapes(rng, draw, (pad, size // 4, size - pad, size * 3 // 5), background)
    if not cover.text:
        _shapes(rng, draw, (pad, pad, size - pad, size - pad), background)
        return
    ink = _ink(background)
    title, artist = _lines_for(rng, cover)
    if artist:
        _text_block(
            draw, artist, rng.choice(font_paths), size=size // 12,
            box=(pad, pad, size - pad, size // 4), ink=ink, max_lines=2,
        )  # fmt: skip
    _text_block(
        draw, title, rng.choice(font_paths), size=size // 9,
        box=(pad, size * 2 // 3, size - pad, size - pad), ink=ink,
    )  # fmt: skip


def _layout_band(
    rng: random.Random,
    draw: ImageDraw.ImageDraw,
    size: int,
    background: Color,
    cover: _Cover,
    font_paths: list[Path],
) -> None:
    pad = size // 14
    _shapes(rng, draw, (0, 0, size, size // 3), background)
    _shapes(rng, draw, (0, size * 3 // 4, size, size), background)
    band = rng.choice([color for color in _PALETTE if color != background])
    draw.rectangle((0, size // 3 + 8, size, size * 3 // 4 - 8), fill=band)
    if not cover.text:
        return
    ink = _ink(band)
    title, artist = _lines_for(rng, cover)
    y = size // 3 + 22
    if artist:
        y = _text_block(
            draw, artist, rng.choice(font_paths), size=size // 13,
            box=(pad, y, size - pad, y + size // 8), ink=ink, max_lines=1,
        )  # fmt: skip
    _text_block(
        draw, title, rng.choice(font_paths), size=size // 10,
        box=(pad, y + 6, size - pad, size * 3 // 4), ink=ink, max_lines=2,
    )  # fmt: skip


def _layout_corner(
    rng: random.Random,
    draw: ImageDraw.ImageDraw,
    size: int,
    background: Color,
    cover: _Cover,
    font_paths: list[Path],
) -> None:
    pad = size // 12
    _shapes(rng, draw, (size // 3, size // 2, size - pad, size - pad), background)
    if not cover.text:
        _shapes(rng, draw, (pad, pad, size // 2, size // 2), background)
        return
    ink = _ink(background)
    title, artist = _lines_for(rng, cover)
    y = _text_block(
        draw, title, rng.choice(font_paths), size=size // 10,
        box=(pad, pad, size - pad, size // 2), ink=ink, align="left",
    )  # fmt: skip
    if artist:
        _text_block(
            draw, artist, rng.choice(font_paths), size=size // 14,
            box=(pad, y + 8, size - pad, y + size // 6), ink=ink, align="left", max_lines=2,
        )  # fmt: skip


def _layout_plate(
    rng: random.Random,
    draw: ImageDraw.ImageDraw,
    size: int,
    background: Color,
    cover: _Cover,
    font_paths: list[Path],
) -> None:
    """A light plate at the bottom holding the text, like many jazz labels' sleeves."""
    pad = size // 16
    _shapes(rng, draw, (pad, pad, size - pad, size * 3 // 5), background)
    if not cover.text:
        return
    plate = (236, 232, 220) if _ink(background) == (250, 250, 245) else (25, 25, 30)
    draw.rectangle((pad, size * 3 // 5 + 6, size - pad, size - pad), fill=plate)
    ink = _ink(plate)
    title, artist = _lines_for(rng, cover)
    y = size * 3 // 5 + 18
    if artist:
        y = _text_block(
            draw, artist, rng.choice(font_paths), size=size // 14,
            box=(2 * pad, y, size - 2 * pad, y + size // 8), ink=ink, max_lines=1,
        )  # fmt: skip
    _text_block(
        draw, title, rng.choice(font_paths), size=size // 11,
        box=(2 * pad, y + 4, size - 2 * pad, size - pad), ink=ink, max_lines=2,
    )  # fmt: skip


_LAYOUTS: tuple[Callable[..., None], ...] = (
    _layout_top_bottom,
    _layout_band,
    _layout_corner,
    _layout_plate,
)
