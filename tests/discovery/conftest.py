"""Helpers for the discovery tests: publishing as a hub does (inside the hub, in a transaction), draining the
outbox explicitly, and a publisher whose items the test sets per hub."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction

from huoban.db import connection
from huoban.discovery import registry
from huoban.discovery.outbox import DrainResult, discovery_outbox_drain
from huoban.discovery.registry import DiscoveryItem
from huoban.discovery.services import discovery_publish, discovery_unpublish

_ids = itertools.count(1)


def publish(hub: Any, *, kind: str = "call", source: Any = None, **fields: Any) -> tuple[str, str]:
    """Publish an item the way hub code does: inside the hub, in the hub's transaction. Returns its source."""
    source = source or ("calls", str(next(_ids)))
    with hub, transaction.atomic():
        discovery_publish(
            hub_id=hub.pk,
            hub_slug=hub.slug,
            hub_name=hub.name_zh,
            hub_name_en=hub.name_en,
            kind=kind,
            source=source,
            **fields,
        )
    return source


def unpublish(hub: Any, source: tuple[str, str]) -> None:
    with hub, transaction.atomic():
        discovery_unpublish(hub_id=hub.pk, source=source)


def drain() -> DrainResult:
    connection.set_schema_to_public()
    return discovery_outbox_drain()


@dataclass
class FakePublisher:
    """Stands for a hub app: yields the items the test put under the active hub's schema."""

    items: dict[str, list[DiscoveryItem]] = field(default_factory=dict)

    def __call__(self) -> Iterator[DiscoveryItem]:
        yield from self.items.get(connection.schema_name, [])

    def set(self, hub: Any, items: list[DiscoveryItem]) -> None:
        self.items[hub.schema_name] = items


@pytest.fixture
def publisher(monkeypatch: pytest.MonkeyPatch) -> FakePublisher:
    """The only registered publisher during the test: the calls of each hub."""
    monkeypatch.setattr(registry, "_publishers", {})
    fake = FakePublisher()
    registry.register("call", fake)
    return fake
