"""``manage.py hub_import ARCHIVE --slug NEW [--name 中文名]``: restore a ``hub_export`` archive as a new hub.

All or nothing; refuses a slug that exists, an archive from another database version, a ledger that does not
verify. Afterwards the hub is re-indexed in cross-hub discovery.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from hubs.core.portability import hub_import
from huoban.errors import ApplicationError


class Command(BaseCommand):
    help = "Restore a hub archive (from hub_export) as a NEW hub on this installation's database."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("archive")
        parser.add_argument("--slug", required=True, help="the new hub's slug (must not exist)")
        parser.add_argument("--name", default="", help="a new Chinese name (default: the archived one)")
        parser.add_argument("--no-discovery", action="store_true", help="do not re-index the hub in discovery")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["archive"])
        if not path.is_file():
            raise CommandError(f"no such archive: {path}")
        try:
            result = hub_import(archive_path=path, slug=options["slug"], name_zh=options["name"])
        except ApplicationError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        hub = result.hub
        self.stdout.write(
            f"imported {hub.slug} (schema {hub.schema_name}): {sum(result.tables.values())} rows in "
            f"{len(result.tables)} tables, {result.files} files; people {result.users_created} created / "
            f"{result.users_matched} matched, organisations {result.organisations_created} created / "
            f"{result.organisations_matched} matched; ledger {'re-sealed' if result.resealed else 'chain unchanged'}"
        )
        for item in result.skipped:
            self.stdout.write(f"  not imported: {item}")
        if not options["no_discovery"]:
            call_command("discovery_rebuild", "--hub", hub.slug, "--quiet")
        self.stdout.write(f"verify with: huoban manage ledger_verify --hub {hub.slug}")
