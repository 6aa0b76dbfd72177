"""Open raster documents safely: decompression bombs, truncation, EXIF rotation, TIFF frames."""

from __future__ import annotations

import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from fieldwise.ingest.errors import IngestError


def _open(path: Path, max_pixels: int) -> Image.Image:
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise IngestError(_too_big(path, max_pixels), "open") from None
    except UnidentifiedImageError:
        raise IngestError("image is corrupt: its header cannot be read", "open") from None
    except OSError as exc:
        raise IngestError(f"image cannot be opened ({exc})", "open") from None


def _too_big(path: Path, max_pixels: int) -> str:
    Image.MAX_IMAGE_PIXELS = None  # reading the header decodes no pixels
    try:
        with Image.open(path) as probe:
            w, h = probe.size
        size = f"{w}×{h} = {w * h / 1e6:,.0f} million pixels"
    except Exception:
        size = "its header claims too many pixels"
    finally:
        Image.MAX_IMAGE_PIXELS = max_pixels
    return f"image too large: {size}, over the limit of {max_pixels / 1e6:,.0f} million"


def _check_size(image: Image.Image, max_pixels: int) -> None:
    w, h = image.size
    if w * h > max_pixels:
        raise IngestError(
            f"image too large: {w}×{h} = {w * h / 1e6:,.0f} million pixels, "
            f"over the limit of {max_pixels / 1e6:,.0f} million",
            "open",
        )
    if w == 0 or h == 0:
        raise IngestError("image has no pixels (zero width or height)", "open")


def image_page_count(path: Path, max_pixels: int) -> int:
    """Number of frames (pages) in an image file; validates the header of each."""
    image = _open(path, max_pixels)
    with image:
        _check_size(image, max_pixels)
        return getattr(image, "n_frames", 1)


def load_image_page(path: Path, index: int, max_pixels: int) -> Image.Image:
    """Frame ``index`` (0-based), decoded, EXIF orientation applied, in a browser-safe mode."""
    image = _open(path, max_pixels)
    with image:
        try:
            if index:
                image.seek(index)
            _check_size(image, max_pixels)
            image.load()
            upright = ImageOps.exif_transpose(image)
        except IngestError:
            raise
        except (OSError, SyntaxError, ValueError) as exc:
            raise IngestError(f"image is truncated or corrupt ({exc})", "page") from None
        return browser_safe(upright if upright is not None else image)


def browser_safe(image: Image.Image) -> Image.Image:
    """8-bit grey or RGB: what every browser shows and every model reads the same way."""
    if image.mode in ("L", "RGB"):
        return image.copy() if image.readonly else image
    if image.mode in ("1", "I;16", "I;16B", "I;16L", "I", "F"):
        if image.mode.startswith("I") or image.mode == "F":
            image = ImageOps.autocontrast(image.convert("F").convert("L"))
        return image.convert("L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")
