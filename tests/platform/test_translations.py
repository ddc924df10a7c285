"""The English catalog is complete, keeps every placeholder, and the committed .mo matches the .po."""

from __future__ import annotations

import gettext
import re
from collections import Counter
from pathlib import Path

import polib
import pytest

LOCALE_DIR = Path(__file__).resolve().parents[2] / "platform" / "huoban" / "locale"
EN_PO = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po"
EN_MO = EN_PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\([^)]+\)[sd]|%[sd]")


@pytest.fixture(scope="module")
def en_po() -> polib.POFile:
    return polib.pofile(str(EN_PO))


def _msgstrs(entry: polib.POEntry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


def test_every_entry_is_translated_and_not_fuzzy(en_po: polib.POFile) -> None:
    assert len(en_po) > 0
    assert not en_po.metadata_is_fuzzy
    active = [e for e in en_po if not e.obsolete]
    untranslated = [e.msgid for e in active if not all(s.strip() for s in _msgstrs(e))]
    fuzzy = [e.msgid for e in active if "fuzzy" in e.flags]
    assert untranslated == []
    assert fuzzy == []


def test_placeholders_match(en_po: polib.POFile) -> None:
    mismatched = []
    for entry in en_po:
        if entry.obsolete:
            continue
        for msgstr in _msgstrs(entry):
            # A plural's singular may drop the count (e.g. "one item"), but never add placeholders.
            expected = Counter(PLACEHOLDER.findall(entry.msgid_plural or entry.msgid))
            found = Counter(PLACEHOLDER.findall(msgstr))
            if found != expected and not (entry.msgid_plural and found <= expected):
                mismatched.append((entry.msgid, msgstr))
    assert mismatched == []


def test_committed_mo_is_up_to_date(en_po: polib.POFile) -> None:
    assert EN_MO.exists(), "run: python platform/huoban/locale/compile.py"
    with EN_MO.open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    stale = []
    for entry in en_po.translated_entries():
        if entry.msgid_plural:
            got = [compiled.ngettext(entry.msgid, entry.msgid_plural, n) for n in (1, 2)]
            want = [entry.msgstr_plural[0], entry.msgstr_plural[1]]
        elif entry.msgctxt:
            got, want = [compiled.pgettext(entry.msgctxt, entry.msgid)], [entry.msgstr]
        else:
            got, want = [compiled.gettext(entry.msgid)], [entry.msgstr]
        if got != want:
            stale.append(entry.msgid)
    assert stale == [], "the .mo is out of date; run: python platform/huoban/locale/compile.py"


def test_django_serves_english() -> None:
    from django.utils import translation

    with translation.override("en"):
        assert translation.gettext("登录") == "Sign in"
        assert translation.gettext("运营控制台") == "Operator console"
    with translation.override("zh-hans"):
        assert translation.gettext("登录") == "登录"


def test_every_catalog_of_every_app_is_compiled() -> None:
    """Each app keeps its own catalog; the one compile script knows them all and finds none out of date."""
    from importlib import util
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "platform/huoban/locale/compile.py"
    spec = util.spec_from_file_location("locale_compile", script)
    assert spec and spec.loader
    module = util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found = {str(path.relative_to(module.REPO)).split("/locale/")[0] for path in module.catalogs()}
    assert {"platform/huoban", "hubs/partners", "hubs/calls", "hubs/pool", "hubs/needs", "hubs/projects"} <= found
    assert module.main(["--check"]) == 0
