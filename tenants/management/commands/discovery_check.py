"""Report drift between hubs' publishers and the cross-hub discovery index, per hub.

    huoban manage discovery_check [--hub SLUG] [--verbose]

Missing: published by the hub, not in the index. Stale: in the index with other content. Orphaned: in the index,
no longer published (or of a hub that no longer exists). Unmanaged: entries of kinds no publisher is registered
for (reported, never removed). Pending: outbox rows not drained yet (drift may be resolved by them); failed: rows
the drain set aside because they could not be applied (the log has why; a rebuild replaces them).
Exits with status 1 when there is drift; ``discovery_rebuild`` repairs it.
"""

from __future__ import annotations

from io import StringIO
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.table import Table

from huoban.db import connection
from tenants.models import Hub, HubStatus

SHOWN = (HubStatus.ACTIVE, HubStatus.READ_ONLY)


class Command(BaseCommand):
    help = "Report drift (missing, stale, orphaned entries) between hubs and the cross-hub discovery index."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--hub", action="append", default=[], metavar="SLUG", help="only this hub (repeatable)")
        parser.add_argument("--verbose", action="store_true", help="list the drifting items")

    def handle(self, *args: Any, **options: Any) -> None:
        if not apps.is_installed("huoban.discovery"):
            raise CommandError("huoban.discovery is not in INSTALLED_APPS")
        from huoban.discovery import rebuild

        connection.set_schema_to_public()
        hubs = Hub.objects.exclude(status=HubStatus.PROVISIONING).order_by("slug")
        if options["hub"]:
            hubs = hubs.filter(slug__in=options["hub"])
        table = Table(
            "hub", "items", "entries", "missing", "stale", "orphaned", "unmanaged", "pending", "failed", "visibility"
        )
        drifting: list[str] = []
        details: list[str] = []
        for hub in hubs:
            ref = rebuild.HubRef(hub.pk, hub.slug, hub.name_zh, hub.name_en)
            with hub:
                drift, _items = rebuild.discovery_hub_drift(hub=ref, visible=hub.status in SHOWN)
            table.add_row(
                hub.slug,
                str(drift.items),
                str(drift.entries),
                str(len(drift.missing)),
                str(len(drift.stale)),
                str(len(drift.orphaned)),
                str(drift.unmanaged),
                str(drift.pending),
                str(drift.failed),
                "wrong" if drift.visibility_wrong else "ok",
            )
            if drift.has_drift:
                drifting.append(hub.slug)
            for label, refs in (("missing", drift.missing), ("stale", drift.stale), ("orphaned", drift.orphaned)):
                details += [f"{hub.slug} {label} {r.app_label}:{r.object_id}" for r in refs]
            details += [f"{hub.slug} not indexable {line}" for line in drift.invalid]
        if not options["hub"]:
            gone = rebuild.discovery_hub_ids_indexed() - set(Hub.objects.values_list("pk", flat=True))
            for hub_id in sorted(gone):
                table.add_row(f"(deleted hub {hub_id})", "0", "?", "0", "0", "all", "0", "0", "0", "-")
                drifting.append(f"deleted hub {hub_id}")
        rendered = StringIO()
        Console(file=rendered, width=120, force_terminal=False).print(table)
        self.stdout.write(rendered.getvalue().rstrip("\n"))
        if options["verbose"]:
            for line in details:
                self.stdout.write(line)
        if drifting:
            raise CommandError(f"drift in {len(drifting)} hub(s): {', '.join(drifting)}; run discovery_rebuild")
        self.stdout.write("no drift")
