"""``{% organisation_documents_card org %}``: the verification summary and a link to the documents page, for pages
that show an organisation (its own page on the public site)."""

from __future__ import annotations

from typing import Any

from django import template

from huoban.storage.selectors import organisation_verification_summary

register = template.Library()


@register.inclusion_tag("storage/_organisation_card.html")
def organisation_documents_card(org: Any) -> dict[str, Any]:
    return {"org": org, "summary": organisation_verification_summary(organisation_id=org.pk)}
