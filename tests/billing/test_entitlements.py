"""Plan limits at the edge: hub code asks ``tenants.entitlements`` before adding one more of a limited thing.
The last allowed one passes; the first one over gets ``plan_limit``, naming the limit and the upgrade page."""

from __future__ import annotations

import pytest
from django.db import transaction

from billing import services
from hubs.core.services import membership_grant
from huoban.api.errors import exception_handler
from huoban.errors import ApplicationError
from huoban.identity.services import user_create
from tenants.entitlements import (
    Resource,
    entitlement_lock,
    entitlement_require,
    free_limits,
    hub_limits,
    hub_usage,
    staff_seats_in_use,
    takes_new_seat,
    usage_record,
)
from tests.conftest import PASSWORD


def grant_staff_checked(hub, user):  # type: ignore[no-untyped-def]
    """What hubs.core.services.membership_grant does at its edge once the call is wired in (see billing's notes)."""
    with hub, transaction.atomic():
        entitlement_lock(hub=hub)
        entitlement_require(hub=hub, resource=Resource.STAFF_SEATS, current=staff_seats_in_use(hub=hub))
        return membership_grant(user=user, roles=["staff"], actor=None)


def _person(n: int):  # type: ignore[no-untyped-def]
    return user_create(name=f"新同事{n}", email=f"new{n}@seats.test", password=PASSWORD, email_verified=True)


@pytest.mark.django_db
def test_the_last_allowed_staff_seat_passes_and_the_first_one_over_is_refused(hub_a):
    assert hub_limits(hub=hub_a).staff_seats == 3
    assert staff_seats_in_use(hub=hub_a) == 2  # the hub admin and the staff member

    grant_staff_checked(hub_a, _person(1))  # the third and last seat
    assert staff_seats_in_use(hub=hub_a) == 3

    with pytest.raises(ApplicationError) as refused:
        grant_staff_checked(hub_a, _person(2))
    error = refused.value
    assert error.code == "plan_limit"
    assert error.status == 402
    assert error.extra["resource"] == "staff_seats"
    assert (error.extra["limit"], error.extra["current"]) == (3, 3)
    assert error.extra["upgrade_url"] == f"{hub_a.url}/billing/"
    assert "工作人员席位" in str(error) and "3" in str(error) and "/billing/" in str(error)
    assert staff_seats_in_use(hub=hub_a) == 3  # nothing was added


@pytest.mark.django_db
def test_the_api_renders_plan_limit_in_the_one_error_body(hub_a):
    with pytest.raises(ApplicationError) as refused:
        entitlement_require(hub=hub_a, resource=Resource.OPEN_CALLS, current=2)
    response = exception_handler(refused.value, {})
    assert response is not None and response.status_code == 402
    assert response.data["code"] == "plan_limit"
    assert response.data["extra"]["resource"] == "open_calls"
    assert "进行中的项目征集" in response.data["message"]


@pytest.mark.django_db
def test_storage_limit_speaks_in_bytes_people_can_read(hub_a):
    limit = free_limits().storage_bytes
    assert limit is not None
    entitlement_require(hub=hub_a, resource=Resource.STORAGE_BYTES, current=limit - 100, adding=100)
    with pytest.raises(ApplicationError) as refused:
        entitlement_require(hub=hub_a, resource=Resource.STORAGE_BYTES, current=limit - 100, adding=101)
    assert "GB" in str(refused.value)


@pytest.mark.django_db
def test_a_comp_raises_the_limits_and_unlimited_means_unlimited(hub_a, operator):
    services.billing_comp_set(hub=hub_a, plan_code="provincial", seats=8, reason="省级试点", actor=operator)
    assert hub_limits(hub=hub_a).staff_seats == 8
    entitlement_require(hub=hub_a, resource=Resource.ACTIVE_PARTNERS, current=10**6)  # no limit on partners
    entitlement_require(hub=hub_a, resource=Resource.STAFF_SEATS, current=7)
    with pytest.raises(ApplicationError):
        entitlement_require(hub=hub_a, resource=Resource.STAFF_SEATS, current=8)
    services.billing_comp_clear(hub=hub_a, reason="试点结束", actor=operator)
    assert hub_limits(hub=hub_a) == free_limits()


@pytest.mark.django_db
def test_limits_of_one_hub_do_not_leak_to_another(hub_a, hub_b, operator):
    services.billing_comp_set(hub=hub_a, plan_code="standard", seats=20, reason="测试", actor=operator)
    assert hub_limits(hub=hub_a).staff_seats == 20
    assert hub_limits(hub=hub_b).staff_seats == 3


@pytest.mark.django_db
def test_free_plan_limits_can_be_set_for_a_deployment_without_billing(hub_a, settings):
    settings.HUOBAN_FREE_PLAN_LIMITS = {"staff_seats": 10}
    assert hub_limits(hub=hub_a).staff_seats == 10
    assert hub_limits(hub=hub_a).open_calls == 2


@pytest.mark.django_db
def test_hub_code_reports_usage_for_the_billing_page(hub_a, hub_b):
    usage_record(hub=hub_a, resource=Resource.ACTIVE_PARTNERS, amount=17)
    assert hub_usage(hub=hub_a)[Resource.ACTIVE_PARTNERS] == 17
    assert hub_usage(hub=hub_b)[Resource.ACTIVE_PARTNERS] is None  # never counted
    with pytest.raises(ValueError, match="unknown resource"):
        usage_record(hub=hub_a, resource="bananas", amount=1)


def test_only_adding_a_seat_role_takes_a_seat():
    assert takes_new_seat(roles_before=[], roles_after=["staff"])
    assert takes_new_seat(roles_before=["reviewer"], roles_after=["reviewer", "hub_admin"])
    assert not takes_new_seat(roles_before=["staff"], roles_after=["staff", "hub_admin"])
    assert not takes_new_seat(roles_before=[], roles_after=["reviewer"])


def test_the_lock_needs_a_transaction(committed_db):  # type: ignore[no-untyped-def]
    from tenants.models import Hub

    hub = Hub.objects.get(slug="sichuan")
    with pytest.raises(RuntimeError):
        entitlement_lock(hub=hub)
    with transaction.atomic():
        entitlement_lock(hub=hub)
