"""A real Celery worker against the real Redis: a task enqueued inside a hub runs inside that hub."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from huoban.celery import app as celery_app

pytestmark = [pytest.mark.worker, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker(committed_db):  # type: ignore[no-untyped-def]
    if not settings.REDIS_URL:
        pytest.skip("needs a real Redis (REDIS_URL); the test command sets it when Redis is reachable")
    db = connection.settings_dict
    host = db["HOST"] or ""
    url = f"postgresql://{db['USER']}@{host if not host.startswith('/') else ''}"
    url += f":{db['PORT']}" if db["PORT"] and not host.startswith("/") else ""
    url += f"/{db['NAME']}" + (f"?host={host}" if host.startswith("/") else "")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": settings.REDIS_URL,
        "HUOBAN_TASK_QUEUE": queue,
        "HUOBAN_TESTING": "1",
    }
    log = open(REPO / ".huoban-worker-test.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "huoban",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    old = (celery_app.conf.task_always_eager, celery_app.conf.task_default_queue)
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        yield process
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = old
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_task_enqueued_in_a_hub_runs_in_that_hub(worker):
    from hubs.core.models import HubMembership
    from hubs.core.services import membership_grant, membership_remove
    from hubs.core.tasks import hub_usage_refresh
    from huoban.identity.models import User
    from tenants.models import Hub, HubUsage

    hub_a, hub_b = Hub.objects.get(slug="sichuan"), Hub.objects.get(slug="shangcheng")

    probes: list = []

    def give_hub_b_a_different_count() -> None:
        # Tests that commit (benchmarks, concurrency) may leave members behind, so the two counts are only
        # known here: hub B gets probe members until its count differs from hub A's.
        HubUsage.objects.filter(hub__in=[hub_a, hub_b]).delete()
        with hub_a:
            count_a = HubMembership.objects.count()
        with hub_b:
            while not probes or HubMembership.objects.count() == count_a:
                email = f"worker-probe-{len(probes)}@b.test"
                probe = User.objects.filter(email=email).first() or User.objects.create_user(email=email)
                probes.append(probe)
                membership_grant(user=probe, roles=["ambassador"], actor=None)

    def undo() -> None:
        with hub_b:
            for probe in probes:
                membership_remove(membership=HubMembership.objects.get(user=probe), actor=probe)
        HubUsage.objects.filter(hub__in=[hub_a, hub_b]).delete()

    give_hub_b_a_different_count()
    try:
        with hub_a:
            expected_a = HubMembership.objects.count()
            hub_usage_refresh.delay()
        with hub_b:
            expected_b = HubMembership.objects.count()
            hub_usage_refresh.delay()
        assert expected_b != expected_a
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and HubUsage.objects.filter(hub__in=[hub_a, hub_b]).count() < 2:
            assert worker.poll() is None, (REPO / ".huoban-worker-test.log").read_text()[-3000:]
            time.sleep(0.2)
        usage = {u.hub_id: u for u in HubUsage.objects.filter(hub__in=[hub_a, hub_b])}
        assert usage[hub_a.pk].members == expected_a
        assert usage[hub_b.pk].members == expected_b
        assert usage[hub_a.pk].schema_bytes > 0
        log = (REPO / ".huoban-worker-test.log").read_text()
        assert "[hub_sichuan" in log and "[hub_shangcheng" in log  # log lines carry the hub's schema
    finally:
        connection.set_schema_to_public()
        undo()
