"""Billing fixtures: localstripe over real HTTP, billing switched on against it, and Stripe-style webhooks.

``localstripe`` starts once per run as a subprocess on a free port (``tests/billing/localstripe_server.py``:
localstripe plus a Checkout Session stub) with two monthly per-seat prices. ``stripe_on`` points the settings
(and so the official SDK) at it. Events are delivered the way Stripe does: the JSON body signed with the webhook
secret (``t=…,v1=HMAC-SHA256``) and POSTed to the endpoint; ``deliver_localstripe_events`` sends the events
localstripe itself produced, ``signed_event`` builds one from real objects where localstripe produces none.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import stripe

REPO = Path(__file__).resolve().parents[2]
WEBHOOK_SECRET = "whsec_test_" + "huoban"
API_KEY = "sk_test_huoban"
PRICES = {"standard": "price_test_standard", "provincial": "price_test_provincial"}
WEBHOOK_PATH = "/billing/webhooks/stripe/"
GOOD_CARD = "4242424242424242"
DECLINING_CARD = "4000000000000341"  # attaches fine, every charge is declined


@dataclass
class LocalStripe:
    url: str
    client: stripe.StripeClient


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    port = _free_port()
    log = (tmp_path_factory.mktemp("localstripe") / "localstripe.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.billing.localstripe_server", "--port", str(port), "--from-scratch"],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"localstripe did not start (see {log.name})") from None
                time.sleep(0.1)
        client = stripe.StripeClient(API_KEY, base_addresses={"api": url}, max_network_retries=0)
        for code, price_id in PRICES.items():
            product = client.v1.products.create({"name": f"Huoban {code}"})
            client.v1.plans.create(
                {
                    "id": price_id,
                    "amount": {"standard": 19_900, "provincial": 29_900}[code],
                    "currency": "cny",
                    "interval": "month",
                    "product": product.id,
                }
            )
        yield LocalStripe(url=url, client=client)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def stripe_on(settings, localstripe: LocalStripe) -> LocalStripe:  # type: ignore[no-untyped-def]
    """Billing on, against localstripe; no trial unless a test asks for one; card only (localstripe's)."""
    settings.STRIPE_SECRET_KEY = API_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = localstripe.url
    settings.STRIPE_PRICE_IDS = dict(PRICES)
    settings.HUOBAN_BILLING_TRIAL_DAYS = 0
    settings.HUOBAN_BILLING_PAYMENT_METHOD_TYPES = []
    return localstripe


def sign(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header Stripe sends: ``t=<unix time>,v1=<HMAC-SHA256 of "t.payload">``."""
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)


def signed_event(event_type: str, obj: dict[str, Any], *, created: int | None = None) -> dict[str, Any]:
    """An event Stripe would send about ``obj`` (an object localstripe returned), for what localstripe does not
    emit itself (subscription updates, failed invoice payments, completed Checkout sessions)."""
    return {
        "id": "evt_test_" + secrets.token_hex(12),
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": created or int(time.time()),
        "livemode": False,
        "type": event_type,
        "data": {"object": obj},
    }


def post_event(client, event: dict[str, Any], *, secret: str = WEBHOOK_SECRET):  # type: ignore[no-untyped-def]
    payload = json.dumps(event, ensure_ascii=False)
    return client.post(
        WEBHOOK_PATH, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(payload, secret)
    )


def localstripe_events(local: LocalStripe, *, customer: str, types: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The events localstripe emitted about one customer, oldest first."""
    events = []
    for event in local.client.v1.events.list({"limit": 100}).auto_paging_iter():
        data = event.to_dict()
        obj = data["data"]["object"]
        owner = obj.get("customer") if obj.get("object") != "customer" else obj.get("id")
        if owner == customer and (not types or data["type"] in types):
            events.append(data)
    return sorted(events, key=lambda e: e["created"])


def deliver(client, events: list[dict[str, Any]], capture) -> list[int]:  # type: ignore[no-untyped-def]
    """POST each event signed, as Stripe's delivery would, and run what they enqueue."""
    statuses = []
    with capture(execute=True):
        for event in events:
            statuses.append(post_event(client, event).status_code)
    return statuses


def card_payment_method(local: LocalStripe, number: str = GOOD_CARD) -> str:
    """A card payment method, as Stripe.js would create it in the browser."""
    pm = local.client.v1.payment_methods.create(
        {"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}}
    )
    return str(pm.id)
