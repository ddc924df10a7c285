"""The three ways into a hub's partner network: invitation, application, staff adding by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from hubs.partners import services
from hubs.partners.models import PartnerContact, PartnerInvitation, Partnership
from huoban.audit.models import AuditEvent
from huoban.errors import ApplicationError
from huoban.identity.models import Organisation, OrganisationMember, User
from tests.conftest import PASSWORD
from tests.factories import credit_code

pytestmark = pytest.mark.django_db


def _link_path(message) -> str:  # type: ignore[no-untyped-def]
    link = next(line for line in message.body.splitlines() if "/partners/join/" in line)
    return "/" + link.split("/", 3)[3]


def _invite(client_for, hub, staff, commit_in, **data):  # type: ignore[no-untyped-def]
    mail.outbox.clear()
    with commit_in(hub):
        response = client_for(staff, hub).post("/partners/invite/", {"message": "", "credit_code": "", **data})
    assert response.status_code == 302, response.content.decode()
    invitation = next(m for m in mail.outbox if data["email"].lower() in m.to and "/partners/join/" in m.body)
    return _link_path(invitation)


def test_invited_newcomer_creates_account_and_registers_organisation(client_for, hub_a, cast_a, commit_in):
    path = _invite(client_for, hub_a, cast_a.staff, commit_in, email="Lead@NewNgo.test")
    newcomer = Client(HTTP_HOST=hub_a.host)
    page = newcomer.get(path)
    assert page.status_code == 200 and "lead@newngo.test" in page.content.decode()
    code = credit_code("511802")
    form = {
        "name": "李主任",
        "password": PASSWORD,
        "organisation": "new",
        "org_name": "雅安市青少年成长服务中心",
        "org_kind": "social_organisation",
        "org_credit_code": code,
        "org_region_code": "511802",
        "service_areas": ["youth", "education"],
        "public_profile": "陪伴灾后青少年成长。",
    }
    bad = newcomer.post(path, {**form, "org_credit_code": code[:-1] + ("0" if code[-1] != "0" else "1")})
    assert bad.status_code == 200 and "校验位" in bad.content.decode()
    assert not User.objects.filter(email="lead@newngo.test").exists()  # a refused organisation leaves no account

    mail.outbox.clear()
    with commit_in(hub_a):
        ok = newcomer.post(path, form)
    assert ok.status_code == 302 and ok["Location"].endswith("/partners/apply/")
    user = User.objects.get(email="lead@newngo.test")
    assert user.email_verified_at is not None
    organisation = Organisation.objects.get(credit_code=code)
    assert OrganisationMember.objects.get(organisation=organisation).user == user
    with hub_a:
        partnership = Partnership.objects.get(organisation=organisation)
        assert partnership.status == "applied" and partnership.source == "invitation"
        assert partnership.service_areas == ["youth", "education"]
        assert PartnerInvitation.objects.get().accepted_by_id == user.pk
        assert AuditEvent.objects.filter(action="partners.invitation.accepted").exists()
    # the new owner is told, in the email, where the organisation stands
    assert any("lead@newngo.test" in m.to and "已申请" in m.subject for m in mail.outbox)
    mine = newcomer.get("/partners/apply/").content.decode()
    assert "雅安市青少年成长服务中心" in mine and "已申请" in mine
    assert Client(HTTP_HOST=hub_a.host).get(path).status_code == 410  # used once


def test_invitation_for_a_registered_organisation_is_accepted_by_its_manager(
    client_for, hub_a, cast_a, ngo_org_a, commit_in
):
    path = _invite(
        client_for,
        hub_a,
        cast_a.staff,
        commit_in,
        email=cast_a.ngo_member.email,
        credit_code=ngo_org_a.credit_code,
    )
    with hub_a:
        assert Partnership.objects.get(organisation=ngo_org_a).status == "invited"
    # someone else, signed in, cannot accept for that organisation
    other = client_for(cast_a.resident, hub_a)
    refused = other.post(path, {"service_areas": []})
    assert refused.status_code == 200 and "负责人或管理员" in refused.content.decode()
    response = client_for(cast_a.ngo_member, hub_a).post(path, {"service_areas": ["community"]})
    assert response.status_code == 302
    with hub_a:
        assert Partnership.objects.get(organisation=ngo_org_a).status == "applied"


def test_invitation_hands_an_organisation_registered_by_staff_to_its_people(hub_a, cast_a):
    with hub_a:
        data = services.organisation_data_check(
            name="上城区邻里守望社", kind="social_organisation", region_code="330102", credit_code=credit_code("330102")
        )
        partnership = services.partnership_staff_add(actor=cast_a.staff, organisation_data=data)
        organisation = partnership.organisation
        assert not OrganisationMember.objects.filter(organisation=organisation).exists()  # the hub owns nothing
        services.partnership_end(partnership=partnership, actor=cast_a.staff)
        _invitation, token = services.partner_invite(
            actor=cast_a.staff, email="owner@linli.test", credit_code=organisation.credit_code
        )
        assert Partnership.objects.get(pk=partnership.pk).status == "invited"
        accepted, user = services.partner_invitation_accept(
            token=token, user=None, account=services.NewAccount(name="王社长", password=PASSWORD)
        )
        assert accepted.status == "applied"
        assert OrganisationMember.objects.get(organisation=organisation).user == user
        assert AuditEvent.objects.filter(
            action="partners.organisation.claimed", object_id=str(organisation.pk)
        ).exists()


def test_invitation_links_that_cannot_be_used(client_for, hub_a, cast_a):
    with hub_a:
        used, used_token = services.partner_invite(actor=cast_a.staff, email="a@x.test")
        expired, expired_token = services.partner_invite(actor=cast_a.staff, email="b@x.test")
        revoked, revoked_token = services.partner_invite(actor=cast_a.staff, email="c@x.test")
        PartnerInvitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
        services.partner_invitation_revoke(invitation=revoked, actor=cast_a.staff)
        PartnerInvitation.objects.filter(pk=used.pk).update(accepted_at=timezone.now())
    anonymous = Client(HTTP_HOST=hub_a.host)
    assert anonymous.get(f"/partners/join/{used_token}/").status_code == 410
    assert anonymous.get(f"/partners/join/{expired_token}/").status_code == 410
    assert anonymous.get(f"/partners/join/{revoked_token}/").status_code == 404
    assert anonymous.get("/partners/join/nonsense/").status_code == 404
    api = client_for(None, hub_a).get(f"/api/v1/partners/join/{expired_token}")
    assert api.status_code == 410 and api.json()["code"] == "invitation_expired"


def test_an_existing_account_must_sign_in_to_accept(hub_a, cast_a):
    with hub_a:
        _invitation, token = services.partner_invite(actor=cast_a.staff, email=cast_a.ngo_member.email)
        with pytest.raises(ApplicationError) as err:
            services.partner_invitation_accept(token=token, user=None, account=services.NewAccount("x", PASSWORD))
        assert err.value.code == "login_required"
    page = Client(HTTP_HOST=hub_a.host).get(f"/partners/join/{token}/").content.decode()
    assert "请先登录" in page


def test_accept_through_the_api_for_an_organisation_one_manages(client_for, hub_a, cast_a, ngo_org_a):
    with hub_a:
        _invitation, token = services.partner_invite(actor=cast_a.staff, email="anyone@x.test")
    client = client_for(cast_a.ngo_member, hub_a)
    info = client.get(f"/api/v1/partners/join/{token}").json()
    assert info["email"] == "anyone@x.test" and info["organisation_name"] is None
    response = client.post(
        f"/api/v1/partners/join/{token}", {"organisation": ngo_org_a.pk}, content_type="application/json"
    )
    assert response.status_code == 201 and response.json()["status"] == "applied"
    anonymous = client_for(None, hub_a).post(f"/api/v1/partners/join/{token}", {}, content_type="application/json")
    assert anonymous.status_code == 401


def test_an_organisation_applies_from_the_hub_host_without_a_hub_role(client_for, hub_a, cast_a, ngo_org_a, commit_in):
    assert Client(HTTP_HOST=hub_a.host).get("/partners/apply/").status_code == 302  # sign in first
    client = client_for(cast_a.ngo_member, hub_a)
    page = client.get("/partners/apply/")
    assert page.status_code == 200 and ngo_org_a.name in page.content.decode()
    mail.outbox.clear()
    with commit_in(hub_a):
        response = client.post(
            "/partners/apply/",
            {"organisation": ngo_org_a.pk, "service_areas": ["elderly"], "public_profile": "社区养老服务"},
        )
    assert response.status_code == 302
    with hub_a:
        partnership = Partnership.objects.get(organisation=ngo_org_a)
        assert (partnership.status, partnership.source, partnership.service_areas) == (
            "applied",
            "application",
            ["elderly"],
        )
        event = AuditEvent.objects.get(action="partners.partnership.created")
        assert event.actor == cast_a.ngo_member and event.after["status"] == "applied"
    assert [m.to for m in mail.outbox] == [[cast_a.ngo_member.email]]
    again = client.post("/partners/apply/", {"organisation": ngo_org_a.pk})
    assert again.status_code == 200 and "已在本枢纽" in again.content.decode()
    # someone who manages nothing cannot apply for another's organisation
    foreign = client_for(cast_a.resident, hub_a).post("/partners/apply/", {"organisation": ngo_org_a.pk})
    assert foreign.status_code == 200
    with hub_a:
        assert Partnership.objects.count() == 1


def test_apply_and_leave_through_the_api(client_for, hub_a, cast_a, ngo_org_a, outsider, make_org):
    client = client_for(cast_a.ngo_member, hub_a)
    created = client.post(
        "/api/v1/partners/mine",
        {"organisation": ngo_org_a.pk, "service_areas": ["youth"]},
        content_type="application/json",
    )
    assert created.status_code == 201
    mine = client.get("/api/v1/partners/mine").json()
    assert [row["organisation"]["name"] for row in mine] == [ngo_org_a.name]
    # an outsider (another hub's admin) may apply too, for an organisation they manage, but not for this one
    foreign = client_for(outsider, hub_a).post(
        "/api/v1/partners/mine", {"organisation": ngo_org_a.pk}, content_type="application/json"
    )
    assert foreign.status_code == 404
    own = make_org(outsider, name="上城区助残志愿者协会", region="330102")
    assert (
        client_for(outsider, hub_a)
        .post("/api/v1/partners/mine", {"organisation": own.pk}, content_type="application/json")
        .status_code
        == 201
    )
    left = client.post(f"/api/v1/partners/mine/{created.json()['id']}/leave", {}, content_type="application/json")
    assert left.status_code == 200 and left.json()["status"] == "left"
    assert client_for(None, hub_a).get("/api/v1/partners/mine").status_code == 401


def test_staff_add_an_organisation_already_on_the_platform(client_for, hub_a, cast_a, ngo_org_a):
    response = client_for(cast_a.staff, hub_a).post(
        "/api/v1/partners",
        {"credit_code": ngo_org_a.credit_code.lower(), "service_areas": ["community"]},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "active" and body["joined_at"] and body["organisation"]["id"] == ngo_org_a.pk
    again = client_for(cast_a.staff, hub_a).post(
        "/api/v1/partners", {"credit_code": ngo_org_a.credit_code}, content_type="application/json"
    )
    assert again.status_code == 409 and again.json()["code"] == "already_partner"


def test_staff_add_registers_a_new_organisation_record_with_a_contact(client_for, hub_a, cast_a):
    code = credit_code("510104")
    page = client_for(cast_a.staff, hub_a).post(
        "/partners/add/",
        {
            "credit_code": code,
            "name": "锦江区社区发展基金会",
            "kind": "foundation",
            "region_code": "510104",
            "service_areas": ["community"],
            "status": "under_review",
            "contact_name": "张三",
            "contact_phone": "028-86661234",
            "contact_email": "zhang@jj.test",
        },
    )
    assert page.status_code == 302
    organisation = Organisation.objects.get(credit_code=code)
    assert organisation.kind == "foundation" and organisation.created_by == cast_a.staff
    assert not organisation.members.exists()
    with hub_a:
        partnership = Partnership.objects.get(organisation=organisation)
        assert partnership.status == "under_review" and partnership.joined_at is None
        assert PartnerContact.objects.get(partnership=partnership).phone == "028-86661234"
    missing = client_for(cast_a.staff, hub_a).post(
        "/partners/add/", {"credit_code": credit_code("510104"), "status": "active"}
    )
    assert "没有这个统一社会信用代码" in missing.content.decode()
    bad_region = client_for(cast_a.staff, hub_a).post(
        "/partners/add/", {"name": "某志愿队", "kind": "volunteer_team", "region_code": "999999", "status": "active"}
    )
    assert "未知的地区代码：999999。" in bad_region.content.decode()


def test_volunteer_team_without_credit_code_is_added_once(hub_a, cast_a):
    with hub_a:
        data = services.organisation_data_check(name="青羊区河长志愿队", kind="volunteer_team", region_code="510105")
        services.partnership_staff_add(actor=cast_a.staff, organisation_data=data)
        with pytest.raises(ApplicationError) as err:
            services.partnership_staff_add(actor=cast_a.staff, organisation_data=data)
        assert err.value.code == "already_partner"
        with pytest.raises(ApplicationError) as err:
            services.organisation_data_check(name="某协会", kind="social_organisation", region_code="510105")
        assert err.value.message == "请填写统一社会信用代码。"
