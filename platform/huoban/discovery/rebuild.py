"""Rebuild and drift: a hub's publishers (see ``registry``) against its entries in the index.

Runs with the hub's schema active (the publishers read it); writes only outbox rows, like any other change.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from huoban.discovery import registry
from huoban.discovery.models import DiscoveryEntry, DiscoveryHub, DiscoveryOutbox, EntryStatus, OutboxOp
from huoban.discovery.registry import DiscoveryItem, SourceRef, source_ref
from huoban.discovery.services import (
    PUBLIC_FIELDS,
    HubRef,
    content_hash,
    drain_after_commit,
    publish_payload,
    source_check,
)
from huoban.errors import ApplicationError


@dataclass
class HubDrift:
    """How a hub's entries differ from what its publishers say should be indexed."""

    hub: HubRef
    items: int = 0
    entries: int = 0
    missing: list[SourceRef] = field(default_factory=list)  # published by the hub, not in the index
    stale: list[SourceRef] = field(default_factory=list)  # in the index with other content
    orphaned: list[SourceRef] = field(default_factory=list)  # in the index, no longer published
    unmanaged: int = 0  # entries of kinds no publisher is registered for (reported, never removed)
    visibility_wrong: bool = False
    pending: int = 0  # outbox rows of this hub not applied yet (the figures above may change when they are)
    failed: int = 0  # of them, rows the drain set aside (a rebuild replaces them)
    invalid: list[str] = field(default_factory=list)  # items a publisher yielded that cannot be indexed
    written: int = 0  # outbox rows a rebuild wrote

    @property
    def has_drift(self) -> bool:
        return bool(self.missing or self.stale or self.orphaned or self.visibility_wrong or self.failed)


@dataclass(frozen=True)
class _Current:
    kind: str
    ref: SourceRef
    item: DiscoveryItem
    payload: dict[str, Any]
    hash: str


def _current_items(hub: HubRef, drift: HubDrift) -> Iterator[_Current]:
    """Every item the registered publishers yield for the active hub, normalised like discovery_publish does."""
    for kind, publishers in registry.publishers().items():
        for publisher in publishers:
            for item in publisher():
                ref = source_ref(item.source)
                fields = {name: getattr(item, name) for name in PUBLIC_FIELDS}
                try:
                    payload = publish_payload(hub=hub, kind=kind, **fields)
                    source_check(ref)
                except ApplicationError as exc:
                    drift.invalid.append(f"{ref.app_label}:{ref.object_id}: {exc.message}")
                    continue
                yield _Current(kind, ref, item, payload, content_hash(payload))


def discovery_hub_drift(*, hub: HubRef, visible: bool) -> tuple[HubDrift, dict[SourceRef, _Current]]:
    """Compare the active hub's publishers with its entries. Runs with the hub's schema active; reads only.

    ``visible`` is whether the hub should be shown (its status is active or read-only).
    """
    drift = HubDrift(hub=hub)
    current: dict[SourceRef, _Current] = {}
    for cur in _current_items(hub, drift):
        if cur.ref in current:
            drift.invalid.append(f"{cur.ref.app_label}:{cur.ref.object_id}: yielded twice")
        current[cur.ref] = cur
    drift.items = len(current)
    managed = set(registry.publishers())
    seen: set[SourceRef] = set()
    rows = (
        DiscoveryEntry.objects.filter(hub_id=hub.id)
        .exclude(status=EntryStatus.WITHDRAWN)
        .values_list("source_app", "source_id", "kind", "content_hash")
    )
    for source_app, source_id, kind, digest in rows.iterator(chunk_size=2000):
        ref = SourceRef(source_app, source_id)
        drift.entries += 1
        item = current.get(ref)
        if item is None:
            if kind in managed:
                drift.orphaned.append(ref)
            else:
                drift.unmanaged += 1
            continue
        seen.add(ref)
        if item.hash != digest:
            drift.stale.append(ref)
    drift.missing = [ref for ref in current if ref not in seen]
    hub_row = DiscoveryHub.objects.filter(hub_id=hub.id).first()
    drift.visibility_wrong = (hub_row.visible if hub_row else True) != visible
    outbox = DiscoveryOutbox.objects.filter(hub_id=hub.id)
    drift.pending = outbox.count()
    drift.failed = outbox.filter(failed_at__isnull=False).count()
    return drift, current


def discovery_hub_rebuild(*, hub: HubRef, visible: bool, force: bool = False, chunk: int = 500) -> HubDrift:
    """Re-index the active hub from its publishers: publish what is missing or stale (every item with
    ``force``, e.g. after a segmentation change), unpublish orphans, repair the hub's visibility. Idempotent: a
    second run finds nothing to do and writes nothing. Runs with the hub's schema active; the caller drains."""
    drift, current = discovery_hub_drift(hub=hub, visible=visible)
    # rows the drain set aside are replaced by what this rebuild writes
    DiscoveryOutbox.objects.filter(hub_id=hub.id, failed_at__isnull=False).delete()
    to_publish = list(current.values()) if force else [current[ref] for ref in (*drift.missing, *drift.stale)]
    rows: list[DiscoveryOutbox] = [
        DiscoveryOutbox(
            op=OutboxOp.PUBLISH, hub_id=hub.id, source_app=c.ref.app_label, source_id=c.ref.object_id, payload=c.payload
        )
        for c in to_publish
    ]
    rows += [
        DiscoveryOutbox(op=OutboxOp.UNPUBLISH, hub_id=hub.id, source_app=ref.app_label, source_id=ref.object_id)
        for ref in drift.orphaned
    ]
    if drift.visibility_wrong:
        rows.append(DiscoveryOutbox(op=OutboxOp.HUB_VISIBILITY, hub_id=hub.id, payload={"visible": visible}))
    for start in range(0, len(rows), chunk):
        with transaction.atomic():
            DiscoveryOutbox.objects.bulk_create(rows[start : start + chunk])
            drain_after_commit()
    drift.written = len(rows)
    return drift


def discovery_hub_ids_indexed() -> set[int]:
    """Every hub id with entries in the index (to find those of hubs that no longer exist)."""
    entries = DiscoveryEntry.objects.exclude(status=EntryStatus.WITHDRAWN)
    return set(entries.values_list("hub_id", flat=True).distinct())


def discovery_hub_forget(*, hub_id: int) -> int:
    """Unpublish every entry of a hub that no longer exists (through the outbox, like any other removal)."""
    keys = list(
        DiscoveryEntry.objects.filter(hub_id=hub_id)
        .exclude(status=EntryStatus.WITHDRAWN)
        .values_list("source_app", "source_id")
    )
    with transaction.atomic():
        DiscoveryOutbox.objects.bulk_create(
            DiscoveryOutbox(op=OutboxOp.UNPUBLISH, hub_id=hub_id, source_app=a, source_id=i) for a, i in keys
        )
        drain_after_commit()
    return len(keys)
