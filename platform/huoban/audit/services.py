"""Writing audit events. Services call ``audit_record`` inside their transaction, so the event and the change
commit together or not at all."""

from __future__ import annotations

from typing import Any

from django.db import models

from huoban import context
from huoban.audit.models import AuditEvent


def audit_record(
    *,
    actor: Any | None,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_label: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record that ``actor`` did ``action`` to ``obj`` in the active schema (the hub's, or public)."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_label = object_label or str(obj)[:200]
    actor_user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=actor_user,
        actor_label=str(actor_user)[:200] if actor_user else "system",
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_label=object_label,
        before=before,
        after=after,
        request_id=context.request_id.get(),
    )


def snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    """The given fields of ``obj`` as JSON-safe values, for before/after."""
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(obj, name)
        out[name] = value if isinstance(value, (str, int, float, bool, list, dict, type(None))) else str(value)
    return out
