"""Erasing a person (``huoban.identity.erasure``) in every hub's needs: the resident record — the one place a
resident's name and phone live — is scrubbed, and pending SMS codes for the phone go. Supports, objections and
needs stay (counts and public answers remain true) but point at a nameless resident. Registered from
``NeedsConfig.ready``."""

from __future__ import annotations

from django.db.models import Q

from hubs.needs.models import PhoneCode, Resident
from huoban.identity.erasure import ErasedPerson
from huoban.identity.models import User


def erase_residents_in_every_hub(person: ErasedPerson, actor: User | None) -> None:
    from tenants.models import Hub

    match = Q(user_id=person.user_id)
    if person.mobile:
        match |= Q(phone=person.mobile)
    for hub in Hub.objects.order_by("pk"):
        with hub:
            Resident.objects.filter(match).update(name="", phone=None, user_id=None)
            if person.mobile:
                PhoneCode.objects.filter(phone=person.mobile).delete()
