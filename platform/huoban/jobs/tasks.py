from __future__ import annotations

import logging

from celery import current_app, shared_task
from django.db import transaction

from huoban.db import connection
from huoban.jobs.models import PendingTask

logger = logging.getLogger(__name__)


@shared_task
def pending_tasks_resend(limit: int = 500) -> int:
    """Periodic: send again the tasks whose send failed after their commit, each in its own schema, oldest first.
    Stops at the first failure (the broker is still away) and counts the attempt. Returns how many were sent."""
    from django_tenants.utils import get_tenant_model

    from huoban.tasks import publish_errors

    sent = 0
    for pending_id in list(PendingTask.objects.values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            pending = PendingTask.objects.select_for_update(skip_locked=True).filter(pk=pending_id).first()
            if pending is None:
                continue
            task = current_app.tasks.get(pending.task)
            if task is None:
                logger.error("pending task %s names no registered task; kept for an operator", pending)
                continue
            try:
                # the message carries the schema of the tenant active when it is sent (tenant-schemas-celery)
                hub = (
                    None
                    if pending.schema == "public"
                    else get_tenant_model().objects.filter(schema_name=pending.schema).first()
                )
                if hub is not None:
                    with hub:
                        task.apply_async(kwargs=pending.kwargs)
                elif pending.schema == "public":
                    task.apply_async(kwargs=pending.kwargs)
                else:
                    logger.warning("pending task %s: its hub is gone; dropped", pending)
            except publish_errors() as exc:
                PendingTask.objects.filter(pk=pending.pk).update(attempts=pending.attempts + 1, error=str(exc)[:500])
                logger.warning("broker still unreachable; %s kept", pending)
                return sent
            finally:
                connection.set_schema_to_public()
            pending.delete()
            sent += 1
    return sent
