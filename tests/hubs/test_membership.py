"""Hub roles: who sees and does what, invitations, the last admin, the audit trail."""

import pytest
from django.core import mail
from django.test import Client

from hubs.core.models import HubMembership
from hubs.core.services import invitation_accept, member_invite, membership_set_roles
from huoban.audit.models import AuditEvent
from huoban.errors import ApplicationError
from tenants.models import HubAccess, HubInvitation

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        ("anonymous", "/api/v1/hub/members", 401),
        ("outsider", "/api/v1/hub/members", 404),
        ("resident", "/api/v1/hub/members", 404),  # signed in, no role: sees only public pages
        ("ngo_member", "/api/v1/hub/members", 404),
        ("reviewer", "/api/v1/hub/members", 403),
        ("ambassador", "/api/v1/hub/members", 403),
        ("staff", "/api/v1/hub/members", 200),
        ("hub_admin", "/api/v1/hub/members", 200),
        ("staff", "/api/v1/hub/audit", 403),
        ("hub_admin", "/api/v1/hub/audit", 200),
        ("outsider", "/api/v1/hub/audit", 404),
        ("anonymous", "/api/v1/hub", 200),
        ("outsider", "/api/v1/hub", 200),
    ],
)
def test_api_access_matrix(client_for, hub_a, cast_a, outsider, who, path, status):
    user = {"anonymous": None, "outsider": outsider}.get(who, getattr(cast_a, who, None))
    response = client_for(user, hub_a).get(path)
    assert response.status_code == status
    if status >= 400:
        assert set(response.json()) == {"code", "message", "extra"}


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        ("outsider", "/members/", 404),
        ("reviewer", "/members/", 403),
        ("staff", "/members/", 200),
        ("staff", "/audit/", 403),
        ("hub_admin", "/audit/", 200),
        ("anonymous", "/members/", 302),
        ("outsider", "/", 200),
    ],
)
def test_page_access_matrix(client_for, hub_a, cast_a, outsider, who, path, status):
    user = {"anonymous": None, "outsider": outsider}.get(who, getattr(cast_a, who, None))
    assert client_for(user, hub_a).get(path).status_code == status


def test_weak_role_cannot_write_even_where_it_can_read(client_for, hub_a, cast_a):
    response = client_for(cast_a.staff, hub_a).post(
        "/api/v1/hub/members", {"email": "n@x.test", "roles": ["staff"]}, content_type="application/json"
    )
    assert response.status_code == 403 and response.json()["code"] == "role_required"


def test_member_ids_of_another_hub_answer_404(client_for, hub_a, hub_b, cast_b):
    with hub_b:
        foreign_id = HubMembership.objects.get(user=cast_b.staff).pk
    with hub_a:
        assert not HubMembership.objects.filter(pk=foreign_id, user=cast_b.staff).exists()
    # hub A's admin asks hub A for hub B's membership id: not there
    response = client_for(cast_b.hub_admin, hub_a).get(f"/api/v1/hub/members/{foreign_id}")
    assert response.status_code == 404


def test_invite_accept_creates_the_account_and_the_membership(
    client_for, hub_a, cast_a, django_capture_on_commit_callbacks
):
    admin = client_for(cast_a.hub_admin, hub_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            "/api/v1/hub/members", {"email": "New@Person.test", "roles": ["reviewer"]}, content_type="application/json"
        )
    assert response.status_code == 201
    link = next(line for line in mail.outbox[-1].body.splitlines() if "/invitations/" in line)
    path = "/" + link.split("/", 3)[3]
    newcomer = Client(HTTP_HOST=hub_a.host)
    form = newcomer.get(path)
    assert form.status_code == 200 and "new@person.test" in form.content.decode()
    bad = newcomer.post(path, {"name": "新评审", "password": "short"})
    assert bad.status_code == 200 and not HubInvitation.objects.get(email="new@person.test").accepted_at
    ok = newcomer.post(path, {"name": "新评审", "password": "a-much-better-password"})
    assert ok.status_code == 302
    assert newcomer.get("/api/v1/me").json()["email"] == "new@person.test"
    with hub_a:
        membership = HubMembership.objects.get(user__email="new@person.test")
    assert membership.roles == ["reviewer"]
    assert HubAccess.objects.get(hub=hub_a, user=membership.user).roles == ["reviewer"]
    again = Client(HTTP_HOST=hub_a.host).get(path)
    assert again.status_code == 410


def test_an_invitation_is_used_once(hub_a, cast_a, cast_b):
    with hub_a:
        invitation = member_invite(email=cast_b.staff.email, roles=["ambassador"], actor=cast_a.hub_admin)
        token = "t"
        invitation.token_hash = HubInvitation.hash_token(token)
        invitation.save()
        invitation_accept(token=token, user=cast_b.staff)
        with pytest.raises(ApplicationError) as err:
            invitation_accept(token=token, user=cast_b.resident)
        assert err.value.code == "invitation_used"


def test_a_hub_keeps_at_least_one_admin(hub_a, cast_a):
    with hub_a:
        membership = HubMembership.objects.get(user=cast_a.hub_admin)
        with pytest.raises(ApplicationError) as err:
            membership_set_roles(membership=membership, roles=["staff"], actor=cast_a.hub_admin)
        assert err.value.code == "last_admin"
        assert HubMembership.objects.get(pk=membership.pk).roles == ["hub_admin"]


def test_role_changes_are_audited_in_the_hub_and_visible_to_its_admin(client_for, hub_a, cast_a):
    admin = client_for(cast_a.hub_admin, hub_a)
    with hub_a:
        staff_id = HubMembership.objects.get(user=cast_a.staff).pk
    response = admin.patch(
        f"/api/v1/hub/members/{staff_id}",
        {"roles": ["staff", "reviewer"]},
        content_type="application/json",
        HTTP_X_REQUEST_ID="req-12345678",
    )
    assert response.status_code == 200
    with hub_a:
        event = AuditEvent.objects.get(action="hubcore.membership.roles_changed")
        assert event.actor == cast_a.hub_admin
        assert event.before == {"roles": ["staff"]} and event.after == {"roles": ["reviewer", "staff"]}
        assert event.request_id == "req-12345678"
    # the event lives in hub A's schema only
    assert not AuditEvent.objects.filter(action="hubcore.membership.roles_changed").exists()
    listed = admin.get("/api/v1/hub/audit?action=hubcore.membership").json()["results"]
    assert listed[0]["action"] == "hubcore.membership.roles_changed"
    assert "roles_changed" in admin.get("/audit/").content.decode()


def test_audit_events_cannot_be_changed(hub_a):
    with hub_a:
        event = AuditEvent.objects.first()
        event.action = "forged"
        with pytest.raises(ValueError, match="append-only"):
            event.save()
        with pytest.raises(ValueError, match="append-only"):
            event.delete()


def test_hub_admin_invites_and_edits_roles_through_pages(client_for, hub_a, cast_a):
    admin = client_for(cast_a.hub_admin, hub_a)
    assert admin.post("/members/invite/", {"email": "p@x.test", "roles": ["staff"]}).status_code == 302
    assert HubInvitation.objects.filter(hub=hub_a, email="p@x.test").exists()
    with hub_a:
        pk = HubMembership.objects.get(user=cast_a.treasurer).pk
    assert admin.post(f"/members/{pk}/", {"roles": ["treasurer", "fund_committee"]}).status_code == 302
    with hub_a:
        assert HubMembership.objects.get(pk=pk).roles == ["fund_committee", "treasurer"]
    assert admin.post(f"/members/{pk}/", {"action": "remove"}).status_code == 302
    with hub_a:
        assert not HubMembership.objects.filter(pk=pk).exists()
    assert not HubAccess.objects.filter(hub=hub_a, user=cast_a.treasurer).exists()


def test_staff_seats_follow_the_plan_at_the_edge(client_for, hub_a, cast_a):
    # the free plan has 3 staff seats; hub A's admin and staff hold two
    from hubs.core.services import membership_grant

    with hub_a:
        membership_grant(user=cast_a.reviewer, roles=["staff"], actor=cast_a.hub_admin)  # the last seat
        with pytest.raises(ApplicationError) as err:
            membership_grant(user=cast_a.ambassador, roles=["staff"], actor=cast_a.hub_admin)
        assert err.value.code == "plan_limit"
        assert err.value.extra["limit"] == 3
        assert HubMembership.objects.get(user=cast_a.ambassador).roles == ["ambassador"]  # unchanged
        membership_grant(user=cast_a.ambassador, roles=["treasurer"], actor=cast_a.hub_admin)  # not a seat
    refused = client_for(cast_a.hub_admin, hub_a).post(
        "/api/v1/hub/members", {"email": "more@staff.test", "roles": ["staff"]}, content_type="application/json"
    )
    assert refused.status_code == 402
    assert refused.json()["code"] == "plan_limit" and "/billing/" in refused.json()["message"]
