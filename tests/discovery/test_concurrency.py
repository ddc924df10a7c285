"""Several drains at once, on committed data and separate connections, as several Celery workers would run."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections, transaction

from huoban.db import connection
from huoban.discovery import outbox, services
from huoban.discovery.models import DiscoveryEntry, DiscoveryOutbox

pytestmark = [pytest.mark.slow]
APP = "conctest"


@pytest.fixture
def hub(committed_db, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from tenants.models import Hub

    # The drains under test are started by hand, not by the commit of each publish.
    monkeypatch.setattr(services, "_enqueue_drain", lambda: None)
    hub = Hub.objects.get(slug="sichuan")
    try:
        yield hub
    finally:
        connection.set_schema_to_public()
        DiscoveryOutbox.objects.filter(source_app=APP).delete()
        DiscoveryEntry.objects.filter(source_app=APP).delete()


def _publish(hub: Any, object_id: str, title: str) -> int:
    with hub, transaction.atomic():
        row = services.discovery_publish(
            hub_id=hub.pk, hub_slug=hub.slug, hub_name=hub.name_zh, kind="call", source=(APP, object_id), title=title
        )
    return int(row.pk)


def _in_thread(target: Any) -> threading.Thread:
    def run() -> None:
        try:
            connection.set_schema_to_public()
            target()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_two_drains_at_once_apply_each_row_exactly_once(hub, monkeypatch):
    with hub, transaction.atomic():
        rows = [
            services.discovery_publish(
                hub_id=hub.pk,
                hub_slug=hub.slug,
                hub_name=hub.name_zh,
                kind="call",
                source=(APP, str(n)),
                title=f"项目{n}",
            )
            for n in range(600)
        ]
    expected = {row.pk for row in rows}
    applied: dict[str, list[int]] = {"a": [], "b": []}
    original = outbox._apply_rows

    def recording(cursor: Any, batch: list[dict[str, Any]]) -> int:
        applied[threading.current_thread().name].extend(r["id"] for r in batch)
        time.sleep(0.02)  # hold the batch's locks a moment, so the other worker must skip past them
        return original(cursor, batch)

    monkeypatch.setattr(outbox, "_apply_rows", recording)
    results: dict[str, outbox.DrainResult] = {}

    def worker(name: str) -> None:
        threading.current_thread().name = name
        results[name] = outbox.discovery_outbox_drain(batch_size=50)

    threads = [_in_thread(lambda n=name: worker(n)) for name in ("a", "b")]
    for thread in threads:
        thread.join(60)
    assert set(applied["a"]).isdisjoint(applied["b"])
    assert set(applied["a"]) | set(applied["b"]) == expected
    assert applied["a"] and applied["b"]  # both really worked
    assert results["a"].processed + results["b"].processed == 600
    assert DiscoveryEntry.objects.filter(source_app=APP).count() == 600
    assert not DiscoveryOutbox.objects.filter(source_app=APP).exists()


def _hold_lock(row_id: int, locked: threading.Event, release: threading.Event) -> threading.Thread:
    """Another worker that has claimed row ``row_id`` and is slow to finish."""

    def hold() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT id FROM discovery_discoveryoutbox WHERE id = %s FOR UPDATE", [row_id])
            locked.set()
            release.wait(30)

    return _in_thread(hold)


@pytest.mark.parametrize("newer", ["publish", "unpublish"])
def test_an_older_row_applied_after_a_newer_one_never_wins(hub, newer):
    older = _publish(hub, "x", "旧标题")
    if newer == "publish":
        _publish(hub, "x", "新标题")
    else:
        with hub, transaction.atomic():
            services.discovery_unpublish(hub_id=hub.pk, source=(APP, "x"))
    locked, release = threading.Event(), threading.Event()
    slow = _hold_lock(older, locked, release)
    assert locked.wait(10)
    try:
        first = outbox.discovery_outbox_drain()  # skips the claimed older row, applies the newer one
    finally:
        release.set()
        slow.join(30)
    assert first.processed == 1
    second = outbox.discovery_outbox_drain()  # the older row now arrives late
    assert second.processed == 1
    entry = DiscoveryEntry.objects.get(source_app=APP, source_id="x")
    if newer == "publish":
        assert (entry.title, entry.status) == ("新标题", "open")
    else:
        assert (entry.title, entry.status) == ("", "withdrawn")
