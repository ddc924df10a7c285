from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from rich.console import Console
from rich.table import Table

from hubs.core.demo import DEMO_PASSWORD, demo_seed


class Command(BaseCommand):
    help = "Seed two demo hubs (Sichuan provincial centre, Hangzhou Shangcheng district bureau) with every role."

    def handle(self, *args: Any, **options: Any) -> None:
        sign_ins = demo_seed()
        table = Table(title=f"Huoban demo — password for every account: {DEMO_PASSWORD}")
        table.add_column("where")
        table.add_column("role")
        table.add_column("sign in as")
        for row in sign_ins:
            table.add_row(row.where, str(row.role), row.login)
        console = Console(file=self.stdout._out, width=120)  # type: ignore[arg-type]
        console.print(table)
        console.print(f"Sign in at {settings.HUOBAN_SITE_URL}/accounts/login/ — one sign-in works on every hub host.")
