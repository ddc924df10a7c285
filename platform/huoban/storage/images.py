"""Photos are kept without their metadata.

A phone's photo carries EXIF: where it was taken (GPS), when, on which device, sometimes the owner's name; PNG and
WebP carry text chunks and XMP. Site-visit, progress-report and resident-need photos can end up on public pages, so
a photo is decoded and written again from its pixels alone, in its own format, turned upright first (the EXIF
orientation is metadata too). A file that does not decode as the image its header claims is refused; so is one
whose pixel count exceeds ``HUOBAN_MAX_IMAGE_PIXELS`` (a decompression bomb: a few kilobytes that expand to
gigabytes).
"""

from __future__ import annotations

import hashlib
import tempfile
import warnings
from typing import IO

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from huoban.errors import ApplicationError
from huoban.storage import sniffing

DEFAULT_MAX_IMAGE_PIXELS = 40_000_000  # a 48-megapixel phone photo is refused; 40 MP covers the common ones
_FORMATS = {sniffing.JPEG: "JPEG", sniffing.PNG: "PNG", sniffing.WEBP: "WEBP"}
_SAVE_OPTIONS: dict[str, dict[str, object]] = {
    "JPEG": {"quality": 90, "optimize": True},
    "PNG": {"optimize": True},
    "WEBP": {"quality": 90},
}


def max_image_pixels() -> int:
    return int(getattr(settings, "HUOBAN_MAX_IMAGE_PIXELS", DEFAULT_MAX_IMAGE_PIXELS))


def _refuse() -> ApplicationError:
    return ApplicationError(
        _("图片无法读取：文件已损坏，或不是它声称的图片格式。"), code="invalid_image", extra={"field": "file"}
    )


def image_strip_metadata(fileobj: IO[bytes], content_type: str) -> tuple[IO[bytes], int, str]:
    """The image in ``fileobj`` written again without metadata: (new file at position 0, size, sha256 hex).

    ``content_type`` is the sniffed type (JPEG, PNG or WebP). Raises ``ApplicationError`` ``invalid_image`` if the
    bytes do not decode, and ``image_too_large`` past ``HUOBAN_MAX_IMAGE_PIXELS``."""
    fmt = _FORMATS[content_type]
    limit = max_image_pixels()
    fileobj.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(fileobj, formats=[fmt])
            width, height = image.size
            if width * height > limit:
                raise ApplicationError(
                    _("图片像素太多（%(width)d × %(height)d）：不能超过 %(limit)d 百万像素。")
                    % {"width": width, "height": height, "limit": limit // 1_000_000},
                    code="image_too_large",
                    extra={"field": "file", "width": width, "height": height, "max_pixels": limit},
                )
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
        EOFError,
        MemoryError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,  # raised, not warned, under the filter above
    ) as exc:
        raise _refuse() from exc
    if fmt == "JPEG" and upright.mode not in ("RGB", "L", "CMYK"):
        upright = upright.convert("RGB")
    # Pixels, palette and colour profile only (the profile describes colours, not the person); the encoders write
    # EXIF, XMP and text chunks only from what they are given, and they are given nothing else.
    icc_profile = upright.info.get("icc_profile")
    upright.info = {}
    out: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 (the caller closes it)
    try:
        upright.save(out, format=fmt, icc_profile=icc_profile, **_SAVE_OPTIONS[fmt])
    except (OSError, ValueError) as exc:
        out.close()
        raise _refuse() from exc
    size = out.tell()
    out.seek(0)
    digest = hashlib.sha256()
    for chunk in iter(lambda: out.read(64 * 1024), b""):
        digest.update(chunk)
    out.seek(0)
    return out, size, digest.hexdigest()
