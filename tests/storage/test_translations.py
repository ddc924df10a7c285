"""The storage app's English catalog is complete, compiled, and served."""

from __future__ import annotations

import gettext
from pathlib import Path

import polib
from django.utils import translation

PO = Path(__file__).resolve().parents[2] / "platform/huoban/storage/locale/en/LC_MESSAGES/django.po"


def test_every_storage_string_has_english_and_the_mo_matches() -> None:
    po = polib.pofile(str(PO))
    with PO.with_suffix(".mo").open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)

    assert [e.msgid for e in po if not e.obsolete and (not e.msgstr.strip() or "fuzzy" in e.flags)] == []
    assert [e.msgid for e in po.translated_entries() if compiled.gettext(e.msgid) != e.msgstr] == []


def test_storage_pages_speak_english() -> None:
    from huoban.storage.models import OrganisationDocument

    with translation.override("en"):
        assert translation.gettext("资质文件") == "Documents"
        assert OrganisationDocument(reviewer_label="平台运营").reviewer_display == "Platform operations"
    with translation.override("zh-hans"):
        assert OrganisationDocument(reviewer_label="平台运营").reviewer_display == "平台运营"
