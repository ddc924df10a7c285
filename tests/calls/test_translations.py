"""The English catalog of calls (hubs/calls/locale) is complete, compiled, and served."""

from __future__ import annotations

import gettext
import re
from collections import Counter
from pathlib import Path

import polib

PO = Path(__file__).resolve().parents[2] / "hubs/calls/locale/en/LC_MESSAGES/django.po"
PLACEHOLDER = re.compile(r"%\([^)]+\)[sd]")


def test_every_string_has_english_with_its_placeholders_and_the_mo_matches() -> None:
    po = polib.pofile(str(PO))
    active = [e for e in po if not e.obsolete]
    untranslated = [
        e.msgid for e in active if not (e.msgstr.strip() or (e.msgstr_plural and all(e.msgstr_plural.values())))
    ]
    assert untranslated == [] and not [e.msgid for e in active if "fuzzy" in e.flags]
    for entry in active:
        for text in [entry.msgstr] if not entry.msgid_plural else list(entry.msgstr_plural.values()):
            assert Counter(PLACEHOLDER.findall(text)) <= Counter(PLACEHOLDER.findall(entry.msgid_plural or entry.msgid))
    with PO.with_suffix(".mo").open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    assert [
        e.msgid for e in po.translated_entries() if not e.msgid_plural and compiled.gettext(e.msgid) != e.msgstr
    ] == []


def test_call_pages_speak_english(client_for, hub_a, cast_a) -> None:  # type: ignore[no-untyped-def]
    client = client_for(cast_a.staff, hub_a)
    client.cookies["huoban_language"] = "en"
    page = client.get("/calls/new/").content.decode()
    assert "New call" in page and "Blind review" in page and "Government purchase of services" in page
