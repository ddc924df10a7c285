"""The plan catalogue: what each plan costs (fen, CNY, per staff seat per month) and what it allows.

Paid plans are priced per staff seat: the subscription's quantity is the number of seats bought, and it is the
hub's staff-seat limit. The other limits come with the plan. The free plan's limits live in
``tenants.entitlements`` (hub code falls back to them without billing).

Stripe price ids come from ``STRIPE_PRICE_IDS`` (settings, from the environment) or, when a plan has none there,
from the price ``billing_sync --create-prices --apply`` made.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.conf import settings
from django.utils.translation import get_language

from billing.models import StripePrice
from tenants.entitlements import FREE_PLAN, GiB, Limits, free_limits

CURRENCY = "cny"


@dataclass(frozen=True)
class Plan:
    code: str
    name_zh: str
    name_en: str
    seat_price_fen: int  # per staff seat per month; 0 for the free plan
    min_seats: int
    max_seats: int
    limits: Limits  # staff_seats is filled from the seats bought (paid plans)

    @property
    def display_name(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh

    @property
    def is_free(self) -> bool:
        return self.code == FREE_PLAN

    def limits_for(self, seats: int | None) -> Limits:
        if self.is_free:
            return free_limits()
        return replace(self.limits, staff_seats=max(int(seats or 0), self.min_seats))

    def monthly_fen(self, seats: int) -> int:
        return 0 if self.is_free else self.seat_price_fen * max(seats, self.min_seats)


PLANS: dict[str, Plan] = {
    plan.code: plan
    for plan in (
        Plan(
            code=FREE_PLAN,
            name_zh="社区版",
            name_en="Community",
            seat_price_fen=0,
            min_seats=0,
            max_seats=0,
            limits=free_limits(),
        ),
        Plan(
            code="standard",
            name_zh="标准版",
            name_en="Standard",
            seat_price_fen=19_900,
            min_seats=1,
            max_seats=50,
            limits=Limits(active_partners=300, staff_seats=None, storage_bytes=50 * GiB, open_calls=20),
        ),
        Plan(
            code="provincial",
            name_zh="省级版",
            name_en="Provincial",
            seat_price_fen=29_900,
            min_seats=5,
            max_seats=500,
            limits=Limits(active_partners=None, staff_seats=None, storage_bytes=500 * GiB, open_calls=None),
        ),
    )
}
PAID_PLANS = tuple(code for code in PLANS if code != FREE_PLAN)


def plan_get(code: str) -> Plan | None:
    return PLANS.get(code)


def price_id_for(code: str) -> str:
    """The Stripe price of a paid plan: settings first, then what billing_sync made; "" when none."""
    configured: dict[str, str] = getattr(settings, "STRIPE_PRICE_IDS", None) or {}
    if configured.get(code):
        return configured[code]
    return StripePrice.objects.filter(plan=code).values_list("price_id", flat=True).first() or ""


def plan_for_price(price_id: str, price: dict | None = None) -> str:
    """Which plan a Stripe price belongs to ("" if none): our price ids, else the price's ``huoban_plan`` metadata."""
    if not price_id:
        return ""
    configured: dict[str, str] = getattr(settings, "STRIPE_PRICE_IDS", None) or {}
    for code, configured_id in configured.items():
        if configured_id == price_id and code in PLANS:
            return code
    stored = StripePrice.objects.filter(price_id=price_id).values_list("plan", flat=True).first()
    if stored:
        return stored
    code = ((price or {}).get("metadata") or {}).get("huoban_plan", "")
    return code if code in PLANS else ""
