"""Reading Stripe objects (plain dicts) whatever API version shaped them.

Webhook payloads follow the API version of the endpoint, API responses the SDK's: fields moved over the years
(a subscription's period is on its items now; an invoice names its subscription under ``parent``), so each reader
looks in both places.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def ts(value: Any) -> datetime | None:
    """A Stripe timestamp (seconds) as an aware datetime."""
    if value in (None, "", 0):
        return None
    return datetime.fromtimestamp(int(value), tz=UTC)


def obj_id(value: Any) -> str:
    """An id whether the field holds the id or the expanded object."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


def subscription_item(sub: dict[str, Any]) -> dict[str, Any]:
    items = (sub.get("items") or {}).get("data") or []
    return items[0] if items else {}


def item_price(item: dict[str, Any]) -> dict[str, Any]:
    price = item.get("price") or item.get("plan") or {}
    return price if isinstance(price, dict) else {"id": price}


def subscription_period_end(sub: dict[str, Any]) -> datetime | None:
    return ts(sub.get("current_period_end") or subscription_item(sub).get("current_period_end"))


def subscription_quantity(sub: dict[str, Any]) -> int:
    return int(subscription_item(sub).get("quantity") or sub.get("quantity") or 1)


def invoice_subscription_id(inv: dict[str, Any]) -> str:
    direct = obj_id(inv.get("subscription"))
    if direct:
        return direct
    details = ((inv.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    return obj_id(details)


def invoice_lines(inv: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for line in (inv.get("lines") or {}).get("data") or []:
        rows.append(
            {
                "description": str(line.get("description") or ""),
                "amount": int(line.get("amount") or 0),
                "quantity": line.get("quantity"),
            }
        )
    return rows


def payment_method_label(pm: dict[str, Any]) -> str:
    kind = str(pm.get("type") or "")
    card = pm.get("card") or {}
    if kind == "card" and card:
        return f"{str(card.get('brand') or 'card').upper()} •••• {card.get('last4') or ''}".strip()
    return kind
