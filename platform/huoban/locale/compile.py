"""Compile every django.po of the project (this folder and each app's locale folder) into the django.mo beside it.

Uses polib instead of GNU msgfmt:

    python platform/huoban/locale/compile.py           # write the .mo files
    python platform/huoban/locale/compile.py --check   # only report .mo files that are missing or out of date

Like msgfmt, fuzzy and obsolete entries are left out. The .mo files are committed, so a fresh checkout needs
neither gettext nor this script to run in another language.
"""

from __future__ import annotations

import argparse
import gettext
import io
import sys
from pathlib import Path

import polib

LOCALE_DIR = Path(__file__).resolve().parent
REPO = LOCALE_DIR.parents[2]
# The project catalog (this folder) and each app's own (``<app>/locale``).
PACKAGES = ("platform", "tenants", "hubs", "billing")


def catalogs() -> list[Path]:
    return sorted(po for package in PACKAGES for po in (REPO / package).rglob("locale/*/LC_MESSAGES/django.po"))


def _messages(mo: bytes) -> dict[object, str]:
    """What gettext reads from a compiled catalog, less the header (msgfmt and polib write it differently)."""
    catalog: dict[object, str] = dict(gettext.GNUTranslations(io.BytesIO(mo))._catalog)  # type: ignore[attr-defined]
    catalog.pop("", None)
    return catalog


def is_up_to_date(po_path: Path) -> bool:
    mo_path = po_path.with_suffix(".mo")
    if not mo_path.exists():
        return False
    return _messages(mo_path.read_bytes()) == _messages(polib.pofile(str(po_path)).to_binary())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if any .mo is missing or out of date")
    args = parser.parse_args(argv)
    stale = 0
    for po_path in catalogs():
        shown = po_path.relative_to(REPO)
        if args.check:
            if not is_up_to_date(po_path):
                stale += 1
                print(f"out of date: {shown.with_suffix('.mo')}")  # noqa: T201
            continue
        po = polib.pofile(str(po_path))
        po.save_as_mofile(str(po_path.with_suffix(".mo")))
        print(f"compiled {shown} ({len(po.translated_entries())}/{len(po)} translated)")  # noqa: T201
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
