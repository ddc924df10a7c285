"""``manage.py ledger_verify [--hub SLUG ...]``: verify each hub's ledger; exit non-zero naming the first bad
entry of every hub whose ledger does not verify."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_exists

from hubs.ledger.chain import chain_verify
from tenants.models import Hub


class Command(BaseCommand):
    help = "Verify the ledger of one hub (--hub SLUG, repeatable) or of every hub: hash chain, balances, totals."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--hub", action="append", dest="hubs", metavar="SLUG", help="a hub's slug (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        hubs = Hub.objects.order_by("slug")
        if options["hubs"]:
            wanted = set(options["hubs"])
            hubs = hubs.filter(slug__in=wanted)
            unknown = wanted - set(hubs.values_list("slug", flat=True))
            if unknown:
                raise CommandError(f"no such hub: {', '.join(sorted(unknown))}")
        failed: list[str] = []
        for hub in list(hubs):
            if not schema_exists(hub.schema_name):
                self.stdout.write(f"{hub.slug}: skipped (no schema)")
                continue
            with hub:
                report = chain_verify()
            if report.ok:
                self.stdout.write(f"{hub.slug}: ok — {report.entries_checked} entries, head {report.head_hash[:16]}")
                continue
            failed.append(hub.slug)
            first = report.first_bad
            if first is not None:
                where = f"entry #{first.entry_id} (seq {first.seq})" if first.entry_id else f"seq {first.seq}"
                self.stderr.write(f"{hub.slug}: BROKEN at {where}: {first.code} — {first.message}")
            for problem in report.problems:
                if problem is not first:
                    self.stderr.write(f"{hub.slug}:   {problem.code} — {problem.message}")
        if failed:
            raise CommandError(f"ledger verification failed: {', '.join(failed)}")
