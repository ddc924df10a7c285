"""Discovery's English catalog is complete, keeps every placeholder, and the committed .mo matches the .po."""

from __future__ import annotations

import gettext
import re
from collections import Counter
from pathlib import Path

import polib
import pytest

APP = Path(__file__).resolve().parents[2] / "platform" / "huoban" / "discovery"
PO = APP / "locale" / "en" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\([^)]+\)[sd]|%[sd]")
# single-literal calls in Python and {% translate "..." %} in templates
PY_STRING = re.compile(r"""\b(?:_|gettext|gettext_lazy|pgettext_lazy)\(\s*"((?:[^"\\]|\\.)*)"\s*[,)]""")
TEMPLATE_STRING = re.compile(r"""{%\s*translate\s+"([^"]*)"\s*%}""")


@pytest.fixture(scope="module")
def po() -> polib.POFile:
    return polib.pofile(str(PO))


def test_every_entry_is_translated_and_not_fuzzy(po: polib.POFile) -> None:
    active = [e for e in po if not e.obsolete]
    assert len(active) > 100
    assert [e.msgid for e in active if not (e.msgstr or all(e.msgstr_plural.values()))] == []
    assert [e.msgid for e in active if "fuzzy" in e.flags] == []


def test_placeholders_match(po: polib.POFile) -> None:
    for entry in po:
        strings = [entry.msgstr] if not entry.msgid_plural else list(entry.msgstr_plural.values())
        for msgstr in strings:
            assert Counter(PLACEHOLDER.findall(msgstr)) == Counter(PLACEHOLDER.findall(entry.msgid)), entry.msgid


def test_every_string_of_the_app_is_in_the_catalog(po: polib.POFile) -> None:
    msgids = {e.msgid for e in po}
    used: set[str] = set()
    for path in APP.rglob("*.py"):
        if "migrations" not in path.parts:
            used.update(PY_STRING.findall(path.read_text(encoding="utf-8")))
    for path in (APP / "templates").rglob("*.*"):
        used.update(TEMPLATE_STRING.findall(path.read_text(encoding="utf-8")))
    assert sorted(s for s in used if re.search(r"[\u4e00-\u9fff]", s) and s not in msgids) == []


def test_committed_mo_is_up_to_date(po: polib.POFile) -> None:
    with PO.with_suffix(".mo").open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    stale = [e.msgid for e in po.translated_entries() if not e.msgid_plural and compiled.gettext(e.msgid) != e.msgstr]
    assert stale == [], "recompile: polib.pofile(po).save_as_mofile(mo)"
