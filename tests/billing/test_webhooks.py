"""Stripe's webhook: signatures checked, every event stored once, processing idempotent and order-proof."""

from __future__ import annotations

import json

import pytest

from billing import services
from billing.models import BillingAccount, StripeEvent
from huoban.audit.models import AuditEvent
from tenants.entitlements import hub_entitlement, hub_limits
from tests.billing.conftest import (
    WEBHOOK_PATH,
    card_payment_method,
    deliver,
    localstripe_events,
    post_event,
    sign,
    signed_event,
)

pytestmark = pytest.mark.django_db


def _subscribe(local, hub, admin, seats=2):  # type: ignore[no-untyped-def]
    services.payment_method_set(hub=hub, payment_method_id=card_payment_method(local), actor=admin)
    services.billing_plan_change(hub=hub, plan_code="standard", seats=seats, actor=admin)
    return BillingAccount.objects.get(hub=hub)


def _plan_changes(hub) -> int:  # type: ignore[no-untyped-def]
    return AuditEvent.objects.filter(
        object_type="tenants.hub", object_id=str(hub.pk), action="billing.plan_changed"
    ).count()


def test_events_localstripe_sent_are_accepted_stored_once_and_replays_change_nothing(
    stripe_on, client_for, hub_a, cast_a, django_capture_on_commit_callbacks
):
    account = _subscribe(stripe_on, hub_a, cast_a.hub_admin)
    events = localstripe_events(stripe_on, customer=account.stripe_customer_id)
    types = {e["type"] for e in events}
    assert {"customer.created", "customer.subscription.created", "invoice.payment_succeeded"} <= types
    client = client_for(None)

    assert set(deliver(client, events, django_capture_on_commit_callbacks)) == {200}

    stored = StripeEvent.objects.filter(event_id__in=[e["id"] for e in events])
    assert stored.count() == len(events)
    assert all(e.processed_at is not None for e in stored)
    assert stored.get(type="customer.subscription.created").hub == hub_a
    audit_before = AuditEvent.objects.count()
    state_before = BillingAccount.objects.filter(pk=account.pk).values().get()

    replay = post_event(client, events[0])
    assert replay.status_code == 200 and replay.json()["duplicate"] is True
    deliver(client, events, django_capture_on_commit_callbacks)

    assert StripeEvent.objects.filter(event_id__in=[e["id"] for e in events]).count() == len(events)
    assert AuditEvent.objects.count() == audit_before
    assert BillingAccount.objects.filter(pk=account.pk).values().get() == state_before


def test_a_bad_signature_is_refused_and_nothing_is_stored(stripe_on, client_for, hub_a):
    client = client_for(None)
    event = signed_event("customer.subscription.updated", {"id": "sub_x", "object": "subscription"})
    payload = json.dumps(event)

    wrong_secret = client.post(
        WEBHOOK_PATH, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(payload, "whsec_wrong")
    )
    tampered = client.post(
        WEBHOOK_PATH,
        data=payload.replace("sub_x", "sub_y"),
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload),
    )
    unsigned = client.post(WEBHOOK_PATH, data=payload, content_type="application/json")
    stale = client.post(
        WEBHOOK_PATH,
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload, timestamp=event["created"] - 3600),
    )

    for response in (wrong_secret, tampered, unsigned, stale):
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_signature"
    assert not StripeEvent.objects.filter(event_id=event["id"]).exists()
    assert client.get(WEBHOOK_PATH).status_code == 405


def test_webhook_without_a_configured_secret_answers_503_so_stripe_retries(stripe_on, settings, client_for):
    settings.STRIPE_WEBHOOK_SECRET = ""
    event = signed_event("invoice.paid", {"id": "in_x", "object": "invoice"})
    response = post_event(client_for(None), event)
    assert response.status_code == 503
    assert not StripeEvent.objects.exists()


def test_the_same_events_twice_and_out_of_order_change_the_state_once(
    stripe_on, client_for, hub_a, cast_a, django_capture_on_commit_callbacks
):
    account = _subscribe(stripe_on, hub_a, cast_a.hub_admin, seats=2)
    # Two changes made at Stripe (say, in its dashboard): first 3 seats, then the provincial plan with 6.
    item = account.subscription_item_id
    first = stripe_on.client.v1.subscriptions.update(
        account.subscription_id, {"items": [{"id": item, "plan": "price_test_standard", "quantity": 3}]}
    ).to_dict()
    second = stripe_on.client.v1.subscriptions.update(
        account.subscription_id,
        {"items": [{"id": first["items"]["data"][0]["id"], "plan": "price_test_provincial", "quantity": 6}]},
    ).to_dict()
    base = int(account.subscription_state_at.timestamp()) + 10
    older = signed_event("customer.subscription.updated", first, created=base)
    newer = signed_event("customer.subscription.updated", second, created=base + 5)
    changes_before = _plan_changes(hub_a)

    # the newer one arrives first, then the older one, then the newer one again
    statuses = deliver(client_for(None), [newer, older, newer], django_capture_on_commit_callbacks)

    assert statuses == [200, 200, 200]
    account.refresh_from_db()
    assert (account.subscribed_plan, account.seats) == ("provincial", 6)
    assert hub_entitlement(hub=hub_a).plan == "provincial"
    assert hub_limits(hub=hub_a).staff_seats == 6
    assert _plan_changes(hub_a) == changes_before + 1
    assert StripeEvent.objects.filter(event_id__in=[older["id"], newer["id"]]).count() == 2
    assert StripeEvent.objects.get(event_id=older["id"]).result == "stale"


def test_a_cancelled_subscription_is_never_revived_by_a_late_event(
    stripe_on, client_for, hub_a, cast_a, django_capture_on_commit_callbacks
):
    account = _subscribe(stripe_on, hub_a, cast_a.hub_admin)
    active = stripe_on.client.v1.subscriptions.retrieve(account.subscription_id).to_dict()
    ended = stripe_on.client.v1.subscriptions.cancel(account.subscription_id).to_dict()
    t = int(account.subscription_state_at.timestamp()) + 10
    deliver(
        client_for(None),
        [
            signed_event("customer.subscription.deleted", ended, created=t),
            signed_event("customer.subscription.updated", active, created=t + 30),
        ],
        django_capture_on_commit_callbacks,
    )
    account.refresh_from_db()
    assert account.subscription_status == "canceled"
    assert hub_entitlement(hub=hub_a).plan == "free"


def test_a_late_payment_failure_does_not_undo_a_later_payment(
    stripe_on, client_for, hub_a, cast_a, django_capture_on_commit_callbacks
):
    account = _subscribe(stripe_on, hub_a, cast_a.hub_admin)
    invoice = stripe_on.client.v1.invoices.list({"customer": account.stripe_customer_id}).data[0].to_dict()
    assert invoice["status"] == "paid"
    t = int(account.subscription_state_at.timestamp()) + 10
    failed_earlier = signed_event("invoice.payment_failed", {**invoice, "status": "open", "amount_paid": 0}, created=t)
    paid_later = signed_event("invoice.paid", invoice, created=t + 60)

    deliver(client_for(None), [paid_later, failed_earlier], django_capture_on_commit_callbacks)

    account.refresh_from_db()
    assert account.payment_failed_at is None
    assert hub_a.billing_invoices.get(stripe_invoice_id=invoice["id"]).status == "paid"


def test_events_about_unknown_customers_are_kept_and_ignored(stripe_on, client_for, django_capture_on_commit_callbacks):
    event = signed_event(
        "invoice.paid", {"id": "in_other", "object": "invoice", "customer": "cus_not_ours", "status": "paid"}
    )
    assert deliver(client_for(None), [event], django_capture_on_commit_callbacks) == [200]
    stored = StripeEvent.objects.get(event_id=event["id"])
    assert stored.processed_at is not None and stored.result == "ignored: unknown customer" and stored.hub is None


def test_the_end_of_a_subscription_counts_even_when_stamped_before_the_state_held(
    stripe_on, client_for, hub_a, cast_a, django_capture_on_commit_callbacks
):
    account = _subscribe(stripe_on, hub_a, cast_a.hub_admin)
    ended = stripe_on.client.v1.subscriptions.cancel(account.subscription_id).to_dict()
    earlier = int(account.subscription_state_at.timestamp()) - 30  # Stripe's clock a little behind ours

    deliver(
        client_for(None),
        [signed_event("customer.subscription.deleted", ended, created=earlier)],
        django_capture_on_commit_callbacks,
    )

    account.refresh_from_db()
    assert account.subscription_status == "canceled"
    assert hub_entitlement(hub=hub_a).plan == "free"
