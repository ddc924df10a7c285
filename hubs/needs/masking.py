"""Personal data as the public sees it: 王小明 → 王**, 13812348000 → 138****8000, contact data in text redacted.

Every public page and API response of this app shows residents through these functions only."""

from __future__ import annotations

from huoban.discovery.text import redact


def mask_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        return "**"
    return name[0] + "**"


def mask_phone(phone: str | None) -> str:
    phone = (phone or "").strip()
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "****" + phone[-4:]


def mask_text(text: str) -> str:
    """Free text shown in public (an objection, a need's summary) with phone, identity and email numbers masked."""
    return redact(text or "")[0]
