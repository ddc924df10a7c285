"""localstripe, plus the one Stripe endpoint billing uses that it lacks: Checkout Sessions.

Run as ``python -m tests.billing.localstripe_server --port N``. Everything else (customers, payment methods,
SetupIntents, plans, subscriptions, invoices, invoice items, events) is localstripe's own. A session is only
recorded and returned with a ``url``; the test plays the customer who completes it (by creating what Stripe
would create in localstripe) and delivers the signed ``checkout.session.completed`` event itself.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from aiohttp import web
from localstripe import server

SESSIONS: dict[str, dict[str, Any]] = {}


async def checkout_session_create(request: web.Request) -> web.Response:
    data = await server.get_post_data(request) or {}
    session_id = "cs_test_" + secrets.token_hex(12)
    session = {
        "id": session_id,
        "object": "checkout.session",
        "created": int(time.time()),
        "livemode": False,
        "status": "open",
        "url": f"https://checkout.stripe.test/c/pay/{session_id}",
        "mode": data.get("mode"),
        "customer": data.get("customer"),
        "client_reference_id": data.get("client_reference_id"),
        "metadata": data.get("metadata") or {},
        "success_url": data.get("success_url"),
        "cancel_url": data.get("cancel_url"),
        "payment_method_types": data.get("payment_method_types") or ["card"],
        "currency": data.get("currency"),
        "subscription": None,
        "setup_intent": None,
        # what was asked for, so a test can check it
        "requested": {k: v for k, v in data.items() if k in ("line_items", "subscription_data", "setup_intent_data")},
    }
    SESSIONS[session_id] = session
    return server.json_response(session)


async def checkout_session_retrieve(request: web.Request) -> web.Response:
    session = SESSIONS.get(request.match_info["id"])
    if session is None:
        return server.json_response(
            {"error": {"message": "No such checkout session", "type": "invalid_request_error"}}, status=404
        )
    return server.json_response(session)


server.app.router.add_post("/v1/checkout/sessions", checkout_session_create)
server.app.router.add_get("/v1/checkout/sessions/{id}", checkout_session_retrieve)

if __name__ == "__main__":
    server.start()
