"""Personal-data retention (PIPL art. 19: kept no longer than its purpose needs).

Each kind of personal data has a rule: a name, a label for people, the schemas it applies to (``public``, ``hub``
or both), the setting that says how many days it is kept after the event that ends its use, and a function
``apply(cutoff, dry_run) -> rows`` that deletes or anonymises, in the active schema, what passed ``cutoff`` — or, in
a dry run, only counts it. Rows that carry money or counts (supports, needs, ledger references) are anonymised,
never deleted, so totals stay exact. Every rule is idempotent: what it scrubbed no longer matches it.

The platform's own rules (expired sessions, audit-log labels) are defined here; apps above the platform register
theirs from their ``AppConfig.ready`` (``retention_rules_register``), as they do erasure hooks; this module never
imports them. ``tenants.retention`` runs the rules in the public schema and in every hub, from beat
(``tenants.tasks.retention_apply_all``, one task per hub) and from ``manage.py retention_apply [--dry-run]``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, F, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

PUBLIC = "public"
HUB = "hub"

RetentionApply = Callable[[datetime, bool], int]


@dataclass(frozen=True)
class RetentionRule:
    name: str  # e.g. "needs.phone_codes": stable, used in counts, logs and the audit trail
    label: Any  # what it is, for people (lazy translation)
    scopes: frozenset[str]  # PUBLIC, HUB or both
    days_setting: str  # the setting with the number of days kept after the event that ends the data's use
    apply: RetentionApply  # (cutoff, dry_run) -> rows scrubbed (or, in a dry run, that would be)


_rules: list[RetentionRule] = []


def retention_rules_register(rules: Iterable[RetentionRule]) -> None:
    """Add ``rules`` (once per name; a second registration under the same name is ignored)."""
    for rule in rules:
        if rule.name not in {r.name for r in _rules}:
            _rules.append(rule)


def retention_rules(scope: str) -> list[RetentionRule]:
    return [rule for rule in _rules if scope in rule.scopes]


def retention_days(rule: RetentionRule) -> int:
    days = int(getattr(settings, rule.days_setting))
    if days < 0:
        raise ValueError(f"{rule.days_setting} must be 0 or more days, got {days}")
    return days


def retention_apply_schema(*, scope: str, dry_run: bool, now: datetime | None = None) -> dict[str, int]:
    """Apply every rule of ``scope`` in the active schema, all in one transaction; returns rows per rule.

    A dry run only counts (and rolls its transaction back, whatever a rule did). A run that changed something
    records ``retention.applied`` with the counts in that schema's audit trail (no personal data in it)."""
    from huoban.audit.services import audit_record

    now = now or timezone.now()
    counts: dict[str, int] = {}
    with transaction.atomic():
        for rule in retention_rules(scope):
            counts[rule.name] = rule.apply(now - timedelta(days=retention_days(rule)), dry_run)
        if dry_run:
            transaction.set_rollback(True)
        elif any(counts.values()):
            audit_record(
                actor=None,
                action="retention.applied",
                object_type="retention",
                object_id=scope,
                after={name: n for name, n in counts.items() if n},
            )
    return counts


def scrub(queryset: QuerySet[Any], dry_run: bool, **changes: Any) -> int:
    """Anonymise: ``update(**changes)`` on ``queryset`` (or count it in a dry run)."""
    return queryset.count() if dry_run else queryset.update(**changes)


def invitation_finished_before(cutoff: datetime) -> Q:
    """An invitation (hub or partner) accepted, revoked or expired before ``cutoff``."""
    return (
        Q(accepted_at__lt=cutoff)
        | Q(revoked_at__lt=cutoff)
        | Q(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__lt=cutoff)
    )


def purge(queryset: QuerySet[Any], dry_run: bool) -> int:
    """Delete ``queryset``'s rows (or count them in a dry run); returns the rows of the queryset's own model."""
    if dry_run:
        return queryset.count()
    return int(queryset.delete()[1].get(queryset.model._meta.label, 0))


# --- the platform's own rules ---------------------------------------------------------------------------------


def _sessions(cutoff: datetime, dry_run: bool) -> int:
    """Sessions (who is signed in, a resident's verified phone) that expired before the cutoff."""
    from django.contrib.sessions.models import Session

    return purge(Session.objects.filter(expire_date__lt=cutoff), dry_run)


# Audit events whose object is a person: their label is the person's name, email or phone.
PERSON_OBJECT_TYPES = frozenset(
    {
        "identity.user",
        "hubcore.hubmembership",
        "tenants.hubinvitation",
        "partners.partnerinvitation",
        "partners.partnercontact",
        "needs.resident",
    }
)


PSEUDONYM_PREFIX = "用户 #"  # an old audit event's actor: ``用户 #<user id>``


def _audit_labels(cutoff: datetime, dry_run: bool) -> int:
    """Audit events older than the cutoff keep who and what by id only: the actor's label (their name or login
    when it was written) becomes ``用户 #id`` and a person's object label becomes ``#id``. The action, the ids and
    the time stay: the trail still says what happened. Labels of erased people (``已注销用户 #id``) stay."""
    from huoban.audit.models import AuditEvent
    from huoban.identity.erasure import erased_label

    erased_prefix = erased_label(0).removesuffix("0")
    pseudonym = Concat(Value(PSEUDONYM_PREFIX), Cast(F("actor_id"), CharField()))
    old = AuditEvent.objects.filter(created_at__lt=cutoff)
    actor_named = (
        old.filter(actor_id__isnull=False).exclude(actor_label=pseudonym).exclude(actor_label__startswith=erased_prefix)
    )
    object_named = (
        old.filter(object_type__in=PERSON_OBJECT_TYPES)
        .exclude(object_label="")
        .exclude(object_label=Concat(Value("#"), F("object_id")))
        .exclude(object_label__startswith=erased_prefix)
    )
    rows = old.filter(Q(pk__in=actor_named.values("pk")) | Q(pk__in=object_named.values("pk"))).count()
    if not dry_run and rows:
        # queryset updates: the model's append-only guard is for saving events, retention rewrites labels only
        actor_named.update(actor_label=pseudonym)
        object_named.update(object_label=Concat(Value("#"), F("object_id")))
    return rows


retention_rules_register(
    [
        RetentionRule(
            name="platform.sessions",
            label=_("已过期的登录会话"),
            scopes=frozenset({PUBLIC}),
            days_setting="HUOBAN_RETENTION_SESSION_DAYS",
            apply=_sessions,
        ),
        RetentionRule(
            name="audit.labels",
            label=_("审计记录中的姓名与联系方式"),
            scopes=frozenset({PUBLIC, HUB}),
            days_setting="HUOBAN_RETENTION_AUDIT_LABEL_DAYS",
            apply=_audit_labels,
        ),
    ]
)
