"""Erasing a person (``huoban.identity.erasure``), in every hub: their membership goes (audited under the erased
label) and audit events stop naming them. Registered from ``HubCoreConfig.ready``."""

from __future__ import annotations

from hubs.core.models import HubMembership
from hubs.core.services import membership_remove
from huoban.identity.erasure import ErasedPerson, audit_labels_scrub
from huoban.identity.models import User


def erase_in_every_hub(person: ErasedPerson, actor: User | None) -> None:
    from tenants.models import Hub

    for hub in Hub.objects.order_by("pk"):
        with hub:
            membership = HubMembership.objects.filter(user_id=person.user_id).first()
            if membership is not None:
                membership_remove(membership=membership, actor=actor)  # type: ignore[arg-type]
            audit_labels_scrub(person)
