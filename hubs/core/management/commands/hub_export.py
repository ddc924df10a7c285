"""``manage.py hub_export SLUG ARCHIVE [--with-files]``: write one hub's portable archive (tar.gz).

See ``hubs.core.portability`` for what the archive holds; ``hub_import`` restores it as a new hub.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from hubs.core.portability import hub_export
from huoban.errors import ApplicationError
from tenants.models import Hub


class Command(BaseCommand):
    help = "Export one hub (its schema's rows, its public rows, a files manifest, optionally the file bytes)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("slug")
        parser.add_argument("archive", help="where to write the .tar.gz")
        parser.add_argument("--with-files", action="store_true", help="include the stored files' bytes")

    def handle(self, *args: Any, **options: Any) -> None:
        hub = Hub.objects.filter(slug=options["slug"]).first()
        if hub is None:
            raise CommandError(f"no such hub: {options['slug']}")
        verbose = options["verbosity"] > 1
        try:
            result = hub_export(
                hub=hub,
                archive=Path(options["archive"]),
                include_files=options["with_files"],
                on_table=(lambda table, rows: self.stdout.write(f"  {table}: {rows}")) if verbose else None,
            )
        except ApplicationError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        rows = sum(result.tables.values())
        self.stdout.write(
            f"exported {hub.slug}: {len(result.tables)} tables, {rows} rows, {result.files} files"
            f"{' (with bytes)' if result.file_bytes_included else ' (manifest only)'}, ledger head "
            f"{result.ledger_head['head_seq']}:{str(result.ledger_head['head_hash'])[:16]} → {result.path}"
        )
