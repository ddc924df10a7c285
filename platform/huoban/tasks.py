"""Helpers every app uses to enqueue work."""

from __future__ import annotations

from typing import Any

from celery import Task
from django.db import transaction


def enqueue_on_commit(task: Task, **kwargs: Any) -> None:
    """Send ``task`` with keyword arguments once the current transaction commits (never for a rolled-back write).

    The schema of the hub that is active now travels in the message headers, so the task runs in this hub.
    """
    transaction.on_commit(lambda: task.apply_async(kwargs=kwargs))
