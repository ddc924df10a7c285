"""A task enqueued while the broker is unreachable is not lost and does not fail the request whose write already
committed: it is kept (``PendingTask``) and sent again, in its hub, once the broker is back."""

from __future__ import annotations

import socket

import pytest

from hubs.core.tasks import hub_usage_refresh
from huoban.celery import app as celery_app
from huoban.jobs.models import PendingTask
from huoban.jobs.tasks import pending_tasks_resend
from huoban.tasks import enqueue_on_commit
from tenants.models import HubUsage

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the socket goes


def _new_pools() -> None:
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker_down():  # type: ignore[no-untyped-def]
    conf = celery_app.conf
    saved = (conf.task_always_eager, conf.broker_url, conf.task_publish_retry_policy)
    conf.task_always_eager = False
    conf.broker_url = f"redis://127.0.0.1:{_closed_port()}/0"
    conf.task_publish_retry_policy = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1}
    _new_pools()  # producers for the new broker address
    try:
        yield
    finally:
        conf.task_always_eager, conf.broker_url, conf.task_publish_retry_policy = saved
        _new_pools()


def test_a_task_sent_while_the_broker_is_down_is_kept_then_sent_in_its_hub(
    hub_a, broker_down, django_capture_on_commit_callbacks
):
    with hub_a, django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(hub_usage_refresh)  # after the commit: the broker refuses, the request goes on
    pending = PendingTask.objects.get()
    assert (pending.task, pending.schema, pending.kwargs) == ("hubs.core.tasks.hub_usage_refresh", "hub_sichuan", {})
    assert pending.error

    # still down: the periodic resend keeps it and counts the attempt
    assert pending_tasks_resend() == 0
    pending.refresh_from_db()
    assert pending.attempts == 2

    # back (tasks run in-process here): sent once, in hub A, and gone from the table
    celery_app.conf.task_always_eager = True
    HubUsage.objects.filter(hub=hub_a).delete()
    assert pending_tasks_resend() == 1
    assert not PendingTask.objects.exists()
    assert HubUsage.objects.filter(hub=hub_a).count() == 1
    assert pending_tasks_resend() == 0
