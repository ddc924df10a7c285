"""localstripe signs and delivers its own events (its own HMAC code, not the SDK's helper) to a running site;
they are verified, stored and processed like Stripe's."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import requests

from tests.billing.conftest import WEBHOOK_PATH, WEBHOOK_SECRET, LocalStripe, card_payment_method, localstripe_events

pytestmark = [pytest.mark.slow]


@pytest.fixture
def public_site(committed_db, settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The site in a thread, reached on 127.0.0.1 behind a proxy that names the base domain (localstripe cannot
    resolve *.localhost)."""
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    app = get_wsgi_application()

    def proxy(environ, start_response):  # type: ignore[no-untyped-def]
        return app({**environ, "HTTP_HOST": settings.HUOBAN_BASE_DOMAIN}, start_response)

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=True)
    server.set_app(proxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        # idle connections of the server's threads are ended when the session drops the test database


def test_localstripe_delivers_signed_events_that_are_stored_and_processed(public_site, stripe_on: LocalStripe):
    from billing import services
    from billing.models import BillingAccount, BillingInvoice, StripeEvent
    from huoban.audit.models import AuditEvent
    from huoban.identity.models import User
    from tenants.models import Hub, HubPlanLimits

    hub = Hub.objects.get(slug="shangcheng")
    admin = User.objects.get(email="admin@b.test")
    # localstripe sends each event a second after making it, to the hooks registered then: let earlier tests'
    # events go out to nobody before this hook exists.
    time.sleep(1.5)
    hook = requests.post(
        f"{stripe_on.url}/_config/webhooks/huoban-test",
        data={"url": public_site + WEBHOOK_PATH, "secret": WEBHOOK_SECRET},
        timeout=10,
    )
    assert hook.status_code == 200
    try:
        services.payment_method_set(hub=hub, payment_method_id=card_payment_method(stripe_on), actor=admin)
        services.billing_plan_change(hub=hub, plan_code="standard", seats=2, actor=admin)
        customer = BillingAccount.objects.get(hub=hub).stripe_customer_id or ""
        sent = {e["id"]: e["type"] for e in localstripe_events(stripe_on, customer=customer)}
        assert {"customer.subscription.created", "invoice.payment_succeeded"} <= set(sent.values())

        deadline = time.monotonic() + 20
        while StripeEvent.objects.filter(event_id__in=sent, processed_at__isnull=False).count() < len(sent):
            assert time.monotonic() < deadline, "localstripe's deliveries did not all arrive"
            time.sleep(0.2)

        stored = StripeEvent.objects.filter(event_id__in=sent)
        assert {e.event_id: e.type for e in stored} == sent
        assert not [e.error for e in stored if e.error]
        assert stored.get(type="customer.subscription.created").hub == hub
        assert BillingAccount.objects.get(hub=hub).subscription_status == "active"
    finally:
        requests.post(  # point the hook at nothing for the rest of the run
            f"{stripe_on.url}/_config/webhooks/huoban-test",
            data={"url": "http://127.0.0.1:9/", "secret": WEBHOOK_SECRET},
            timeout=10,
        )
        time.sleep(1.5)  # deliveries already on their way land before the clean-up
        # Everything billing committed in this run came through this test's site: remove all of it.
        StripeEvent.objects.all().delete()
        BillingInvoice.objects.all().delete()
        BillingAccount.objects.all().delete()
        HubPlanLimits.objects.all().delete()
        Hub.objects.update(plan="free")
        AuditEvent.objects.filter(object_type="tenants.hub", action__startswith="billing.").delete()
