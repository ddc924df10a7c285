"""The needs app's English catalog (hubs/needs/locale) is complete, compiled and served."""

from __future__ import annotations

import gettext
import re
from collections import Counter
from pathlib import Path

import polib

PO = Path(__file__).resolve().parents[2] / "hubs/needs/locale/en/LC_MESSAGES/django.po"
PLACEHOLDER = re.compile(r"%\([^)]+\)[sd]")


def test_every_string_has_english_with_its_placeholders_and_the_mo_matches() -> None:
    po = polib.pofile(str(PO))
    active = [e for e in po if not e.obsolete]
    assert [
        e.msgid for e in active if not (e.msgstr.strip() or (e.msgstr_plural and all(e.msgstr_plural.values())))
    ] == []
    for entry in active:
        for text in [entry.msgstr] if not entry.msgid_plural else list(entry.msgstr_plural.values()):
            assert Counter(PLACEHOLDER.findall(text)) <= Counter(PLACEHOLDER.findall(entry.msgid_plural or entry.msgid))
    with PO.with_suffix(".mo").open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    assert [
        e.msgid for e in po.translated_entries() if not e.msgid_plural and compiled.gettext(e.msgid) != e.msgstr
    ] == []


def test_needs_pages_speak_english(client_for, hub_a) -> None:  # type: ignore[no-untyped-def]
    client = client_for(None, hub_a)
    client.cookies["huoban_language"] = "en"
    page = client.get("/needs/").content.decode()
    assert "Tell us a need" in page and "By channel" in page and "Home visit" in page
