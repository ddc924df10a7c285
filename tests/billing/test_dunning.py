"""A failed payment: dunning emails to the hub admins, a grace period, read-only after it, active again on
payment — and only what billing did is undone by billing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from billing import services
from billing.models import BillingAccount
from billing.tasks import billing_dunning_check
from huoban.audit.models import AuditEvent
from tenants.models import Hub, HubStatus
from tenants.services import hub_status_set
from tests.billing.conftest import (
    DECLINING_CARD,
    card_payment_method,
    deliver,
    localstripe_events,
    signed_event,
)

pytestmark = pytest.mark.django_db


def _audit(hub, action: str):  # type: ignore[no-untyped-def]
    return AuditEvent.objects.filter(object_type="tenants.hub", object_id=str(hub.pk), action=action)


def _fail_next_payment(local, hub, admin, client, capture):  # type: ignore[no-untyped-def]
    """Subscribe with a good card, switch to one that is declined, and let the next invoice's payment fail.

    localstripe declines the charge but emits no event for it; Stripe would send invoice.payment_failed, built
    here from the invoice localstripe returned."""
    services.payment_method_set(hub=hub, payment_method_id=card_payment_method(local), actor=admin)
    services.billing_plan_change(hub=hub, plan_code="standard", seats=2, actor=admin)
    services.payment_method_set(hub=hub, payment_method_id=card_payment_method(local, DECLINING_CARD), actor=admin)
    account = BillingAccount.objects.get(hub=hub)
    renewal = local.client.v1.invoices.create(
        {"customer": account.stripe_customer_id, "subscription": account.subscription_id}
    )
    attempted = local.client.v1.invoices.pay(renewal.id).to_dict()
    assert attempted["status"] == "open"  # declined
    failed = signed_event("invoice.payment_failed", {**attempted, "attempt_count": 1})
    assert deliver(client, [failed], capture) == [200]
    return account, attempted, failed


def test_failed_payment_dunning_grace_read_only_then_paid_and_active_again(
    stripe_on, client_for, hub_a, cast_a, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    webhook = client_for(None)
    account, invoice, _failed = _fail_next_payment(
        stripe_on, hub_a, cast_a.hub_admin, webhook, django_capture_on_commit_callbacks
    )

    # 1. the hub admins hear about it; the hub keeps working during the grace period
    account.refresh_from_db()
    assert account.payment_failed_at is not None
    dunning = [m for m in mail.outbox if cast_a.hub_admin.email in m.to]
    assert len(dunning) == 1
    assert "付款未成功" in dunning[0].subject
    assert f"{hub_a.url}/billing/" in dunning[0].body
    assert cast_a.staff.email not in {a for m in mail.outbox for a in m.to}  # admins only
    assert Hub.objects.get(pk=hub_a.pk).status == HubStatus.ACTIVE
    assert _audit(hub_a, "billing.payment_failed").count() == 1
    page = client_for(cast_a.hub_admin, hub_a).get("/billing/").content.decode()
    assert 'data-testid="billing-dunning"' in page and 'data-testid="invoice-pay"' in page

    # Stripe retries and fails again: no second "failed" email, the grace period still runs from the first
    deliver(
        webhook,
        [signed_event("invoice.payment_failed", {**invoice, "attempt_count": 2})],
        django_capture_on_commit_callbacks,
    )
    assert len([m for m in mail.outbox if cast_a.hub_admin.email in m.to]) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert billing_dunning_check.delay().get() == {"reminded": 0, "read_only": 0}

    # 2. a few days on: a reminder
    BillingAccount.objects.filter(pk=account.pk).update(
        payment_failed_at=timezone.now() - timedelta(days=4), last_dunning_email_at=timezone.now() - timedelta(days=4)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert billing_dunning_check.delay().get() == {"reminded": 1, "read_only": 0}
    assert "仍未付清" in mail.outbox[-1].subject

    # 3. the grace period passes unpaid: read-only, never deleted, with the reason shown
    BillingAccount.objects.filter(pk=account.pk).update(payment_failed_at=timezone.now() - timedelta(days=15))
    with django_capture_on_commit_callbacks(execute=True):
        assert billing_dunning_check.delay().get() == {"reminded": 0, "read_only": 1}
    hub = Hub.objects.get(pk=hub_a.pk)
    assert hub.status == HubStatus.READ_ONLY
    assert "账单逾期" in hub.status_reason
    account.refresh_from_db()
    assert account.read_only_by_billing is True
    assert "只读" in mail.outbox[-1].subject
    assert _audit(hub_a, "billing.hub_read_only").count() == 1
    admin = client_for(cast_a.hub_admin, hub_a)
    page = admin.get("/billing/")
    assert page.status_code == 200  # reading (and paying) still works
    assert 'data-testid="billing-read-only"' in page.content.decode()
    assert 'data-testid="invoice-pay"' in page.content.decode()
    assert 'data-testid="plan-form"' not in page.content.decode()  # form posts are refused while read-only
    assert (
        admin.post(
            "/api/v1/hub/members", {"email": "x@y.test", "roles": ["staff"]}, content_type="application/json"
        ).status_code
        == 423
    )
    with django_capture_on_commit_callbacks(execute=True):  # running the check again changes nothing
        assert billing_dunning_check.delay().get() == {"reminded": 0, "read_only": 0}

    # 4. the hub pays (a working card, then Stripe charges the open invoice) and Stripe says so
    services.payment_method_set(hub=hub_a, payment_method_id=card_payment_method(stripe_on), actor=cast_a.hub_admin)
    paid = stripe_on.client.v1.invoices.pay(invoice["id"]).to_dict()
    assert paid["status"] == "paid"
    succeeded = [
        e
        for e in localstripe_events(
            stripe_on, customer=account.stripe_customer_id, types=("invoice.payment_succeeded",)
        )
        if e["data"]["object"]["id"] == invoice["id"]
    ]
    assert deliver(webhook, succeeded, django_capture_on_commit_callbacks) == [200]

    hub.refresh_from_db()
    assert hub.status == HubStatus.ACTIVE and hub.status_reason == ""
    account.refresh_from_db()
    assert (account.payment_failed_at, account.read_only_by_billing) == (None, False)
    reactivated = _audit(hub_a, "billing.hub_reactivated").get()
    assert reactivated.after["why"] == "invoice paid" and reactivated.after["invoice"] == invoice["id"]
    assert "恢复正常" in mail.outbox[-1].subject
    # the same news again changes nothing
    deliver(webhook, succeeded, django_capture_on_commit_callbacks)
    assert _audit(hub_a, "billing.hub_reactivated").count() == 1


def test_a_status_an_operator_set_is_never_taken_over_or_undone_by_billing(
    stripe_on, client_for, hub_a, cast_a, operator, django_capture_on_commit_callbacks
):
    account, invoice, _failed = _fail_next_payment(
        stripe_on, hub_a, cast_a.hub_admin, client_for(None), django_capture_on_commit_callbacks
    )
    hub_status_set(hub=hub_a, status=HubStatus.READ_ONLY, reason="数据迁移中", actor=operator)
    BillingAccount.objects.filter(pk=account.pk).update(payment_failed_at=timezone.now() - timedelta(days=30))

    with django_capture_on_commit_callbacks(execute=True):
        assert billing_dunning_check.delay().get()["read_only"] == 0
    account.refresh_from_db()
    assert account.read_only_by_billing is False

    services.payment_method_set(hub=hub_a, payment_method_id=card_payment_method(stripe_on), actor=cast_a.hub_admin)
    stripe_on.client.v1.invoices.pay(invoice["id"])
    deliver(
        client_for(None),
        [signed_event("invoice.paid", stripe_on.client.v1.invoices.retrieve(invoice["id"]).to_dict())],
        django_capture_on_commit_callbacks,
    )

    hub = Hub.objects.get(pk=hub_a.pk)
    assert (hub.status, hub.status_reason) == (HubStatus.READ_ONLY, "数据迁移中")
    account.refresh_from_db()
    assert account.payment_failed_at is None


def test_a_read_only_hub_saves_a_new_card_through_checkout_and_is_charged_again(
    stripe_on, client_for, hub_a, cast_a, django_capture_on_commit_callbacks
):
    webhook = client_for(None)
    account, invoice, _failed = _fail_next_payment(
        stripe_on, hub_a, cast_a.hub_admin, webhook, django_capture_on_commit_callbacks
    )
    BillingAccount.objects.filter(pk=account.pk).update(payment_failed_at=timezone.now() - timedelta(days=15))
    with django_capture_on_commit_callbacks(execute=True):
        billing_dunning_check.delay()
    assert Hub.objects.get(pk=hub_a.pk).status == HubStatus.READ_ONLY

    # a link, so it works on a read-only hub: off to Stripe Checkout in setup mode
    go = client_for(cast_a.hub_admin, hub_a).get("/billing/payment-method/")
    assert go.status_code == 302 and go["Location"].startswith("https://checkout.stripe.test/")
    session = stripe_on.client.raw_request("get", f"/v1/checkout/sessions/{go['Location'].rsplit('/', 1)[1]}").data
    assert session["mode"] == "setup"
    # the person enters a working card on Stripe's page
    intent = stripe_on.client.v1.setup_intents.create({"customer": session["customer"]})
    intent = stripe_on.client.v1.setup_intents.confirm(
        intent.id,
        {
            "payment_method_data": {
                "type": "card",
                "card": {"number": "4242424242424242", "exp_month": 1, "exp_year": 2035, "cvc": "321"},
            }
        },
    )
    completed = signed_event("checkout.session.completed", {**session, "status": "complete", "setup_intent": intent.id})
    deliver(webhook, [completed], django_capture_on_commit_callbacks)

    account.refresh_from_db()
    assert account.default_payment_method == intent.payment_method
    assert stripe_on.client.v1.invoices.retrieve(invoice["id"]).status == "paid"  # tried again at once
    assert Hub.objects.get(pk=hub_a.pk).status == HubStatus.ACTIVE
    assert account.read_only_by_billing is False
