"""The pool's English catalog (hubs/pool/locale) is complete, compiled, keeps placeholders, and is served."""

from __future__ import annotations

import gettext
import re
from collections import Counter
from pathlib import Path

import polib
import pytest
from django.utils import translation

PO = Path(__file__).resolve().parents[2] / "hubs/pool/locale/en/LC_MESSAGES/django.po"
PLACEHOLDER = re.compile(r"%\([^)]+\)[sd]")


def test_catalog_is_complete_and_compiled() -> None:
    po = polib.pofile(str(PO))
    active = [e for e in po if not e.obsolete]
    assert [e.msgid for e in active if not e.msgstr.strip() or "fuzzy" in e.flags] == []
    for entry in active:
        assert Counter(PLACEHOLDER.findall(entry.msgstr)) == Counter(PLACEHOLDER.findall(entry.msgid)), entry.msgid
    with PO.with_suffix(".mo").open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    assert [e.msgid for e in po.translated_entries() if compiled.gettext(e.msgid) != e.msgstr] == []


@pytest.mark.django_db
def test_pool_pages_speak_english(client_for, hub_a, world) -> None:  # type: ignore[no-untyped-def]
    with translation.override("en"):
        assert (
            translation.gettext("只有本互助金的委员可以进行此操作。")
            == "Only this pool's committee members can do this."
        )
    client = client_for(world.staff, hub_a)
    client.cookies["huoban_language"] = "en"
    page = client.get(f"/pool/{world.pool.pk}/").content.decode()
    assert "Available to lend" in page and "Delinquency" in page
