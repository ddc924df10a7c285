"""Erasing a person on request (PIPL): one transaction anonymises the account and scrubs every hub."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from hubs.core.models import HubMembership
from hubs.core.services import membership_grant
from hubs.needs.models import Resident
from huoban.audit.models import AuditEvent
from huoban.discovery.models import SavedSearch
from huoban.errors import ApplicationError
from huoban.identity.erasure import person_erase
from huoban.identity.models import ApiToken, User
from huoban.identity.services import api_token_create, user_create
from tenants.models import HubAccess
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NAME, EMAIL, MOBILE = "李梅花", "limeihua@erase.test", "13912345678"


@pytest.fixture
def person(hub_a, hub_b, cast_a, cast_b) -> User:  # type: ignore[no-untyped-def]
    user = user_create(name=NAME, email=EMAIL, mobile=MOBILE, password=PASSWORD, email_verified=True)
    with hub_a:
        membership_grant(user=user, roles=["staff"], actor=cast_a.hub_admin)
        Resident.objects.create(name=NAME, phone=MOBILE, user_id=user.pk)
    with hub_b:
        membership_grant(user=user, roles=["reviewer"], actor=cast_b.hub_admin)
        Resident.objects.create(name=NAME, phone=MOBILE)  # known there only by phone
    api_token_create(user=user, name="script")
    SavedSearch.objects.create(user=user, name="养老", params={"q": "养老"})
    return user


def _mentions(schema_hub) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    def named(qs):  # type: ignore[no-untyped-def]
        return [e for e in qs if any(v in (e.actor_label + e.object_label) for v in (NAME, EMAIL, MOBILE))]

    if schema_hub is None:
        connection.set_schema_to_public()
        return named(AuditEvent.objects.all())
    with schema_hub:
        return named(AuditEvent.objects.all())


def test_erasure_anonymises_the_account_and_scrubs_every_hub(person, hub_a, hub_b, operator):
    assert _mentions(hub_a) and _mentions(hub_b)
    erased = person_erase(user=person, actor=operator, reason="PIPL-2026-001")

    erased.refresh_from_db()
    assert erased.name == f"已注销用户 #{person.pk}" and erased.mobile is None
    assert erased.email == f"erased-{person.pk}@erased.invalid"
    assert not erased.has_usable_password() and not erased.is_active and erased.erased_at is not None
    assert not ApiToken.objects.filter(user=person).exists()
    assert not SavedSearch.objects.filter(user=person).exists()
    assert not HubAccess.objects.filter(user=person).exists()
    for hub in (hub_a, hub_b):
        with hub:
            assert not HubMembership.objects.filter(user_id=person.pk).exists()
            assert not Resident.objects.filter(name=NAME).exists()
            assert not Resident.objects.filter(phone=MOBILE).exists()
            assert Resident.objects.filter(name="", phone=None).count() >= 1  # the record stays, nameless
        assert _mentions(hub) == []
    assert _mentions(None) == []
    connection.set_schema_to_public()
    event = AuditEvent.objects.get(action="identity.person.erased", object_id=str(person.pk))
    assert event.after["reason"] == "PIPL-2026-001"
    assert {"hubcore.memberships", "needs.residents"} <= set(event.after["hooks"])
    # sign-in is gone, by password and by the old email
    client = Client(HTTP_HOST="huoban.localhost")
    response = client.post("/accounts/login/", {"login": EMAIL, "password": PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    # idempotent
    assert person_erase(user=erased, actor=operator, reason="again").erased_at == erased.erased_at


def test_a_refusing_hub_leaves_everything_as_it_was(hub_a, cast_a, operator):
    """The only hub admin cannot be erased until another admin is named: nothing changes anywhere."""
    with hub_a:
        admins = HubMembership.objects.filter(roles__contains=["hub_admin"])
        assert list(admins.values_list("user_id", flat=True)) == [cast_a.hub_admin.pk]
    name = cast_a.hub_admin.name
    with pytest.raises(ApplicationError) as refused:
        person_erase(user=cast_a.hub_admin, actor=operator, reason="PIPL-2026-002")
    assert refused.value.code == "last_admin"
    connection.set_schema_to_public()
    cast_a.hub_admin.refresh_from_db()
    assert cast_a.hub_admin.name == name and cast_a.hub_admin.is_active and cast_a.hub_admin.erased_at is None
    assert HubAccess.objects.filter(user=cast_a.hub_admin).exists()
    with pytest.raises(ApplicationError) as sole_owner:
        person_erase(user=cast_a.ngo_member, actor=operator, reason="PIPL-2026-004")
    assert sole_owner.value.code == "sole_owner" and "社工服务社" in str(sole_owner.value.message)
    with pytest.raises(ApplicationError) as no_reason:
        person_erase(user=cast_a.hub_admin, actor=operator, reason="  ")
    assert no_reason.value.code == "reason_required"


def test_a_person_erases_their_own_account_with_their_password(person, hub_a):
    client = Client(HTTP_HOST="huoban.localhost")
    client.force_login(person)
    assert "注销我的账号" in client.get("/accounts/profile/").content.decode()
    wrong = client.post("/accounts/erase/", {"password": "not-my-password", "confirm": "注销"})
    assert wrong.status_code == 400 and "密码不正确" in wrong.content.decode()
    unconfirmed = client.post("/accounts/erase/", {"password": PASSWORD, "confirm": "好的"})
    assert unconfirmed.status_code == 400
    person.refresh_from_db()
    assert person.erased_at is None and person.name == NAME
    done = client.post("/accounts/erase/", {"password": PASSWORD, "confirm": "注销"})
    assert done.status_code == 200 and "账号已注销" in done.content.decode()
    person.refresh_from_db()
    assert person.erased_at is not None
    assert client.get("/accounts/profile/").status_code == 302  # signed out
    with hub_a:
        assert not HubMembership.objects.filter(user_id=person.pk).exists()


def test_operators_erase_by_command(person, capsys):
    call_command("person_erase", MOBILE, reason="PIPL-2026-003", yes=True)
    person.refresh_from_db()
    assert person.erased_at is not None and person.mobile is None
    assert f"erased account #{person.pk}" in capsys.readouterr().out
