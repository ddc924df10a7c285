"""Apply the personal-data retention rules now: ``manage.py retention_apply [--dry-run] [--hub SLUG ...]``.

Prints, per schema (public, then each hub) and rule, the rows scrubbed — or, with ``--dry-run``, the rows that
would be, changing nothing. Beat runs the same every day (``tenants.tasks.retention_apply_all``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from huoban.retention import retention_days, retention_rules
from tenants.retention import retention_apply


class Command(BaseCommand):
    help = "Delete or anonymise personal data past its retention period, in the public schema and every hub."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count what would be scrubbed; change nothing")
        parser.add_argument("--hub", action="append", default=[], help="only this hub (slug); repeatable")

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = options["dry_run"]
        results = retention_apply(dry_run=dry_run, slugs=options["hub"] or None, public=not options["hub"])
        rules = {rule.name: rule for scope in ("public", "hub") for rule in retention_rules(scope)}
        self.stdout.write(_("试运行：以下为到期将处理的条数，未做任何修改。") if dry_run else _("已处理的条数："))
        self.stdout.write(f"{'schema':24} {'rule':28} {'days':>5} {'rows':>7}  {_('内容')}")
        total = 0
        for result in results:
            where = result.hub or result.schema
            for name, rows in result.counts.items():
                rule = rules[name]
                self.stdout.write(f"{where:24} {name:28} {retention_days(rule):>5} {rows:>7}  {rule.label}")
                total += rows
        self.stdout.write(_("合计：%(n)d 条") % {"n": total})
