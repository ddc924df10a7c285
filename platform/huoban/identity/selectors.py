from __future__ import annotations

from django.db.models import QuerySet

from huoban.identity.models import ApiToken, Organisation, OrganisationMember, User


def user_organisations(*, user: User) -> QuerySet[OrganisationMember]:
    return OrganisationMember.objects.filter(user=user).select_related("organisation").order_by("organisation__name")


def organisation_for_member(*, user: User, organisation_id: int) -> Organisation | None:
    """The organisation if ``user`` belongs to it; None otherwise (callers answer 404)."""
    return Organisation.objects.filter(pk=organisation_id, members__user=user).first()


def api_token_authenticate(*, secret: str) -> ApiToken | None:
    if not secret.startswith(ApiToken.PREFIX):
        return None
    key_id = secret[len(ApiToken.PREFIX) :].split("_", 1)[0]
    token = ApiToken.objects.select_related("user").filter(key_id=key_id).first()
    if token is None or not token.is_usable or token.key_hash != ApiToken.hash_secret(secret):
        return None
    return token
