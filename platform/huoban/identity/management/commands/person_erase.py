"""Erase a person on request (PIPL): ``manage.py person_erase LOGIN --reason REF [--yes]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from huoban.errors import ApplicationError
from huoban.identity.erasure import person_erase
from huoban.identity.services import user_find_by_login


class Command(BaseCommand):
    help = "Anonymise a person's account and their personal data in every hub (all or nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("login", help="the person's email or mobile number")
        parser.add_argument("--reason", required=True, help="the request's reference, kept in the audit trail")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args: Any, **options: Any) -> None:
        user = user_find_by_login(options["login"])
        if user is None:
            raise CommandError(f"no account for {options['login']!r}")
        if not options["yes"]:
            answer = input(f"Erase account #{user.pk} ({options['login']}) everywhere? This cannot be undone [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                raise CommandError("nothing erased")
        try:
            erased = person_erase(user=user, actor=None, reason=options["reason"])
        except ApplicationError as exc:
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(f"erased account #{erased.pk} at {erased.erased_at:%Y-%m-%d %H:%M:%S %Z}")
