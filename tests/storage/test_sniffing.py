"""Content sniffing: what a file is, by its bytes."""

from __future__ import annotations

import io

import pytest

from huoban.storage import sniffing
from tests.storage import samples


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (samples.pdf(), sniffing.PDF),
        (samples.png(), sniffing.PNG),
        (samples.jpeg(), sniffing.JPEG),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32, sniffing.WEBP),
        (samples.docx(), sniffing.DOCX),
        (samples.xlsx(), sniffing.XLSX),
        (samples.csv_gb18030(), sniffing.CSV),
        ("\ufeff名称,金额\n甲,1\n".encode(), sniffing.CSV),
        ("活动总结：今天一共服务了 32 位老人。\n".encode(), sniffing.TEXT),
        (samples.docm(), sniffing.UNKNOWN),
        (samples.plain_zip(), sniffing.UNKNOWN),
        (samples.exe(), sniffing.UNKNOWN),
        (samples.html(), sniffing.UNKNOWN),
        (b"  <svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", sniffing.UNKNOWN),
        (b"name,amount\n<script>alert(1)</script>,1\n", sniffing.UNKNOWN),
        (b"abc\x00def\n", sniffing.UNKNOWN),
        (b"\x1b[31mred\n", sniffing.UNKNOWN),
        (b"", sniffing.UNKNOWN),
    ],
    ids=[
        "pdf",
        "png",
        "jpeg",
        "webp",
        "docx",
        "xlsx",
        "csv-gb18030",
        "csv-utf8-bom",
        "text",
        "macro-docx",
        "zip",
        "exe",
        "html",
        "svg",
        "script-in-csv",
        "nul",
        "escape",
        "empty",
    ],
)
def test_content_type_by_bytes(data: bytes, expected: str) -> None:
    fileobj = io.BytesIO(data)

    assert sniffing.content_type_detect(fileobj) == expected
    assert fileobj.tell() == 0


def test_a_large_csv_cut_in_the_middle_of_a_character_is_still_csv() -> None:
    row = "社区互助,1200,成都市武侯区\n".encode()
    data = row * (sniffing.TEXT_SAMPLE_BYTES // len(row) + 5)

    assert sniffing.content_type_detect(io.BytesIO(data)) == sniffing.CSV
