from __future__ import annotations

from django.db.models import QuerySet

from huoban.audit.models import AuditEvent


def audit_event_list(*, action: str = "", object_type: str = "") -> QuerySet[AuditEvent]:
    """Events of the active schema, newest first. In a hub: that hub's; on the public site: platform events."""
    qs = AuditEvent.objects.select_related("actor")
    if action:
        qs = qs.filter(action__startswith=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    return qs
