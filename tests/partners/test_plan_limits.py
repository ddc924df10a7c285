"""The hub's plan limits active partners at every way in: approval, reinstatement, staff additions and imports.
The last allowed partner passes; the first one over is refused with ``plan_limit`` and nothing changes."""

from __future__ import annotations

import pytest

from hubs.partners import services
from hubs.partners.imports import import_job_create
from hubs.partners.models import ImportJob, Partnership
from huoban.errors import ApplicationError
from tenants.entitlements import Limits, hub_limits_set
from tests.factories import credit_code
from tests.partners.test_import_export import _csv, row

pytestmark = pytest.mark.django_db


def _active(hub) -> int:  # type: ignore[no-untyped-def]
    with hub:
        return Partnership.objects.filter(status="active").count()


@pytest.fixture
def room_for(settings, hub_a):  # type: ignore[no-untyped-def]
    """``room_for(n)``: put hub A's (free) plan limit at its current active partners plus ``n``."""

    def set_room(n: int) -> int:
        limit = _active(hub_a) + n
        settings.HUOBAN_FREE_PLAN_LIMITS = {"active_partners": limit}
        return limit

    return set_room


def _applied(hub, cast, make_org, name: str):  # type: ignore[no-untyped-def]
    organisation = make_org(cast.ngo_member, name=name)
    with hub:
        partnership = services.partnership_apply(organisation=organisation, actor=cast.ngo_member, service_areas=[])
        return services.partnership_review_start(partnership=partnership, actor=cast.staff)


def test_the_last_allowed_approval_passes_and_the_next_is_refused(hub_a, cast_a, make_org, room_for):
    first = _applied(hub_a, cast_a, make_org, "成都市青羊区助老服务中心")
    second = _applied(hub_a, cast_a, make_org, "成都市金牛区社区发展中心")
    limit = room_for(1)

    with hub_a:
        services.partnership_approve(partnership=first, actor=cast_a.staff)
        with pytest.raises(ApplicationError) as refused:
            services.partnership_approve(partnership=second, actor=cast_a.staff)

    error = refused.value
    assert (error.code, error.status) == ("plan_limit", 402)
    assert (error.extra["resource"], error.extra["limit"], error.extra["current"]) == ("active_partners", limit, limit)
    assert "合作中的伙伴" in error.message and f"{hub_a.url}/billing/" in error.message
    with hub_a:
        assert Partnership.objects.get(pk=second.pk).status == "under_review"  # unchanged
    assert _active(hub_a) == limit


def test_reinstating_a_suspended_partner_needs_room(hub_a, cast_a, partnership_in, make_org, room_for):
    suspended = partnership_in("suspended")
    newcomer = _applied(hub_a, cast_a, make_org, "成都市成华区青少年服务中心")
    room_for(1)
    with hub_a:
        services.partnership_approve(partnership=newcomer, actor=cast_a.staff)  # takes the last place
        with pytest.raises(ApplicationError) as refused:
            services.partnership_reinstate(partnership=suspended, actor=cast_a.staff)
        assert refused.value.code == "plan_limit"
        assert Partnership.objects.get(pk=suspended.pk).status == "suspended"
        # Suspending someone else frees a place.
        services.partnership_suspend(partnership=newcomer, actor=cast_a.staff, reason="年报逾期")
        services.partnership_reinstate(partnership=suspended, actor=cast_a.staff)


def test_staff_can_still_add_partners_for_review_at_the_limit(hub_a, cast_a, room_for):
    room_for(0)
    data = services.organisation_data_check(
        name="成都市锦江区邻里互助会",
        kind="social_organisation",
        region_code="510104",
        credit_code=credit_code("510104"),
    )
    with hub_a:
        with pytest.raises(ApplicationError) as refused:
            services.partnership_staff_add(actor=cast_a.staff, organisation_data=data)
        assert refused.value.code == "plan_limit"
        assert not Partnership.objects.filter(organisation__name="成都市锦江区邻里互助会").exists()
        added = services.partnership_staff_add(actor=cast_a.staff, organisation_data=data, status="under_review")
        assert added.status == "under_review"


def test_an_import_past_the_limit_is_refused_at_upload_and_writes_nothing(hub_a, cast_a, room_for):
    limit = room_for(2)
    rows = [row(f"成都市公益组织{i}号", credit_code("510104")) for i in range(3)]
    with hub_a:
        with pytest.raises(ApplicationError) as refused:
            import_job_create(actor=cast_a.staff, file_name="three.csv", data=_csv(rows))
        assert refused.value.code == "plan_limit"
        assert refused.value.extra["adding"] == 3
        assert not ImportJob.objects.exists()
        # Rows imported for review take no place.
        for_review = [row(f"成都市公益组织{i}号", credit_code("510104"), status="审核中") for i in range(3)]
        job = import_job_create(actor=cast_a.staff, file_name="review.csv", data=_csv(for_review))
        assert job.created_count == 3
    assert _active(hub_a) == limit - 2


def test_a_paid_plan_without_a_partner_limit_takes_any_number(hub_a, cast_a, make_org, room_for, operator):
    room_for(0)
    hub_limits_set(hub=hub_a, plan="provincial", source="comp", limits=Limits(None, None, None, None))
    newcomer = _applied(hub_a, cast_a, make_org, "成都市武侯区社工服务中心")
    with hub_a:
        assert services.partnership_approve(partnership=newcomer, actor=cast_a.staff).status == "active"


def test_the_api_answers_402_with_the_upgrade_path(client_for, hub_a, cast_a, make_org, room_for):
    pending = _applied(hub_a, cast_a, make_org, "成都市双流区助残服务中心")
    room_for(0)
    response = client_for(cast_a.staff, hub_a).post(
        f"/api/v1/partners/{pending.pk}/transition", {"status": "active"}, content_type="application/json"
    )
    assert response.status_code == 402
    body = response.json()
    assert body["code"] == "plan_limit" and body["extra"]["upgrade_url"] == f"{hub_a.url}/billing/"


def test_billing_pages_see_the_active_partner_count(hub_a, cast_a, make_org):
    from tenants.entitlements import hub_usage

    newcomer = _applied(hub_a, cast_a, make_org, "成都市郫都区乡村振兴服务中心")
    with hub_a:
        services.partnership_approve(partnership=newcomer, actor=cast_a.staff)
    assert hub_usage(hub=hub_a)["active_partners"] == _active(hub_a)
    with hub_a:
        services.partnership_suspend(partnership=newcomer, actor=cast_a.staff, reason="年报逾期")
    assert hub_usage(hub=hub_a)["active_partners"] == _active(hub_a)
