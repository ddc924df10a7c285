"""What a file really is, judged by its bytes, never by its name or the browser's claim.

Binary formats are recognised by their magic numbers with the ``filetype`` library (PDF, PNG, JPEG, WebP, zip and
the Office Open XML kinds). A zip that claims to be a Word or Excel file is then opened and must hold the parts
such a document has; macro-enabled documents are refused, whatever they are called. Anything else counts as text
only if it decodes as UTF-8 (with or without BOM) or GB 18030 (what Chinese Excel writes when it saves CSV), has no
control characters and does not look like markup, so an HTML page renamed ``.pdf`` or ``.csv`` is not accepted.
"""

from __future__ import annotations

import codecs
import csv
import zipfile
from typing import IO

import filetype

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
WEBP = "image/webp"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
TEXT = "text/plain"
UNKNOWN = "application/octet-stream"

# Short names for messages and the API.
LABELS: dict[str, str] = {
    PDF: "PDF",
    PNG: "PNG",
    JPEG: "JPEG",
    WEBP: "WebP",
    DOCX: "Word (.docx)",
    XLSX: "Excel (.xlsx)",
    CSV: "CSV",
    TEXT: "TXT",
}
EXTENSIONS: dict[str, str] = {
    PDF: "pdf",
    PNG: "png",
    JPEG: "jpg",
    WEBP: "webp",
    DOCX: "docx",
    XLSX: "xlsx",
    CSV: "csv",
    TEXT: "txt",
}

HEAD_BYTES = 8192
TEXT_SAMPLE_BYTES = 64 * 1024
_MAGIC = {PDF, PNG, JPEG, WEBP}
_OOXML_MAIN_PART = {DOCX: "word/document.xml", XLSX: "xl/workbook.xml"}
_OOXML_MAIN_TYPE = {
    DOCX: "wordprocessingml.document.main+xml",
    XLSX: "spreadsheetml.sheet.main+xml",
}
_CONTENT_TYPES_MAX = 256 * 1024
_MARKUP_STARTS = ("<!doctype", "<html", "<?xml", "<svg", "<script", "<head", "<body", "<iframe", "<!--", "<meta")
_ALLOWED_CONTROLS = {"\t", "\n", "\r", "\f"}


def content_type_detect(fileobj: IO[bytes]) -> str:
    """The content type of a seekable binary file, from its bytes; ``UNKNOWN`` for anything not recognised.

    Reads from the start and leaves the position at 0.
    """
    fileobj.seek(0)
    head = fileobj.read(HEAD_BYTES)
    fileobj.seek(0)
    if not head:
        return UNKNOWN
    kind = filetype.guess(head)
    if kind is not None:
        mime = "image/jpeg" if kind.mime == "image/jpg" else kind.mime
        if mime in _MAGIC:
            return mime
        if mime in (DOCX, XLSX, "application/zip"):
            return _ooxml_kind(fileobj)
        return UNKNOWN  # an executable, an archive, audio, ... : recognised, and not something we keep
    sample = fileobj.read(TEXT_SAMPLE_BYTES)
    fileobj.seek(0)
    return _text_kind(sample, truncated=len(sample) == TEXT_SAMPLE_BYTES)


def _ooxml_kind(fileobj: IO[bytes]) -> str:
    """DOCX or XLSX if the zip really is one (its main part and content types are there), else UNKNOWN."""
    try:
        with zipfile.ZipFile(fileobj) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" not in names:
                return UNKNOWN
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > _CONTENT_TYPES_MAX:
                return UNKNOWN
            content_types = archive.read(info).decode("utf-8", errors="replace")
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, RuntimeError, NotImplementedError):
        return UNKNOWN
    finally:
        fileobj.seek(0)
    if "macroEnabled" in content_types or any(name.lower().endswith("vbaproject.bin") for name in names):
        return UNKNOWN
    for mime, part in _OOXML_MAIN_PART.items():
        if part in names and _OOXML_MAIN_TYPE[mime] in content_types:
            return mime
    return UNKNOWN


def _decode_sample(sample: bytes) -> str | None:
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        try:
            # final=False: a sample cut in the middle of a multi-byte character is still text.
            return decoder.decode(sample, final=False)
        except UnicodeDecodeError:
            continue
    return None


def _text_kind(sample: bytes, *, truncated: bool) -> str:
    if b"\x00" in sample:
        return UNKNOWN
    text = _decode_sample(sample)
    if text is None or not text.strip():
        return UNKNOWN
    if any(ch < " " and ch not in _ALLOWED_CONTROLS for ch in text) or "\x7f" in text:
        return UNKNOWN
    lowered = text.lstrip().lower()
    if lowered.startswith(_MARKUP_STARTS) or "<script" in lowered or "<html" in lowered:
        return UNKNOWN
    all_lines = text.splitlines()
    if truncated and len(all_lines) > 1:
        all_lines = all_lines[:-1]  # the sample may end in the middle of a row
    lines = [line for line in all_lines[:20] if line.strip()]
    if len(lines) >= 2:
        try:
            dialect = csv.Sniffer().sniff("\n".join(lines), delimiters=",\t;")
        except csv.Error:
            return TEXT
        counts = {len(row) for row in csv.reader(lines, dialect)}
        if len(counts) == 1 and counts.pop() > 1:
            return CSV
    elif len(lines) == 1 and ("," in lines[0] or "\t" in lines[0]):
        return CSV
    return TEXT
