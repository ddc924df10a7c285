"""Running the retention rules (``huoban.retention``) everywhere: the public schema's, then each hub's in its own
schema; and the public rule of hub invitations.

``retention_apply_all`` (beat, daily; ``tenants.tasks``) runs the public rules and enqueues one task per hub;
``manage.py retention_apply [--dry-run] [--hub SLUG]`` runs the same synchronously and prints rows per rule and
schema. Hubs still being provisioned are skipped; archived, suspended and read-only hubs are not (their personal
data ages like any other).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from huoban.db import connection
from huoban.retention import HUB, PUBLIC, RetentionRule, invitation_finished_before, purge, retention_apply_schema
from tenants.models import Hub, HubInvitation, HubStatus


def hub_invitations(cutoff: datetime, dry_run: bool) -> int:
    """Invitations to a hub (an email address) accepted, revoked or expired before the cutoff; the hub's audit
    trail keeps that someone was invited and joined."""
    return purge(HubInvitation.objects.filter(invitation_finished_before(cutoff)), dry_run)


RULES = [
    RetentionRule(
        name="tenants.hub_invitations",
        label=_("已结束的枢纽邀请"),
        scopes=frozenset({PUBLIC}),
        days_setting="HUOBAN_RETENTION_INVITATION_DAYS",
        apply=hub_invitations,
    )
]


@dataclass(frozen=True)
class RetentionResult:
    schema: str  # "public" or the hub's schema
    hub: str  # the hub's slug, "" for the public schema
    counts: dict[str, int]


def retention_hubs(slugs: Iterable[str] | None = None) -> QuerySet[Hub]:
    hubs = Hub.objects.exclude(status=HubStatus.PROVISIONING).order_by("pk")
    return hubs.filter(slug__in=list(slugs)) if slugs else hubs


def retention_apply_hub(*, dry_run: bool, now: datetime | None = None) -> dict[str, int]:
    """The hub rules in the active hub (the per-hub task's body)."""
    if not isinstance(connection.tenant, Hub):
        raise RuntimeError("retention_apply_hub must run inside a hub")
    return retention_apply_schema(scope=HUB, dry_run=dry_run, now=now)


def retention_apply(
    *, dry_run: bool, slugs: Iterable[str] | None = None, now: datetime | None = None, public: bool = True
) -> list[RetentionResult]:
    """Run every rule now, synchronously: the public schema's (unless ``public`` is off), then each hub's."""
    results = []
    connection.set_schema_to_public()
    if public:
        results.append(RetentionResult("public", "", retention_apply_schema(scope=PUBLIC, dry_run=dry_run, now=now)))
    for hub in retention_hubs(slugs):
        with hub:
            results.append(RetentionResult(hub.schema_name, hub.slug, retention_apply_hub(dry_run=dry_run, now=now)))
    connection.set_schema_to_public()
    return results
