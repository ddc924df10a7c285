"""Helpers every app uses to enqueue work."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.db import transaction

from huoban.db import connection

logger = logging.getLogger(__name__)


def publish_errors() -> tuple[type[BaseException], ...]:
    """What a send raises when the broker cannot be reached (not what a task raises when it runs)."""
    from kombu.exceptions import OperationalError as KombuOperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (KombuOperationalError, RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)


def enqueue_on_commit(task: Task, **kwargs: Any) -> None:
    """Send ``task`` with keyword arguments once the current transaction commits (never for a rolled-back write).

    The schema of the hub that is active now travels in the message headers, so the task runs in this hub. If the
    broker cannot be reached, the write has already committed: the task is kept as a ``PendingTask`` and sent by
    ``pending_tasks_resend`` (beat, every minute) once the broker is back, instead of failing the request.
    """
    transaction.on_commit(lambda: _send(task, kwargs, connection.schema_name))


def _send(task: Task, kwargs: dict[str, Any], schema: str) -> None:
    try:
        task.apply_async(kwargs=kwargs)
    except publish_errors() as exc:
        from huoban.jobs.models import PendingTask

        logger.warning("broker unreachable; %s kept for resending: %s", task.name, exc)
        PendingTask.objects.create(task=task.name, kwargs=kwargs, schema=schema, error=str(exc)[:500])
