"""Plan limits a hub is held to, checked at the edges by hub code, which must not know about billing.

Billing keeps each hub's current limits in ``HubPlanLimits`` (public schema) through ``hub_limits_set``; a hub with
no row is on the free plan (``free_limits()``). An empty limit means unlimited.

Hub code calls ``entitlement_require`` just before it adds one more of a limited thing (a staff seat, an active
partner, an open call, stored bytes), giving the count it has now. The last allowed one passes; the first one over
the limit raises ``ApplicationError(code="plan_limit")`` with a translated message that names the limit and points
to the hub's billing page, and ``extra`` carrying ``resource``, ``limit`` and ``current``. Where two requests could
add at the same moment, call ``entitlement_lock`` inside the transaction before counting, so the count and the
add are not interleaved.

Usage shown to hub admins and operators comes from ``hub_usage``: staff seats from the public role index, stored
bytes from the storage service, and what hub code reports with ``usage_record`` for the rest.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huoban.db import connection
from huoban.errors import ApplicationError
from tenants.middleware import host_cache_clear
from tenants.models import Hub, HubAccess, HubPlanLimits, HubResourceUsage, HubRole

GiB = 1024**3


class Resource(models.TextChoices):
    ACTIVE_PARTNERS = "active_partners", gettext_lazy("合作中的伙伴")
    STAFF_SEATS = "staff_seats", gettext_lazy("工作人员席位")
    STORAGE_BYTES = "storage_bytes", gettext_lazy("存储空间")
    OPEN_CALLS = "open_calls", gettext_lazy("进行中的项目征集")


# Roles that take a staff seat: the people who run the hub's back office.
SEAT_ROLES: tuple[str, ...] = (HubRole.HUB_ADMIN, HubRole.STAFF)


@dataclass(frozen=True)
class Limits:
    """How many of each limited thing a plan allows; None is unlimited."""

    active_partners: int | None
    staff_seats: int | None
    storage_bytes: int | None
    open_calls: int | None

    def get(self, resource: str) -> int | None:
        value: int | None = getattr(self, Resource(resource).value)
        return value

    def as_dict(self) -> dict[str, int | None]:
        return asdict(self)


FREE_PLAN = "free"
FREE_LIMITS = Limits(active_partners=30, staff_seats=3, storage_bytes=2 * GiB, open_calls=2)


def free_limits() -> Limits:
    """The free plan's limits; ``HUOBAN_FREE_PLAN_LIMITS`` (a dict) may raise or lower any of them."""
    override = getattr(settings, "HUOBAN_FREE_PLAN_LIMITS", None) or {}
    base = {**FREE_LIMITS.as_dict(), "storage_bytes": settings.HUOBAN_HUB_STORAGE_QUOTA_BYTES}
    return Limits(**{**base, **{k: v for k, v in override.items() if k in Resource.values}})


@dataclass(frozen=True)
class Entitlement:
    plan: str
    source: str  # "free", "subscription" or "comp"
    limits: Limits


def hub_entitlement(*, hub: Hub) -> Entitlement:
    row = HubPlanLimits.objects.filter(hub_id=hub.pk).first()
    if row is None:
        return Entitlement(plan=FREE_PLAN, source="free", limits=free_limits())
    return Entitlement(
        plan=row.plan,
        source=row.source,
        limits=Limits(
            active_partners=row.active_partners,
            staff_seats=row.staff_seats,
            storage_bytes=row.storage_bytes,
            open_calls=row.open_calls,
        ),
    )


def hub_limits(*, hub: Hub) -> Limits:
    """The limits of the plan ``hub`` is on now (the free plan's when billing has written nothing)."""
    return hub_entitlement(hub=hub).limits


def _shown(resource: str, amount: int) -> str:
    return str(filesizeformat(amount)) if resource == Resource.STORAGE_BYTES else str(amount)


def entitlement_require(*, hub: Hub, resource: str, current: int, adding: int = 1) -> None:
    """Allow adding ``adding`` more of ``resource`` to a hub that has ``current`` of it, or refuse with plan_limit.

    Who calls: hub code at its edges (services), before the write. ``current`` is the count before the add.
    Nothing is written here.
    """
    limit = hub_limits(hub=hub).get(resource)
    if limit is None or current + adding <= limit:
        return
    upgrade_url = f"{hub.url}/billing/"
    message = _(
        "已达到当前套餐的上限：%(resource)s最多 %(limit)s，目前已有 %(current)s。请在“套餐与账单”页升级：%(url)s"
    ) % {
        "resource": Resource(resource).label,
        "limit": _shown(resource, limit),
        "current": _shown(resource, current),
        "url": upgrade_url,
    }
    raise ApplicationError(
        message,
        code="plan_limit",
        status=402,
        extra={
            "resource": str(resource),
            "limit": limit,
            "current": current,
            "adding": adding,
            "upgrade_url": upgrade_url,
        },
    )


def entitlement_lock(*, hub: Hub) -> None:
    """Serialise adds of limited things in ``hub`` until the current transaction ends.

    Call inside ``transaction.atomic()`` before counting, so two concurrent adds cannot both see room for one.
    A PostgreSQL advisory lock, so it blocks nothing else (status changes, reads).
    """
    if not connection.in_atomic_block:
        raise RuntimeError("entitlement_lock must be called inside transaction.atomic()")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x48554201, hub.pk])  # "HUB" + 1: entitlements


def storage_quota_bytes(*, hub_id: int) -> int | None:
    """The storage limit of a hub, for the storage service's quota (None: unlimited)."""
    hub = Hub.objects.filter(pk=hub_id).first()
    return free_limits().storage_bytes if hub is None else hub_limits(hub=hub).storage_bytes


def staff_seats_in_use(*, hub: Hub) -> int:
    """People holding a seat role in ``hub``, from the public index of hub roles (kept in step with memberships)."""
    return HubAccess.objects.filter(hub=hub, roles__overlap=list(SEAT_ROLES)).count()


def takes_new_seat(*, roles_before: list[str] | tuple[str, ...], roles_after: list[str] | tuple[str, ...]) -> bool:
    """Whether a role change gives someone a staff seat they did not hold (check the limit only then)."""
    return not set(roles_before) & set(SEAT_ROLES) and bool(set(roles_after) & set(SEAT_ROLES))


def hub_usage(*, hub: Hub) -> dict[str, int | None]:
    """The current amount of every limited resource in ``hub``; None where nothing has been counted yet."""
    reported = dict(HubResourceUsage.objects.filter(hub=hub).values_list("resource", "amount"))
    usage: dict[str, int | None] = {resource: reported.get(resource) for resource in Resource.values}
    usage[Resource.STAFF_SEATS] = staff_seats_in_use(hub=hub)
    if apps.is_installed("huoban.storage"):
        from huoban.storage.selectors import file_usage_bytes

        usage[Resource.STORAGE_BYTES] = file_usage_bytes(hub_id=hub.pk)
    return usage


def usage_record(*, hub: Hub, resource: str, amount: int) -> None:
    """Hub code reports how many of ``resource`` the hub has (e.g. from its periodic usage refresh)."""
    if resource not in Resource.values:
        raise ValueError(f"unknown resource {resource!r}")
    HubResourceUsage.objects.update_or_create(hub=hub, resource=resource, defaults={"amount": int(amount)})


def hub_limits_set(*, hub: Hub, plan: str, source: str, limits: Limits) -> bool:
    """Billing's one write here: the plan ``hub`` is on now and its limits. Returns whether anything changed.

    Also keeps ``Hub.plan`` in step, for lists that show it.
    """
    with transaction.atomic():
        before = hub_entitlement(hub=hub) if HubPlanLimits.objects.filter(hub_id=hub.pk).exists() else None
        HubPlanLimits.objects.update_or_create(
            hub_id=hub.pk, defaults={"plan": plan, "source": source, **limits.as_dict()}
        )
        Hub.objects.filter(pk=hub.pk).exclude(plan=plan).update(plan=plan, updated_at=timezone.now())
        transaction.on_commit(host_cache_clear)  # an update() sends no signal
    hub.plan = plan
    return before != Entitlement(plan=plan, source=source, limits=limits)
