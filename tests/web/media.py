"""Real media bytes for the web tests: photos drawn with Pillow, minimal ISO-BMFF headers."""

from __future__ import annotations

import io
import struct

from PIL import Image, ImageDraw


def photo_bytes(format: str = "JPEG", size=(320, 240), label: str = "broken") -> bytes:
    image = Image.new("RGB", size, (235, 235, 235))
    draw = ImageDraw.Draw(image)
    draw.rectangle([20, 20, size[0] - 20, size[1] - 20], outline=(200, 30, 30), width=6)
    draw.line([40, 40, size[0] - 40, size[1] - 40], fill=(30, 30, 30), width=5)
    draw.text((30, size[1] - 50), label, fill=(0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format=format)
    return buffer.getvalue()


def iso_media_bytes(brand: bytes, payload_size: int = 256) -> bytes:
    """An ISO base media file start: an ftyp box of `brand` followed by an mdat box."""
    ftyp = struct.pack(">I4s4sI", 20, b"ftyp", brand, 0) + b"isom"
    mdat = struct.pack(">I4s", 8 + payload_size, b"mdat") + b"\0" * payload_size
    return ftyp + mdat
