"""Every page carries a Content-Security-Policy that allows no inline or foreign script, and the templates keep it
possible: no inline <script>, no inline event handlers; file downloads keep their own stricter policy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def _directives(policy: str) -> dict[str, list[str]]:
    parts = (part.split() for part in policy.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


@pytest.mark.parametrize("where", ["public", "hub"])
def test_pages_carry_a_policy_without_inline_or_foreign_script(client_for, hub_a, where):
    response = client_for(None, hub_a if where == "hub" else None).get("/")

    assert response.status_code == 200
    policy = _directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert {"'self'", "http://huoban.localhost:8000", "http://*.huoban.localhost:8000"} <= set(policy["form-action"])
    assert "camera=()" in response["Permissions-Policy"]
    assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_api_answers_and_docs_carry_the_policy_and_the_docs_script_is_a_file(client_for, hub_a):
    client = client_for(None, hub_a)
    docs = client.get("/api/v1/docs")
    script = client.get("/api/v1/docs?script=")

    assert docs.status_code == 200 and "Content-Security-Policy" in docs
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", docs.content.decode())
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


def test_report_only_mode_for_a_cautious_rollout(client_for, settings):
    settings.HUOBAN_CSP_REPORT_ONLY = True
    response = client_for(None).get("/")

    assert "Content-Security-Policy-Report-Only" in response
    assert "Content-Security-Policy" not in response


def test_templates_have_no_inline_scripts_or_event_handlers():
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
    handler = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.IGNORECASE)
    offenders = []
    for folder in ("platform", "tenants", "hubs", "billing"):
        for template in (ROOT / folder).rglob("templates/**/*.html"):
            text = template.read_text(encoding="utf-8")
            if template.name.endswith("_pdf.html"):
                continue  # rendered by WeasyPrint on the server, never served to a browser
            if inline_script.search(text) or handler.search(text):
                offenders.append(str(template.relative_to(ROOT)))
    assert offenders == []


def test_a_forged_x_forwarded_for_does_not_open_a_new_throttle_bucket(rf):
    from huoban.discovery.api import DiscoverThrottle

    throttle = DiscoverThrottle()
    first = rf.get("/api/v1/discover", HTTP_X_FORWARDED_FOR="1.2.3.4", REMOTE_ADDR="203.0.113.9")
    second = rf.get("/api/v1/discover", HTTP_X_FORWARDED_FOR="5.6.7.8", REMOTE_ADDR="203.0.113.9")

    assert throttle.get_ident(first) == throttle.get_ident(second) == "203.0.113.9"


def test_the_policy_follows_the_site_address_it_is_served_on(client_for, settings):
    settings.HUOBAN_URL_PORT = 8123  # the browser tests' live server, say: sign-in redirects there must be allowed
    policy = _directives(client_for(None).get("/")["Content-Security-Policy"])
    assert "http://*.huoban.localhost:8123" in policy["form-action"]
