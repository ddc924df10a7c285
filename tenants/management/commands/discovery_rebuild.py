"""Re-index hubs in the cross-hub discovery index from their publishers (see huoban.discovery.registry).

    huoban manage discovery_rebuild              # every hub, and forget entries of hubs that no longer exist
    huoban manage discovery_rebuild --hub sichuan
    huoban manage discovery_rebuild --force      # republish every item (e.g. after a segmentation change)

Idempotent: only missing, stale and orphaned entries are written, through the outbox, which is drained here.
It lives in tenants because it walks tenants.models.Hub (huoban never imports tenants).
"""

from __future__ import annotations

import time
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from huoban.db import connection
from tenants.models import Hub, HubStatus

SHOWN = (HubStatus.ACTIVE, HubStatus.READ_ONLY)


class Command(BaseCommand):
    help = "Re-index one hub or every hub in cross-hub discovery (idempotent), with a progress bar."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--hub", action="append", default=[], metavar="SLUG", help="only this hub (repeatable)")
        parser.add_argument("--force", action="store_true", help="republish every item, changed or not")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        if not apps.is_installed("huoban.discovery"):
            raise CommandError("huoban.discovery is not in INSTALLED_APPS")
        from huoban.discovery import outbox, rebuild

        connection.set_schema_to_public()
        started = time.perf_counter()
        hubs = Hub.objects.exclude(status=HubStatus.PROVISIONING).order_by("slug")
        if options["hub"]:
            hubs = hubs.filter(slug__in=options["hub"])
            unknown = set(options["hub"]) - set(hubs.values_list("slug", flat=True))
            if unknown:
                raise CommandError(f"no such hub: {', '.join(sorted(unknown))}")
        hub_list = list(hubs)
        totals = {"items": 0, "missing": 0, "stale": 0, "orphaned": 0, "visibility": 0, "written": 0}
        invalid: list[str] = []
        with Progress(
            TextColumn("[bold]discovery"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[slug]}"),
            TimeElapsedColumn(),
            disable=options["quiet"] or not hub_list,
        ) as progress:
            task = progress.add_task("rebuild", total=len(hub_list), slug="")
            for hub in hub_list:
                progress.update(task, slug=hub.slug)
                ref = rebuild.HubRef(hub.pk, hub.slug, hub.name_zh, hub.name_en)
                with hub:  # publishers read the hub's own schema
                    drift = rebuild.discovery_hub_rebuild(hub=ref, visible=hub.status in SHOWN, force=options["force"])
                outbox.discovery_outbox_drain()
                totals["items"] += drift.items
                totals["missing"] += len(drift.missing)
                totals["stale"] += len(drift.stale)
                totals["orphaned"] += len(drift.orphaned)
                totals["visibility"] += int(drift.visibility_wrong)
                totals["written"] += drift.written
                invalid += [f"{hub.slug}: {line}" for line in drift.invalid]
                progress.advance(task)
        forgotten = 0
        if not options["hub"]:
            gone = rebuild.discovery_hub_ids_indexed() - set(Hub.objects.values_list("pk", flat=True))
            for hub_id in sorted(gone):
                forgotten += rebuild.discovery_hub_forget(hub_id=hub_id)
            outbox.discovery_outbox_drain()
        for line in invalid:
            self.stderr.write(f"not indexable: {line}")
        self.stdout.write(
            f"{len(hub_list)} hubs, {totals['items']} items: {totals['missing']} missing and {totals['stale']} stale "
            f"published, {totals['orphaned']} orphaned unpublished, {totals['visibility']} visibility fixed, "
            f"{forgotten} entries of deleted hubs removed; {totals['written'] + forgotten} outbox rows; "
            f"{time.perf_counter() - started:.1f}s"
        )
