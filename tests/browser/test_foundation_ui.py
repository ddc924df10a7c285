"""Headless Chromium walks the foundation: an operator provisions a hub, its first admin accepts the emailed
invitation, the one sign-in is recognised on the hub host and the public site, and the pages fit a phone."""

from __future__ import annotations

import re
import secrets

import pytest
from django.core import mail

from huoban.db import connection
from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _cleanup(slug: str, email: str) -> None:
    from huoban.identity.models import User
    from tenants import provisioning
    from tenants.models import Hub

    connection.set_schema_to_public()
    for hub in Hub.objects.filter(slug=slug):
        provisioning.schema_drop(hub.schema_name)  # the memberships go with the schema
        hub.delete()
    User.objects.filter(email=email).delete()


def test_operator_provisions_a_hub_and_its_admin_joins(live_site, browser):
    from huoban.identity.services import user_create

    slug = f"deyang-{secrets.token_hex(3)}"
    admin_email = f"admin@{slug}.test"
    operator_email = f"op-{slug}@platform.test"
    user_create(name="运营甲", email=operator_email, password=PASSWORD, is_operator=True)
    mail.outbox.clear()
    try:
        operator = browser.new_context(viewport={"width": 1200, "height": 900})
        page = operator.new_page()
        page.goto(f"{live_site}/accounts/login/?next=/console/")
        page.fill("input[name=login]", operator_email)
        page.fill("input[name=password]", PASSWORD)
        page.click("[data-testid=login-submit]")
        page.wait_for_url(re.compile(r"/console/$"))
        page.click("text=开通枢纽")
        page.fill("input[name=slug]", slug)
        page.fill("input[name=name_zh]", "德阳市公益服务中心")
        page.select_option("select[name=kind]", "city")
        page.fill("input[name=region_code]", "999999")  # wrong first: a translated error, nothing made
        page.fill("input[name=admin_email]", admin_email)
        page.click("button[type=submit]")
        assert page.locator(".error").first.inner_text() == "未知的地区代码：999999。"
        page.fill("input[name=region_code]", "510600")
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(rf"/console/hubs/{slug}/$"))
        assert page.locator("[data-testid=hub-status]").inner_text() == "运行中"
        screenshot(page, "operator-console-hub")

        link = next(
            line for m in mail.outbox if admin_email in m.to for line in m.body.splitlines() if "/invitations/" in line
        )
        assert link.startswith(f"http://{slug}.huoban.localhost:")

        phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        newcomer = phone.new_page()
        newcomer.goto(link)
        newcomer.fill("input[name=name]", "德阳管理员")
        newcomer.fill("input[name=password]", "short")
        newcomer.click("[data-testid=accept-submit]")
        assert newcomer.locator(".error").count() >= 1  # the password policy speaks, nothing is created
        newcomer.fill("input[name=password]", PASSWORD)
        newcomer.click("[data-testid=accept-submit]")
        newcomer.wait_for_selector("[data-testid=hub-name]")
        assert "德阳市公益服务中心" in newcomer.inner_text("[data-testid=hub-name]")
        assert "枢纽管理员" in newcomer.content()
        # no horizontal scrolling on a phone
        assert newcomer.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        screenshot(newcomer, "hub-home-phone")

        # the same sign-in on the public site: the profile lists the hub
        newcomer.goto(f"{live_site}/accounts/profile/")
        assert "德阳市公益服务中心" in newcomer.content()
        # back on the hub host: the admin's members page, then English
        hub_url = link.split("/invitations/")[0]
        newcomer.goto(f"{hub_url}/members/")
        assert newcomer.locator("[data-testid=member-table]").inner_text().count("德阳管理员") == 1
        newcomer.click("label.nav-toggle-label")
        newcomer.click("button[name=language][value=en]")
        newcomer.wait_for_load_state()
        assert "Members and roles" in newcomer.content() or "Members" in newcomer.content()
        assert "Sign out" in newcomer.content()
        screenshot(newcomer, "hub-members-phone-en")
    finally:
        _cleanup(slug, admin_email)
        from huoban.identity.models import User

        User.objects.filter(email=operator_email).delete()
