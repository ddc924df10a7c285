from __future__ import annotations

import logging

from celery import shared_task

from hubs.core.models import HubMembership
from huoban.audit.models import AuditEvent
from huoban.db import connection
from tenants.models import Hub, HubStatus, HubUsage

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def hub_usage_refresh() -> dict[str, int]:
    """Count this hub's usage. Runs inside the hub it was enqueued in and stores the figures for operators."""
    hub = connection.tenant
    if not isinstance(hub, Hub):
        raise RuntimeError("hub_usage_refresh must run inside a hub")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
            [hub.schema_name],
        )
        row = cursor.fetchone()
    figures = {
        "members": HubMembership.objects.count(),
        "audit_events": AuditEvent.objects.count(),
        "schema_bytes": int(row[0]) if row else 0,
    }
    HubUsage.objects.update_or_create(hub=hub, defaults=figures)
    logger.info("usage refreshed: %s", figures)
    return figures


@shared_task
def hubs_usage_refresh_all() -> int:
    """Periodic: fan out one usage refresh per open hub, each running in its own hub."""
    count = 0
    for hub in Hub.objects.exclude(status__in=[HubStatus.ARCHIVED, HubStatus.PROVISIONING]).only("schema_name"):
        with hub:
            hub_usage_refresh.delay()
        count += 1
    return count
