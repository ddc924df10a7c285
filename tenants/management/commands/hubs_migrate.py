from __future__ import annotations

import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from huoban.db import connection
from tenants import provisioning
from tenants.models import Hub


class Command(BaseCommand):
    help = "Migrate the public schema, then the hub template, then every hub in parallel (skipping up-to-date hubs)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--processes", type=int, default=None, help="parallel hub migrations (default: CPUs)")
        parser.add_argument("--no-public", action="store_true", help="skip the public schema")
        parser.add_argument("--no-spares", action="store_true", help="do not refill the pool of spare schemas")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings

        started = time.perf_counter()
        if not options["no_public"]:
            call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
        connection.set_schema_to_public()
        schemas = list(Hub.objects.order_by("slug").values_list("schema_name", flat=True))
        processes = options["processes"] or settings.TENANT_MULTIPROCESSING_MAX_PROCESSES
        with Progress(
            TextColumn("[bold]hubs"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            disable=options["quiet"] or not schemas,
        ) as progress:
            task = progress.add_task("migrate", total=len(schemas))
            result = provisioning.fleet_migrate(
                schemas=schemas,
                processes=processes,
                on_progress=lambda _s: progress.advance(task),
                refill_spares=not options["no_spares"],
            )
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"template {result.template_fingerprint[:12]}; {len(result.migrated)} hubs migrated, "
            f"{len(result.skipped)} already up to date, {len(result.failed)} failed; "
            f"{result.spares_made} spare schemas made; {elapsed:.2f}s"
        )
        if result.failed:
            for schema, error in sorted(result.failed.items()):
                self.stderr.write(f"{schema}: {error}")
            raise CommandError(f"{len(result.failed)} hub(s) failed to migrate")
