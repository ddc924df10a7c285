from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from huoban.errors import ApplicationError
from tenants.services import hub_provision


class Command(BaseCommand):
    help = "Provision a hub: its schema (from the template), its domain, and an invitation for its first admin."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", required=True, help="Chinese name")
        parser.add_argument("--name-en", default="")
        parser.add_argument("--kind", required=True, help="provincial_centre | city | district_bureau | other")
        parser.add_argument("--region", required=True, help="GB/T 2260 region code, e.g. 510000")
        parser.add_argument("--admin-email", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = hub_provision(
                slug=options["slug"],
                name_zh=options["name"],
                name_en=options["name_en"],
                kind=options["kind"],
                region_code=options["region"],
                admin_email=options["admin_email"],
                actor=None,
            )
        except ApplicationError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        hub = result.hub
        if not result.created:
            self.stdout.write(f"hub {hub.slug} already exists (same details): {hub.url}/")
            return
        self.stdout.write(f"hub {hub.slug} ready at {hub.url}/ (schema {hub.schema_name}, via {result.method})")
        self.stdout.write(
            f"first admin invited: {options['admin_email']} → {hub.url}/invitations/{result.invitation_token}/"
        )
