"""Headless Chromium walks the partner network: staff invite an organisation by email, its person accepts on a
phone (a new account, registering the organisation), staff review and approve it, and it appears in the staff
directory and on the hub's public partner page."""

from __future__ import annotations

import re
import secrets

import pytest
from django.core import mail

from huoban.db import connection
from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD
from tests.factories import credit_code

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _cleanup(slug: str, emails: list[str], code: str) -> None:
    from huoban.identity.models import Organisation, User
    from tenants import provisioning
    from tenants.models import Hub

    connection.set_schema_to_public()
    for hub in Hub.objects.filter(slug=slug):
        provisioning.schema_drop(hub.schema_name)  # partnerships, invitations and memberships go with the schema
        hub.delete()
    Organisation.objects.filter(credit_code=code).delete()
    User.objects.filter(email__in=emails).delete()


def test_invite_accept_approve_and_publish(live_site, browser):
    from django.db import connection as db_connection

    from hubs.core.services import membership_grant
    from huoban.identity.services import user_create
    from tenants.services import hub_provision

    # A browser test that ran before may have left this thread's connection terminated by its live_site teardown;
    # start on a fresh one.
    db_connection.close()
    slug = f"yaan-{secrets.token_hex(3)}"
    staff_email, ngo_email = f"staff@{slug}.test", f"lead@{slug}.test"
    code = credit_code("511802", int(secrets.token_hex(3), 16) % 9_000_000)
    hub = hub_provision(
        slug=slug,
        name_zh="雅安市公益服务中心",
        kind="city",
        region_code="511800",
        admin_email=f"admin@{slug}.test",
        actor=None,
    ).hub
    staff = user_create(name="雅安工作人员", email=staff_email, password=PASSWORD, email_verified=True)
    with hub:
        membership_grant(user=staff, roles=["staff"], actor=None)
    connection.set_schema_to_public()
    hub_url = hub.url  # live_site has set the port the hub links carry
    mail.outbox.clear()
    try:
        desk = browser.new_context(viewport={"width": 1200, "height": 900})
        page = desk.new_page()
        page.goto(f"{live_site}/accounts/login/?next={hub_url}/partners/invite/")
        page.fill("input[name=login]", staff_email)
        page.fill("input[name=password]", PASSWORD)
        page.click("[data-testid=login-submit]")
        page.wait_for_url(re.compile(r"/partners/invite/$"))
        page.fill("input[name=email]", ngo_email)
        page.fill("textarea[name=message]", "欢迎加入雅安的伙伴网络！")
        page.click("[data-testid=invite-submit]")
        page.wait_for_selector(".msg.success")
        assert ngo_email in page.inner_text(".msg.success")

        link = next(
            line for m in mail.outbox if ngo_email in m.to for line in m.body.splitlines() if "/partners/join/" in line
        )
        assert link.startswith(f"http://{slug}.huoban.localhost:")

        phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        newcomer = phone.new_page()
        newcomer.goto(link)
        assert "欢迎加入雅安的伙伴网络！" in newcomer.content()
        newcomer.fill("input[name=name]", "李主任")
        newcomer.fill("input[name=password]", PASSWORD)
        newcomer.fill("input[name=org_name]", "雅安市青少年成长服务中心")
        newcomer.select_option("select[name=org_kind]", "social_organisation")
        newcomer.fill("input[name=org_credit_code]", code[:-1] + ("0" if code[-1] != "0" else "1"))  # a typo first
        newcomer.fill("input[name=org_region_code]", "511802")
        newcomer.check("input[name=service_areas][value=youth]")
        newcomer.click("[data-testid=join-submit]")
        assert "校验位" in newcomer.locator(".error").first.inner_text()  # nothing made; the form keeps the rest
        newcomer.fill("input[name=password]", PASSWORD)
        newcomer.fill("input[name=org_credit_code]", code)
        newcomer.click("[data-testid=join-submit]")
        newcomer.wait_for_url(re.compile(r"/partners/apply/$"))
        mine = newcomer.inner_text("[data-testid=my-partnerships]")
        assert "雅安市青少年成长服务中心" in mine and "已申请" in mine
        assert newcomer.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        screenshot(newcomer, "partners-applied-phone")

        page.goto(f"{hub_url}/partners/?status=applied")
        page.click("text=雅安市青少年成长服务中心")
        page.click("[data-testid=action-under_review]")
        page.wait_for_selector(".msg.success")
        page.click("[data-testid=action-active]")
        page.wait_for_selector(".msg.success")
        assert page.inner_text("[data-testid=status]") == "合作中"
        page.fill("textarea[name=body]", "首次回访：项目运转良好。")
        page.click("text=保存备注")
        page.wait_for_selector("text=首次回访：项目运转良好。")
        screenshot(page, "partners-detail")
        page.goto(f"{hub_url}/partners/stats/")
        assert page.locator("svg.chart").count() == 3
        screenshot(page, "partners-stats")

        page.goto(f"{hub_url}/partners/")
        page.fill("input[name=q]", "青少年")
        page.wait_for_function(
            "document.querySelector('[data-testid=directory-count]').innerText.includes('1')"
        )  # htmx swapped the table as the staff member typed
        row = page.inner_text("[data-testid=directory-table]")
        assert "雅安市青少年成长服务中心" in row and "合作中" in row
        screenshot(page, "partners-directory")

        visitor = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
        visitor.goto(f"{hub_url}/partners/public/")
        public = visitor.inner_text("[data-testid=public-partners]")
        assert "雅安市青少年成长服务中心" in public and "青少年" in public
        assert ngo_email not in visitor.content() and staff_email not in visitor.content()
        screenshot(visitor, "partners-public-phone")

        assert any(ngo_email in m.to and "合作中" in m.subject for m in mail.outbox)  # the approval was emailed
    finally:
        _cleanup(slug, [staff_email, ngo_email, f"admin@{slug}.test"], code)
