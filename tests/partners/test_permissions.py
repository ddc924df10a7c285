"""Who sees what: staff run the network; outsiders get 404, weaker roles 403; contacts and notes never leave the
hub's staff; the public page shows public profiles only."""

from __future__ import annotations

import pytest

from hubs.partners import services

pytestmark = pytest.mark.django_db

STAFF_PAGES = [
    "/partners/",
    "/partners/{pk}/",
    "/partners/stats/",
    "/partners/invite/",
    "/partners/add/",
    "/partners/import/",
    "/partners/export.csv",
    "/partners/import/template.xlsx",
    "/api/v1/partners",
    "/api/v1/partners/{pk}",
    "/api/v1/partners/{pk}/contacts",
    "/api/v1/partners/{pk}/notes",
    "/api/v1/partners/{pk}/documents",
    "/api/v1/partners/stats",
    "/api/v1/partners/invitations",
    "/api/v1/partners/imports",
    "/api/v1/partners/export.xlsx",
]


@pytest.fixture
def active_with_private_data(partnership_in, hub_a, cast_a):  # type: ignore[no-untyped-def]
    partnership = partnership_in("active")
    with hub_a:
        services.partnership_update(partnership=partnership, actor=cast_a.staff, public_profile="公开简介：陪伴青少年")
        services.partner_contact_add(
            partnership=partnership, actor=cast_a.staff, name="秘密联系人", phone="13800138000", email="secret@c.test"
        )
        services.partner_note_add(partnership=partnership, actor=cast_a.staff, body="内部备注：注意财务风险")
    return partnership


PRIVATE = ["秘密联系人", "13800138000", "secret@c.test", "内部备注"]


@pytest.mark.parametrize("path", STAFF_PAGES)
@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("outsider", 404),
        ("ngo_member", 404),
        ("resident", 404),
        ("reviewer", 403),
        ("ambassador", 403),
        ("treasurer", 403),
        ("staff", 200),
        ("hub_admin", 200),
    ],
)
def test_staff_pages_and_api(client_for, hub_a, cast_a, outsider, active_with_private_data, path, who, expected):
    user = outsider if who == "outsider" else getattr(cast_a, who)
    response = client_for(user, hub_a).get(path.format(pk=active_with_private_data.pk))
    assert response.status_code == expected
    if path.startswith("/api/") and expected >= 400:
        assert set(response.json()) == {"code", "message", "extra"}


def test_anonymous_is_sent_to_sign_in(client_for, hub_a, active_with_private_data):
    anonymous = client_for(None, hub_a)
    assert anonymous.get("/partners/").status_code == 302
    assert anonymous.get("/api/v1/partners").status_code == 401


def test_staff_see_contacts_and_notes(client_for, hub_a, cast_a, active_with_private_data):
    page = client_for(cast_a.staff, hub_a).get(f"/partners/{active_with_private_data.pk}/").content.decode()
    assert all(marker in page for marker in PRIVATE)
    contacts = client_for(cast_a.staff, hub_a).get(f"/api/v1/partners/{active_with_private_data.pk}/contacts").json()
    assert contacts[0]["phone"] == "13800138000"


def test_contacts_and_notes_never_reach_public_pages_or_non_staff(
    client_for, hub_a, cast_a, outsider, active_with_private_data
):
    seen = []
    for user in (None, outsider, cast_a.ngo_member, cast_a.resident, cast_a.reviewer):
        client = client_for(user, hub_a)
        for path in ("/partners/public/", "/api/v1/partners/public", "/", "/partners/apply/", "/api/v1/partners/mine"):
            response = client.get(path)
            if response.status_code == 200:
                seen.append(response.content.decode())
    assert seen
    for body in seen:
        assert not any(marker in body for marker in PRIVATE), body[:300]
    public = client_for(None, hub_a).get("/partners/public/").content.decode()
    assert active_with_private_data.organisation.name in public and "公开简介：陪伴青少年" in public
    row = client_for(None, hub_a).get("/api/v1/partners/public").json()["results"][0]
    assert set(row) == {"id", "organisation", "service_areas", "public_profile", "joined_at"}
    assert set(row["organisation"]) == {"name", "kind", "kind_label", "region_label"}


def test_public_page_lists_only_active_partners(client_for, hub_a, cast_a, partnership_in, make_org):
    active = partnership_in("active")
    pending = make_org(cast_a.resident, name="待审核的组织")
    with hub_a:
        services.partnership_apply(organisation=pending, actor=cast_a.resident)
    body = client_for(None, hub_a).get("/partners/public/").content.decode()
    assert active.organisation.name in body and "待审核的组织" not in body


def test_staff_writes_need_staff(client_for, hub_a, cast_a, active_with_private_data):
    pk = active_with_private_data.pk
    reviewer = client_for(cast_a.reviewer, hub_a)
    assert (
        reviewer.post(f"/api/v1/partners/{pk}/notes", {"body": "x"}, content_type="application/json").status_code == 403
    )
    assert reviewer.post(f"/partners/{pk}/notes/", {"body": "x"}).status_code == 403
    staff = client_for(cast_a.staff, hub_a)
    note = staff.post(f"/api/v1/partners/{pk}/notes", {"body": "回访记录"}, content_type="application/json")
    assert note.status_code == 201 and note.json()["author_label"] == str(cast_a.staff)
    contact = staff.post(
        f"/api/v1/partners/{pk}/contacts", {"name": "赵六", "email": "not-an-email"}, content_type="application/json"
    )
    assert contact.status_code == 400
    contact = staff.post(
        f"/api/v1/partners/{pk}/contacts", {"name": "赵六", "phone": "abc"}, content_type="application/json"
    )
    assert contact.status_code == 400 and contact.json()["code"] == "invalid_phone"
    contact = staff.post(f"/api/v1/partners/{pk}/contacts", {"name": "赵六"}, content_type="application/json").json()
    updated = staff.patch(
        f"/api/v1/partners/{pk}/contacts/{contact['id']}", {"role": "秘书长"}, content_type="application/json"
    )
    assert updated.json()["role"] == "秘书长"
    assert staff.delete(f"/api/v1/partners/{pk}/contacts/{contact['id']}").status_code == 204
    patched = staff.patch(
        f"/api/v1/partners/{pk}", {"service_areas": ["youth", "elderly"]}, content_type="application/json"
    )
    assert patched.json()["service_areas"] == ["elderly", "youth"]
    bad = staff.patch(f"/api/v1/partners/{pk}", {"service_areas": ["unicorns"]}, content_type="application/json")
    assert bad.status_code == 400


def test_another_hubs_partnership_answers_404(client_for, hub_b, cast_b, active_with_private_data):
    # hub B's staff ask hub B for hub A's partnership id: not there
    response = client_for(cast_b.staff, hub_b).get(f"/api/v1/partners/{active_with_private_data.pk}")
    assert response.status_code == 404
