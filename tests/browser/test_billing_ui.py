"""Headless Chromium: a hub admin opens "plan and billing" on the hub's host and sees the plan, usage against
the limits and the invoices with their receipts, on a desktop and on a phone. Billing runs against localstripe."""

from __future__ import annotations

import re

import pytest
from django.apps import apps

from tests.billing.conftest import card_payment_method, localstripe, stripe_on  # noqa: F401 (fixtures)
from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not apps.is_installed("billing"), reason="billing is not in INSTALLED_APPS"),
]


def _cleanup(hub) -> None:  # type: ignore[no-untyped-def]
    from billing.models import BillingAccount, BillingInvoice, StripeEvent
    from huoban.audit.models import AuditEvent
    from huoban.db import connection
    from tenants.models import Hub, HubPlanLimits

    connection.set_schema_to_public()
    BillingInvoice.objects.filter(hub=hub).delete()
    StripeEvent.objects.filter(hub=hub).delete()
    BillingAccount.objects.filter(hub=hub).delete()
    HubPlanLimits.objects.filter(hub=hub).delete()
    Hub.objects.filter(pk=hub.pk).update(plan="free")
    # audit events are append-only for the product; a test that committed its own cleans them up
    AuditEvent.objects.filter(object_type="tenants.hub", object_id=str(hub.pk), action__startswith="billing.").delete()


def test_hub_admin_sees_plan_usage_and_invoices(live_site, browser, stripe_on):  # noqa: F811
    from billing import services
    from huoban.identity.models import User
    from tenants.models import Hub

    hub = Hub.objects.get(slug="sichuan")
    admin = User.objects.get(email="admin@a.test")
    try:
        services.payment_method_set(hub=hub, payment_method_id=card_payment_method(stripe_on), actor=admin)
        services.billing_plan_change(hub=hub, plan_code="standard", seats=4, actor=admin)
        hub_url = f"http://{hub.host}:{live_site.rsplit(':', 1)[1]}"

        desktop = browser.new_context(viewport={"width": 1200, "height": 900})
        page = desktop.new_page()
        page.goto(f"{live_site}/accounts/login/?next=/")
        page.fill("input[name=login]", admin.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("[data-testid=login-submit]")
        page.wait_for_url(re.compile(r"/$"))
        page.goto(f"{hub_url}/billing/")

        assert page.inner_text("[data-testid=plan-name]") == "标准版"
        assert page.inner_text("[data-testid=plan-seats]") == "4"
        assert page.inner_text("[data-testid=plan-monthly]") == "¥796.00"
        assert page.inner_text("[data-testid=usage-staff_seats-figures]") == "2 / 4"
        assert page.inner_text("[data-testid=usage-open_calls-figures]") == "— / 20"
        bar = page.locator("[data-testid=usage-staff_seats] [role=progressbar]")
        assert bar.get_attribute("aria-valuenow") == "50"
        rows = page.locator("[data-testid=invoice-row]")
        assert rows.count() == 1
        assert "¥796.00" in rows.first.inner_text() and "已付款" in rows.first.inner_text()
        screenshot(page, "billing-hub-admin")

        page.click("[data-testid=invoice-receipt]")
        page.wait_for_selector("[data-testid=receipt]")
        assert page.inner_text("[data-testid=receipt-total]") == "¥796.00"
        assert "收据" in page.inner_text("h1")

        phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        phone.add_cookies(desktop.cookies())
        small = phone.new_page()
        small.goto(f"{hub_url}/billing/")
        assert small.inner_text("[data-testid=plan-name]") == "标准版"
        assert small.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        screenshot(small, "billing-hub-admin-phone")
    finally:
        _cleanup(hub)
