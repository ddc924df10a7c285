"""Publishers: how hub apps tell discovery what they publish, without huoban importing them.

The contract for a hub app (calls, projects, partners, fairs, ...):

1. **Keep the index in step, in your own transaction.** Whenever a publishable object changes, call
   ``huoban.discovery.services.discovery_publish(...)`` (or ``discovery_unpublish(...)`` when it stops being
   public) inside the transaction that changes it, after writing the object, with the hub schema active::

       from huoban.db import connection
       from huoban.discovery.services import discovery_publish, discovery_unpublish

       hub = connection.tenant
       discovery_publish(hub_id=hub.pk, hub_slug=hub.slug, hub_name=hub.name_zh, hub_name_en=hub.name_en,
                         kind="partner", **item_for(partnership).fields())
       discovery_unpublish(hub_id=hub.pk, source=partnership)

   Only the public fields can be passed (anything else, e.g. a contact phone, is a TypeError); mobile numbers,
   identity numbers and email addresses inside the title or summary are masked. The index changes after your
   transaction commits (a drain task applies the outbox), never for a rolled-back change.
2. **Declare a publisher** yielding every item of the active hub that should be in the index now, so a rebuild
   can restore the index and ``discovery_check`` can find drift. Register it in your AppConfig.ready::

       def ready(self):
           from huoban.discovery import registry
           from hubs.partners.discovery import public_partners

           registry.register("partner", public_partners)

   A publisher takes no arguments, runs with one hub's schema active, and yields ``DiscoveryItem``s (stream
   them: a hub may have many). It must not yield an item for something it would not publish (an unapproved
   partner, a draft call). Yield closed items with ``status="closed"`` or leave them out (they are removed).
3. The source of an item is ``(app label, object id)`` and is unique within a hub; one object is one entry, even
   when its kind changes (a project seeking funds that got funded).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from django.db import models

from huoban.discovery.models import EntryKind


class SourceRef(NamedTuple):
    app_label: str
    object_id: str

    @classmethod
    def of(cls, obj: models.Model) -> SourceRef:
        return cls(obj._meta.app_label, str(obj.pk))


Source = SourceRef | tuple[str, str] | models.Model


def source_ref(source: Source) -> SourceRef:
    if isinstance(source, models.Model):
        return SourceRef.of(source)
    app_label, object_id = source
    return SourceRef(str(app_label), str(object_id))


@dataclass(frozen=True, kw_only=True)
class DiscoveryItem:
    """The public face of one hub object: the only fields that can ever reach the index."""

    source: Source
    title: str
    summary: str = ""
    region_code: str = ""
    service_areas: tuple[str, ...] | list[str] = ()
    amount: int | None = None  # fen
    currency: str = "CNY"
    opens_on: date | None = None
    closes_on: date | None = None
    deadline: date | None = None  # defaults to closes_on
    status: str = "open"  # open, upcoming or closed
    link_url: str = ""

    def fields(self) -> dict[str, Any]:
        """Keyword arguments for ``discovery_publish`` (with ``source``)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


Publisher = Callable[[], Iterable[DiscoveryItem]]

_publishers: dict[str, list[Publisher]] = {}


def register(kind: str, publisher: Publisher) -> None:
    """Declare that ``publisher`` yields the current items of ``kind`` of the active hub. Registering the same
    publisher twice (AppConfig.ready may run more than once in tests) is harmless."""
    if kind not in EntryKind.values:
        raise ValueError(f"unknown discovery kind {kind!r}; one of {', '.join(EntryKind.values)}")
    entries = _publishers.setdefault(kind, [])
    if publisher not in entries:
        entries.append(publisher)


def unregister(kind: str, publisher: Publisher) -> None:
    entries = _publishers.get(kind, [])
    if publisher in entries:
        entries.remove(publisher)
    if not entries:
        _publishers.pop(kind, None)


def publishers() -> dict[str, tuple[Publisher, ...]]:
    """Every registered publisher by kind."""
    return {kind: tuple(entries) for kind, entries in _publishers.items() if entries}
