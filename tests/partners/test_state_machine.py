"""Every move of a partnership: allowed ones (audited, emailed), refused ones (with a clear message)."""

from __future__ import annotations

import pytest
from django.core import mail

from hubs.partners import services
from hubs.partners.models import Partnership
from hubs.partners.services import TRANSITIONS
from huoban.audit.models import AuditEvent
from huoban.errors import ApplicationError

pytestmark = pytest.mark.django_db

ALL = ["invited", "applied", "under_review", "active", "rejected", "suspended", "left"]
REASONS = {"rejected": "材料不全", "suspended": "年报逾期"}


def _invited(hub, staff, organisation):  # type: ignore[no-untyped-def]
    with hub:
        services.partner_invite(actor=staff, email="x@invited.test", credit_code=organisation.credit_code)
        return Partnership.objects.get(organisation=organisation)


def _at(status, partnership_in, hub_a, cast_a, ngo_org_a):  # type: ignore[no-untyped-def]
    return _invited(hub_a, cast_a.staff, ngo_org_a) if status == "invited" else partnership_in(status)


STAFF_MOVES = [(f, t) for f, tos in TRANSITIONS.items() for t, who in tos.items() if "staff" in who]
ORG_MOVES = [(f, t) for f, tos in TRANSITIONS.items() for t, who in tos.items() if "organisation" in who]


@pytest.mark.parametrize(("start", "to"), STAFF_MOVES)
def test_staff_moves_are_allowed_audited_and_emailed(
    start, to, partnership_in, hub_a, cast_a, ngo_org_a, django_capture_on_commit_callbacks
):
    partnership = _at(start, partnership_in, hub_a, cast_a, ngo_org_a)
    mail.outbox.clear()
    with hub_a, django_capture_on_commit_callbacks(execute=True):
        moved = services.partnership_transition(
            partnership=partnership, status=to, actor=cast_a.staff, reason=REASONS.get(to, "")
        )
        event = AuditEvent.objects.filter(action="partners.partnership.status_changed").first()
    assert moved.status == to
    assert event.actor == cast_a.staff and event.object_id == str(partnership.pk)
    assert event.before["status"] == start and event.after == {"status": to, "status_reason": REASONS.get(to, "")}
    if to == "invited":
        assert mail.outbox == []  # the invitation's own email tells them
    else:
        assert [m.to for m in mail.outbox] == [[cast_a.ngo_member.email]]
        assert moved.get_status_display() in mail.outbox[0].subject
        if to in REASONS:
            assert REASONS[to] in mail.outbox[0].body


@pytest.mark.parametrize(("start", "to"), ORG_MOVES)
def test_organisation_moves_are_allowed(start, to, partnership_in, hub_a, cast_a, ngo_org_a):
    partnership = _at(start, partnership_in, hub_a, cast_a, ngo_org_a)
    with hub_a:
        if to == "left":
            moved = services.partnership_leave(partnership=partnership, actor=cast_a.ngo_member)
        else:
            moved = services.partnership_apply(organisation=ngo_org_a, actor=cast_a.ngo_member)
    assert moved.status == to


@pytest.mark.parametrize("start", ALL)
def test_every_other_staff_move_is_refused_with_a_message(start, partnership_in, hub_a, cast_a, ngo_org_a):
    partnership = _at(start, partnership_in, hub_a, cast_a, ngo_org_a)
    with hub_a:
        for to in ALL:
            if (start, to) in STAFF_MOVES:
                continue
            with pytest.raises(ApplicationError) as err:
                services.partnership_transition(partnership=partnership, status=to, actor=cast_a.staff, reason="x")
            assert err.value.code in ("invalid_transition", "transition_not_yours"), (start, to)
            assert Partnership.objects.get(pk=partnership.pk).status == start


def test_refusals_speak_plainly(partnership_in, hub_a, cast_a):
    applied = partnership_in("applied")
    with hub_a:
        with pytest.raises(ApplicationError) as err:
            services.partnership_approve(partnership=applied, actor=cast_a.staff)
        assert err.value.message == "伙伴关系不能从“已申请”变为“合作中”。" and err.value.status == 409
        with pytest.raises(ApplicationError) as err:
            services.partnership_reject(partnership=applied, actor=cast_a.staff, reason="  ")
        assert err.value.code == "reason_required"
        services.partnership_reject(partnership=applied, actor=cast_a.staff, reason="材料不全")
        with pytest.raises(ApplicationError) as err:
            services.partnership_transition(partnership=applied, status="applied", actor=cast_a.staff)
        assert err.value.message == "这一步只能由组织自己操作。"


def test_only_the_organisations_managers_speak_for_it(partnership_in, hub_a, cast_a, cast_b, ngo_org_a):
    from huoban.identity.services import organisation_member_add

    active = partnership_in("active")
    organisation_member_add(organisation=ngo_org_a, actor=cast_a.ngo_member, user=cast_a.resident, role="member")
    with hub_a:
        with pytest.raises(ApplicationError) as err:
            services.partnership_leave(partnership=active, actor=cast_b.ngo_member)
        assert err.value.status == 404  # not theirs: nothing to confirm
        with pytest.raises(ApplicationError) as err:
            services.partnership_leave(partnership=active, actor=cast_a.resident)
        assert err.value.status == 403  # a plain member, not an owner or admin
        assert services.partnership_leave(partnership=active, actor=cast_a.ngo_member).status == "left"


def test_join_date_is_kept_through_a_suspension_and_renewed_after_leaving(partnership_in, hub_a, cast_a):
    suspended = partnership_in("suspended")
    with hub_a:
        joined = Partnership.objects.get(pk=suspended.pk).joined_at
        back = services.partnership_reinstate(partnership=suspended, actor=cast_a.staff)
        assert back.joined_at == joined and back.status_reason == ""
        services.partnership_end(partnership=back, actor=cast_a.staff, reason="项目结束")
        services.partnership_apply(organisation=back.organisation, actor=cast_a.ngo_member)
        services.partnership_review_start(partnership=back, actor=cast_a.staff)
        again = services.partnership_approve(partnership=back, actor=cast_a.staff)
        assert again.joined_at > joined


def test_transitions_through_the_api_and_the_page(client_for, partnership_in, hub_a, cast_a):
    applied = partnership_in("applied")
    staff = client_for(cast_a.staff, hub_a)
    response = staff.post(
        f"/api/v1/partners/{applied.pk}/transition", {"status": "active"}, content_type="application/json"
    )
    assert response.status_code == 409 and response.json()["code"] == "invalid_transition"
    response = staff.post(
        f"/api/v1/partners/{applied.pk}/transition", {"status": "under_review"}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["status"] == "under_review"
    page = staff.post(f"/partners/{applied.pk}/transition/", {"status": "rejected", "reason": ""}, follow=True)
    assert "请说明原因" in page.content.decode()
    page = staff.post(f"/partners/{applied.pk}/transition/", {"status": "active"}, follow=True)
    assert "状态已更新为“合作中”" in page.content.decode()
    reviewer = client_for(cast_a.reviewer, hub_a).post(
        f"/api/v1/partners/{applied.pk}/transition",
        {"status": "suspended", "reason": "x"},
        content_type="application/json",
    )
    assert reviewer.status_code == 403
