"""Without STRIPE_SECRET_KEY billing is off: every hub is on the free plan (its limits still apply), the pages and
API say so, and nothing ever calls Stripe."""

from __future__ import annotations

import pytest
import stripe

from billing.models import BillingAccount
from tenants.entitlements import FREE_PLAN, Resource, free_limits, hub_entitlement, hub_limits

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_stripe_calls(monkeypatch):  # type: ignore[no-untyped-def]
    """Any Stripe client or HTTP request fails the test."""

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("billing is off: nothing may call Stripe")

    monkeypatch.setattr(stripe.StripeClient, "__init__", refuse)
    monkeypatch.setattr(stripe._api_requestor._APIRequestor, "request_raw", refuse)


def test_hubs_sit_on_the_free_plan_with_its_limits(hub_a, settings):
    assert not settings.STRIPE_SECRET_KEY
    entitlement = hub_entitlement(hub=hub_a)
    assert (entitlement.plan, entitlement.source) == (FREE_PLAN, "free")
    assert hub_limits(hub=hub_a) == free_limits()
    assert hub_limits(hub=hub_a).get(Resource.STAFF_SEATS) == 3


def test_billing_page_shows_the_free_plan_usage_and_how_to_get_more(client_for, hub_a, cast_a):
    page = client_for(cast_a.hub_admin, hub_a).get("/billing/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "社区版" in html
    assert 'data-testid="billing-off"' in html
    assert "联系平台运营方" in html
    assert 'data-testid="plan-form"' not in html  # no way to pay online
    # two of three staff seats are taken (the hub admin and the staff member)
    assert "2 / 3" in html


def test_changing_plan_is_refused_with_a_clear_message(client_for, hub_a, cast_a):
    client = client_for(cast_a.hub_admin, hub_a)
    response = client.post("/api/v1/billing/plan", {"plan": "standard", "seats": 5}, content_type="application/json")
    assert response.status_code == 409
    assert response.json()["code"] == "billing_disabled"
    page = client.post("/billing/plan/", {"plan": "standard", "seats": 5})
    assert page.status_code == 200
    assert "在线付费尚未开通" in page.content.decode()
    assert not BillingAccount.objects.filter(hub=hub_a, stripe_customer_id__isnull=False).exists()


def test_summary_api_reports_billing_off(client_for, hub_a, cast_a):
    body = client_for(cast_a.hub_admin, hub_a).get("/api/v1/billing").json()
    assert body["enabled"] is False
    assert body["plan"]["code"] == FREE_PLAN
    assert body["plan_source"] == "free"
    assert body["limits"]["staff_seats"] == 3
    usage = {row["resource"]: row["used"] for row in body["usage"]}
    assert usage["staff_seats"] == 2


def test_webhook_endpoint_does_not_exist(client_for):
    response = client_for(None).post("/billing/webhooks/stripe/", data="{}", content_type="application/json")
    assert response.status_code == 404


def test_operators_can_still_comp_a_hub_and_see_the_console(client_for, operator, hub_a):
    client = client_for(operator)
    response = client.post(
        f"/api/v1/operator/billing/hubs/{hub_a.slug}/comp",
        {"plan": "provincial", "seats": 10, "reason": "省级试点，免费一年"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert hub_limits(hub=hub_a).staff_seats == 10
    credit = client.post(
        f"/api/v1/operator/billing/hubs/{hub_a.slug}/credits",
        {"amount_fen": 1000, "reason": "补偿"},
        content_type="application/json",
    )
    assert credit.status_code == 409 and credit.json()["code"] == "billing_disabled"
    page = client.get("/console/billing/")
    assert page.status_code == 200 and 'data-testid="billing-off"' in page.content.decode()
