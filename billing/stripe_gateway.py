"""The one module that talks to Stripe (the official SDK's ``StripeClient``). Everything else gets plain dicts.

Billing is on when ``STRIPE_SECRET_KEY`` is set; ``STRIPE_API_BASE`` points the client elsewhere (localstripe in
tests). Without a key nothing here may be called: ``stripe_client`` refuses, so billing-off makes no Stripe calls.

Calls stay within what both Stripe and localstripe understand: subscription items name their price with the
``plan`` parameter (Stripe accepts a price id there), prorations are Stripe's default on item changes and are
invoiced with an explicit invoice, and parameters localstripe does not know are sent only when configured.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

import stripe
from django.conf import settings
from django.utils.translation import gettext as _

from huoban.errors import ApplicationError

logger = logging.getLogger(__name__)

# Payment methods Stripe can keep on file for later charges; WeChat Pay pays one invoice at a time.
REUSABLE_METHODS = frozenset({"card", "alipay", "sepa_debit", "link"})


def billing_enabled() -> bool:
    return bool(getattr(settings, "STRIPE_SECRET_KEY", ""))


def payment_method_types(*, reusable: bool) -> list[str]:
    """The configured list (``HUOBAN_BILLING_PAYMENT_METHOD_TYPES``); empty means Stripe's own choice."""
    methods = [m for m in getattr(settings, "HUOBAN_BILLING_PAYMENT_METHOD_TYPES", None) or [] if m]
    return [m for m in methods if m in REUSABLE_METHODS] if reusable else methods


@lru_cache(maxsize=4)
def _client(api_key: str, api_base: str) -> stripe.StripeClient:
    base_addresses: Any = {"api": api_base} if api_base else None
    return stripe.StripeClient(api_key, base_addresses=base_addresses, max_network_retries=2)


def stripe_client() -> stripe.StripeClient:
    if not billing_enabled():
        raise ApplicationError(_("在线付费尚未开通，请联系平台运营方调整套餐。"), code="billing_disabled", status=409)
    return _client(getattr(settings, "STRIPE_SECRET_KEY", ""), getattr(settings, "STRIPE_API_BASE", "") or "")


def _plain(obj: Any) -> dict[str, Any]:
    result: dict[str, Any] = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
    return result


def _call(label: str, fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Run one SDK call; Stripe's errors become ApplicationError with a message people can act on."""
    try:
        return _plain(fn(*args, **kwargs))
    except stripe.CardError as exc:
        raise ApplicationError(
            _("付款未成功：%(reason)s 请更换付款方式后重试。") % {"reason": exc.user_message or ""},
            code="card_declined",
            status=402,
        ) from exc
    except stripe.StripeError as exc:
        logger.warning("stripe %s failed: %s", label, exc)
        raise ApplicationError(
            _("支付服务暂时不可用，请稍后再试。"), code="stripe_error", status=502, extra={"operation": label}
        ) from exc


def _options(idempotency_key: str | None) -> Any:
    return {"idempotency_key": idempotency_key} if idempotency_key else {}


# --- customers and payment methods ------------------------------------------------------------------------


def customer_create(*, name: str, email: str, metadata: dict[str, str], idempotency_key: str) -> dict[str, Any]:
    params: Any = {"name": name, "metadata": metadata, "preferred_locales": ["zh-CN", "en"]}
    if email:
        params["email"] = email
    return _call("customer_create", stripe_client().v1.customers.create, params, _options(idempotency_key))


def customer_retrieve(customer_id: str) -> dict[str, Any]:
    return _call("customer_retrieve", stripe_client().v1.customers.retrieve, customer_id)


def customer_default_payment_method_set(*, customer_id: str, payment_method_id: str) -> dict[str, Any]:
    params: Any = {"invoice_settings": {"default_payment_method": payment_method_id}}
    return _call("customer_update", stripe_client().v1.customers.update, customer_id, params)


def payment_method_retrieve(payment_method_id: str) -> dict[str, Any]:
    return _call("payment_method_retrieve", stripe_client().v1.payment_methods.retrieve, payment_method_id)


def payment_method_attach(*, payment_method_id: str, customer_id: str) -> dict[str, Any]:
    params: Any = {"customer": customer_id}
    return _call("payment_method_attach", stripe_client().v1.payment_methods.attach, payment_method_id, params)


def setup_intent_create(*, customer_id: str, metadata: dict[str, str]) -> dict[str, Any]:
    params: Any = {"customer": customer_id, "usage": "off_session", "metadata": metadata}
    methods = payment_method_types(reusable=True)
    if methods:
        params["payment_method_types"] = methods
    return _call("setup_intent_create", stripe_client().v1.setup_intents.create, params)


def setup_intent_retrieve(setup_intent_id: str) -> dict[str, Any]:
    return _call("setup_intent_retrieve", stripe_client().v1.setup_intents.retrieve, setup_intent_id)


# --- subscriptions ----------------------------------------------------------------------------------------


def subscription_create(
    *,
    customer_id: str,
    price_id: str,
    quantity: int,
    trial_days: int,
    metadata: dict[str, str],
    idempotency_key: str,
) -> dict[str, Any]:
    params: Any = {
        "customer": customer_id,
        "items": [{"plan": price_id, "quantity": quantity}],
        "metadata": metadata,
        "expand": ["latest_invoice"],
    }
    if trial_days > 0:
        params["trial_period_days"] = trial_days
    methods = payment_method_types(reusable=False)
    if methods:
        params["payment_settings"] = {"payment_method_types": methods}
    return _call("subscription_create", stripe_client().v1.subscriptions.create, params, _options(idempotency_key))


def subscription_retrieve(subscription_id: str) -> dict[str, Any]:
    return _call("subscription_retrieve", stripe_client().v1.subscriptions.retrieve, subscription_id)


def subscriptions_of_customer(customer_id: str) -> list[dict[str, Any]]:
    params: Any = {"customer": customer_id, "status": "all", "limit": 100}
    page = _call("subscription_list", stripe_client().v1.subscriptions.list, params)
    return list(page.get("data") or [])


def subscription_item_change(*, subscription_id: str, item_id: str, price_id: str, quantity: int) -> dict[str, Any]:
    """Change the plan and/or seats; Stripe prorates (its default for item changes)."""
    params: Any = {"items": [{"id": item_id, "plan": price_id, "quantity": quantity}]}
    return _call("subscription_update", stripe_client().v1.subscriptions.update, subscription_id, params)


def subscription_cancel_at_period_end(*, subscription_id: str, cancel: bool) -> dict[str, Any]:
    params: Any = {"cancel_at_period_end": cancel}
    return _call("subscription_update", stripe_client().v1.subscriptions.update, subscription_id, params)


# --- invoices ---------------------------------------------------------------------------------------------


def invoice_create_for_pending(*, customer_id: str, subscription_id: str) -> dict[str, Any]:
    """An invoice now for the subscription's pending items (the prorations of an upgrade)."""
    params: Any = {
        "customer": customer_id,
        "subscription": subscription_id,
        "pending_invoice_items_behavior": "include",
    }
    return _call("invoice_create", stripe_client().v1.invoices.create, params)


def invoice_pay(invoice_id: str) -> dict[str, Any]:
    return _call("invoice_pay", stripe_client().v1.invoices.pay, invoice_id)


def invoice_retrieve(invoice_id: str) -> dict[str, Any]:
    return _call("invoice_retrieve", stripe_client().v1.invoices.retrieve, invoice_id)


def invoices_of_customer(customer_id: str, *, limit: int = 100) -> list[dict[str, Any]]:
    params: Any = {"customer": customer_id, "limit": limit}
    page = _call("invoice_list", stripe_client().v1.invoices.list, params)
    return list(page.get("data") or [])


def invoice_item_credit(
    *, customer_id: str, amount: int, currency: str, description: str, idempotency_key: str
) -> dict[str, Any]:
    """A negative pending invoice item: Stripe takes it off the customer's next invoice."""
    params: Any = {"customer": customer_id, "amount": -abs(amount), "currency": currency, "description": description}
    return _call("invoice_item_create", stripe_client().v1.invoice_items.create, params, _options(idempotency_key))


# --- Checkout ---------------------------------------------------------------------------------------------


def checkout_session_create(
    *,
    mode: str,
    customer_id: str,
    success_url: str,
    cancel_url: str,
    metadata: dict[str, str],
    client_reference_id: str,
    price_id: str = "",
    quantity: int = 1,
    trial_days: int = 0,
) -> dict[str, Any]:
    """A Stripe-hosted page: ``mode="subscription"`` to subscribe, ``"setup"`` to save a payment method."""
    params: Any = {
        "mode": mode,
        "customer": customer_id,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "client_reference_id": client_reference_id,
        "metadata": metadata,
        "locale": "auto",
    }
    if mode == "subscription":
        params["line_items"] = [{"price": price_id, "quantity": quantity}]
        params["subscription_data"] = {"metadata": metadata}
        if trial_days > 0:
            params["subscription_data"]["trial_period_days"] = trial_days
    else:
        params["currency"] = "cny"
        params["setup_intent_data"] = {"metadata": metadata}
    methods = payment_method_types(reusable=True)
    if methods:
        params["payment_method_types"] = methods
    return _call("checkout_session_create", stripe_client().v1.checkout.sessions.create, params)


# --- catalogue --------------------------------------------------------------------------------------------


def price_find(price_id: str) -> dict[str, Any] | None:
    """A recurring price (created through the plans API, so localstripe knows it too), or None."""
    try:
        return _plain(stripe_client().v1.plans.retrieve(price_id))
    except stripe.InvalidRequestError:
        return None
    except stripe.StripeError as exc:  # localstripe answers an unknown id with a bare 404
        if getattr(exc, "http_status", None) == 404:
            return None
        raise


def price_create(*, price_id: str, plan_code: str, name: str, unit_amount: int, currency: str) -> dict[str, Any]:
    """A monthly per-seat price with our own id, and its product."""
    client = stripe_client()
    product = _call("product_create", client.v1.products.create, {"name": name, "metadata": {"huoban_plan": plan_code}})
    params: Any = {
        "id": price_id,
        "amount": unit_amount,
        "currency": currency,
        "interval": "month",
        "product": product["id"],
        "nickname": name,
        "metadata": {"huoban_plan": plan_code},
    }
    return _call("price_create", client.v1.plans.create, params)
