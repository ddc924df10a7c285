"""Operators: revenue and status per hub, comps with a reason (audited), manual credits through Stripe, and
``billing_sync`` reconciling local state with Stripe."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from billing import services
from billing.models import BillingAccount, StripePrice
from huoban.audit.models import AuditEvent
from tenants.entitlements import hub_entitlement, hub_limits
from tests.billing.conftest import card_payment_method

pytestmark = pytest.mark.django_db


def _subscribe(local, hub, admin, seats=2):  # type: ignore[no-untyped-def]
    services.payment_method_set(hub=hub, payment_method_id=card_payment_method(local), actor=admin)
    services.billing_plan_change(hub=hub, plan_code="standard", seats=seats, actor=admin)
    return BillingAccount.objects.get(hub=hub)


def test_console_shows_revenue_and_status_per_hub(stripe_on, client_for, operator, hub_a, hub_b, cast_a):
    _subscribe(stripe_on, hub_a, cast_a.hub_admin, seats=3)
    services.billing_comp_set(hub=hub_b, plan_code="provincial", seats=5, reason="区级试点", actor=operator)

    page = client_for(operator).get("/console/billing/").content.decode()

    assert 'data-testid="billing-row-sichuan"' in page and 'data-testid="billing-row-shangcheng"' in page
    assert "¥597.00" in page  # 3 seats × ¥199 a month, and paid
    rows = {r["slug"]: r for r in client_for(operator).get("/api/v1/operator/billing/hubs").json()}
    assert rows["sichuan"]["mrr_fen"] == 59_700 and rows["sichuan"]["paid_total_fen"] == 59_700
    assert rows["sichuan"]["subscription_status"] == "active" and rows["sichuan"]["currency"] == "cny"
    assert rows["shangcheng"]["plan_source"] == "comp" and rows["shangcheng"]["mrr_fen"] == 0
    assert rows["shangcheng"]["comp_reason"] == "区级试点"
    detail = client_for(operator).get("/api/v1/operator/billing/hubs/sichuan").json()
    assert detail["summary"]["plan"]["code"] == "standard" and len(detail["invoices"]) == 1


def test_comp_needs_a_reason_and_is_audited(client_for, operator, hub_a):
    client = client_for(operator)
    missing = client.post(
        f"/console/billing/{hub_a.slug}/", {"action": "comp", "comp-plan": "standard", "comp-reason": ""}
    )
    assert missing.status_code == 200 and hub_entitlement(hub=hub_a).plan == "free"

    done = client.post(
        f"/console/billing/{hub_a.slug}/",
        {"action": "comp", "comp-plan": "standard", "comp-seats": "6", "comp-reason": "公益伙伴计划"},
    )

    assert done.status_code == 302
    assert (hub_entitlement(hub=hub_a).plan, hub_entitlement(hub=hub_a).source) == ("standard", "comp")
    event = AuditEvent.objects.get(object_id=str(hub_a.pk), object_type="tenants.hub", action="billing.comp_set")
    assert event.actor == operator and event.after["reason"] == "公益伙伴计划"
    page = client.get(f"/console/billing/{hub_a.slug}/").content.decode()
    assert "公益伙伴计划" in page and "billing.comp_set" in page

    cleared = client.delete(
        f"/api/v1/operator/billing/hubs/{hub_a.slug}/comp", {"reason": "计划结束"}, content_type="application/json"
    )
    assert cleared.status_code == 200 and hub_entitlement(hub=hub_a).plan == "free"
    assert AuditEvent.objects.filter(object_id=str(hub_a.pk), action="billing.comp_cleared").count() == 1


def test_a_credit_comes_off_the_next_invoice(stripe_on, client_for, operator, hub_a, cast_a):
    account = _subscribe(stripe_on, hub_a, cast_a.hub_admin, seats=2)

    response = client_for(operator).post(
        f"/api/v1/operator/billing/hubs/{hub_a.slug}/credits",
        {"amount_fen": 5_000, "reason": "服务中断补偿"},
        content_type="application/json",
    )

    assert response.status_code == 201
    assert response.json()["stripe_invoice_item_id"].startswith("ii_")
    next_invoice = stripe_on.client.v1.invoices.create(
        {"customer": account.stripe_customer_id, "subscription": account.subscription_id}
    ).to_dict()
    assert next_invoice["total"] == 2 * 19_900 - 5_000
    assert AuditEvent.objects.filter(object_id=str(hub_a.pk), action="billing.credit_granted").get().actor == operator


def test_billing_sync_prints_differences_and_fixes_them_with_apply(stripe_on, hub_a, cast_a):
    account = _subscribe(stripe_on, hub_a, cast_a.hub_admin, seats=2)
    # changed at Stripe behind our back (its dashboard), and no webhook got through
    stripe_on.client.v1.subscriptions.update(
        account.subscription_id,
        {"items": [{"id": account.subscription_item_id, "plan": "price_test_standard", "quantity": 4}]},
    )

    report = StringIO()
    call_command("billing_sync", stdout=report)

    assert "sichuan: seats: local 2, Stripe 4" in report.getvalue()
    assert BillingAccount.objects.get(pk=account.pk).seats == 2  # only printed

    fixed = StringIO()
    call_command("billing_sync", "--apply", stdout=fixed)
    assert BillingAccount.objects.get(pk=account.pk).seats == 4
    assert hub_limits(hub=hub_a).staff_seats == 4

    again = StringIO()
    call_command("billing_sync", stdout=again)
    assert "0 difference(s) found" in again.getvalue()


def test_billing_sync_creates_missing_prices(stripe_on, settings):
    settings.STRIPE_PRICE_IDS = {}
    report = StringIO()
    call_command("billing_sync", "--create-prices", "--apply", stdout=report)
    for code in ("standard", "provincial"):
        price_id = StripePrice.objects.get(plan=code).price_id
        assert price_id == f"huoban-{code}-cny-monthly"
        price = stripe_on.client.v1.plans.retrieve(price_id)
        assert price.currency == "cny" and price.interval == "month"
    assert stripe_on.client.v1.plans.retrieve("huoban-standard-cny-monthly").amount == 19_900


def test_billing_sync_with_billing_off_says_so(settings):
    settings.STRIPE_SECRET_KEY = ""
    out = StringIO()
    call_command("billing_sync", "--apply", stdout=out)
    assert "billing is off" in out.getvalue()
