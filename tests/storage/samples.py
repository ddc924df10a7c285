"""Small files of each kind, made here: real headers and structure, not real documents."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib


def pdf(size: int = 200) -> bytes:
    """A PDF of exactly ``size`` bytes."""
    head, tail = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n", b"\ntrailer << >>\n%%EOF\n"
    assert size >= len(head) + len(tail)
    return head + b"%" * (size - len(head) - len(tail)) + tail


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def jpeg(*, exif: bytes = b"", size: tuple[int, int] = (4, 3)) -> bytes:
    """A real (decodable) JPEG, with ``exif`` (raw EXIF bytes, e.g. ``Image.Exif().tobytes()``) if given."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def _zip(parts: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return buffer.getvalue()


_CT = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Override PartName="/{part}" ContentType="application/vnd.openxmlformats-officedocument.{main}"/></Types>'
)


def docx() -> bytes:
    return _zip(
        {
            "[Content_Types].xml": _CT.format(part="word/document.xml", main="wordprocessingml.document.main+xml"),
            "_rels/.rels": "<Relationships/>",
            "word/document.xml": "<w:document/>",
        }
    )


def xlsx() -> bytes:
    return _zip(
        {
            "[Content_Types].xml": _CT.format(part="xl/workbook.xml", main="spreadsheetml.sheet.main+xml"),
            "_rels/.rels": "<Relationships/>",
            "xl/workbook.xml": "<workbook/>",
        }
    )


def docm() -> bytes:
    """A macro-enabled Word file: refused whatever it is called."""
    return _zip(
        {
            "[Content_Types].xml": _CT.format(part="word/document.xml", main="wordprocessingml.document.main+xml")
            + "<!-- application/vnd.ms-word.document.macroEnabled.main+xml -->",
            "word/document.xml": "<w:document/>",
            "word/vbaProject.bin": "macro",
        }
    )


def plain_zip() -> bytes:
    return _zip({"readme.txt": "hello"})


def exe() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00" + b"\x00" * 64


def html() -> bytes:
    return b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def csv_gb18030() -> bytes:
    return "名称,金额（元）\n社区食堂,1200\n助老服务,800\n".encode("gb18030")
