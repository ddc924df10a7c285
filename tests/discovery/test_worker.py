"""Through a real Celery worker on Redis: a hub's commit enqueues the drain, the worker applies the outbox."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from huoban.db import connection
from huoban.discovery.models import DiscoveryEntry, DiscoveryOutbox
from huoban.discovery.services import discovery_publish
from tests.platform.test_worker import REPO, worker  # noqa: F401 - the fixture

pytestmark = [pytest.mark.worker, pytest.mark.slow]


def test_a_commit_in_a_hub_is_drained_by_the_worker(worker):  # noqa: F811
    from tenants.models import Hub

    hub = Hub.objects.get(slug="sichuan")
    try:
        with hub, transaction.atomic():
            discovery_publish(
                hub_id=hub.pk,
                hub_slug=hub.slug,
                hub_name=hub.name_zh,
                kind="call",
                source=("workertest", "1"),
                title="雅安市农村留守儿童关爱项目征集",
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not DiscoveryEntry.objects.filter(source_app="workertest").exists():
            assert worker.poll() is None, (REPO / ".huoban-worker-test.log").read_text()[-3000:]
            time.sleep(0.2)
        assert DiscoveryEntry.objects.get(source_app="workertest").title == "雅安市农村留守儿童关爱项目征集"
        assert not DiscoveryOutbox.objects.filter(source_app="workertest").exists()
        assert "discovery_outbox_drain" in (REPO / ".huoban-worker-test.log").read_text()
    finally:
        connection.set_schema_to_public()
        DiscoveryOutbox.objects.filter(source_app="workertest").delete()
        DiscoveryEntry.objects.filter(source_app="workertest").delete()
