"""Small page images for sampling UIs and image models: letterboxed by default, or stretched."""

from __future__ import annotations

from PIL import Image


def make_thumbnail(image: Image.Image, size: tuple[int, int], stretch: bool = False) -> Image.Image:
    """``image`` scaled to ``size``, letterboxed on white (aspect kept) unless ``stretch``."""
    width, height = size
    if stretch:
        return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    scale = min(width / image.width, height / image.height)
    inner = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    scaled = image.resize(inner, Image.Resampling.BILINEAR, reducing_gap=2.0)
    fill = 255 if image.mode == "L" else (255, 255, 255)
    canvas = Image.new(image.mode, size, fill)
    canvas.paste(scaled, ((width - inner[0]) // 2, (height - inner[1]) // 2))
    return canvas
