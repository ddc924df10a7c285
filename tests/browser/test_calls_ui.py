"""Headless Chromium walks one call from publish to award: staff design and open it, an NGO's owner applies on a
phone (the draft autosaves), staff screen it and assign reviewers, the reviewer declares no conflict and scores,
the committee approves an amount, and the applicant sees the award on the public site's cross-hub page."""

from __future__ import annotations

import re
import secrets

import pytest

from huoban.db import connection
from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD
from tests.factories import credit_code

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _login(page, site: str, email: str, next_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{site}/accounts/login/?next={next_url}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")


def _cleanup(slug: str, emails: list[str], code: str) -> None:
    from huoban.discovery.rebuild import discovery_hub_forget
    from huoban.identity.models import Organisation, User
    from tenants import provisioning
    from tenants.models import Hub

    connection.set_schema_to_public()
    for hub in Hub.objects.filter(slug=slug):
        discovery_hub_forget(hub_id=hub.pk)
        provisioning.schema_drop(hub.schema_name)
        hub.delete()  # its public application index rows go with it
    Organisation.objects.filter(credit_code=code).delete()
    User.objects.filter(email__in=emails).delete()


def test_publish_apply_review_award(live_site, browser):
    from django.db import connection as db_connection

    from hubs.core.services import membership_grant
    from hubs.partners import services as partners
    from hubs.partners.models import Partnership
    from huoban.identity.services import organisation_create, user_create
    from tenants.services import hub_provision

    db_connection.close()
    slug = f"calls-{secrets.token_hex(3)}"
    staff_email, reviewer_email, ngo_email = (f"{who}@{slug}.test" for who in ("staff", "reviewer", "ngo"))
    code = credit_code("510104", int(secrets.token_hex(3), 16) % 9_000_000)
    hub = hub_provision(
        slug=slug,
        name_zh="成都公益服务中心",
        kind="city",
        region_code="510100",
        admin_email=f"admin@{slug}.test",
        actor=None,
    ).hub
    staff = user_create(name="征集工作人员", email=staff_email, password=PASSWORD, email_verified=True)
    reviewer = user_create(name="王专家", email=reviewer_email, password=PASSWORD, email_verified=True)
    owner = user_create(name="李主任", email=ngo_email, password=PASSWORD, email_verified=True)
    org = organisation_create(
        creator=owner, name="锦江区邻里互助社", kind="social_organisation", region_code="510104", credit_code=code
    )
    with hub:
        membership_grant(user=staff, roles=["staff"], actor=None)
        membership_grant(user=reviewer, roles=["reviewer"], actor=None)
    connection.set_schema_to_public()
    hub_url = hub.url
    try:
        desk = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
        _login(desk, live_site, staff_email, f"{hub_url}/calls/new/")
        desk.wait_for_url(re.compile(r"/calls/new/$"))
        desk.select_option("select[name=call_type]", "government_purchase")
        desk.fill("input[name=title_zh]", "2026年社区邻里互助服务")
        desk.fill("textarea[name=description_zh]", "政府购买社区邻里互助服务。")
        desk.fill("input[name=total_budget]", "100000")
        desk.fill("input[name=project_cap]", "50000")
        desk.fill("input[name=closes_at]", "2099-12-31T17:00")
        desk.fill("[data-testid=criteria]", "需求与设计 | 60 | 10\n团队与预算 | 40 | 10")
        desk.fill(
            "[data-testid=form-fields]",
            "plan | text | 实施方案 | 是 | | 500\npeople | number | 受益人数 | 是 | 1 | 5000",
        )
        desk.click("[data-testid=call-save]")
        desk.wait_for_selector("[data-testid=call-status]")
        call_url = desk.url
        desk.click("[data-testid=call-to-open]")
        desk.wait_for_selector(".msg.success")
        assert desk.inner_text("[data-testid=call-status]") == "征集中"
        call_id = int(call_url.rstrip("/").split("/")[-1])

        phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
        _login(phone, live_site, ngo_email, f"{hub_url}/calls/{call_id}/public/")
        phone.wait_for_url(re.compile(r"/public/$"))
        phone.click("[data-testid=apply]")
        phone.wait_for_selector("[data-testid=application-form]")
        phone.fill("input[name=title]", "邻里守望")
        phone.fill("input[name=requested_amount]", "30000")
        phone.fill("textarea[name=f_plan]", "组织志愿者每周探访独居老人")
        phone.fill("input[name=f_people]", "0")  # below the minimum: refused, nothing saved
        phone.locator("input[name=f_people]").dispatch_event("change")
        phone.wait_for_selector("[data-testid=autosave-error]")
        phone.fill("input[name=f_people]", "80")
        phone.locator("input[name=f_people]").dispatch_event("change")
        phone.wait_for_selector("[data-testid=autosaved]")
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        phone.click("[data-testid=application-submit]")
        phone.wait_for_selector(".msg.success")
        assert phone.inner_text("[data-testid=application-status]") == "已提交"
        screenshot(phone, "calls-applied-phone")

        with hub:
            partnership = Partnership.objects.get(organisation=org)
            partners.partnership_review_start(partnership=partnership, actor=staff)
            partners.partnership_approve(partnership=partnership, actor=staff)
        connection.set_schema_to_public()

        desk.goto(call_url)
        desk.locator("[data-testid=applications-table] a").first.click()
        desk.click("[data-testid=screen-in]")
        desk.wait_for_selector(".msg.success")
        desk.goto(call_url)
        desk.fill("input[name=per_application]", "1")
        desk.click("[data-testid=auto-assign]")
        desk.wait_for_selector(".msg.success")

        expert = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
        _login(expert, live_site, reviewer_email, f"{hub_url}/calls/reviews/")
        expert.wait_for_url(re.compile(r"/calls/reviews/$"))
        assert "0 / 1" in expert.inner_text("[data-testid=review-progress]")
        expert.locator("[data-testid=review-queue] a").first.click()
        assert "组织志愿者每周探访独居老人" not in expert.content()  # nothing before the declaration
        expert.click("[data-testid=declare]")
        expert.wait_for_selector("[data-testid=score-form]")
        assert "组织志愿者每周探访独居老人" in expert.content()
        inputs = expert.locator("[data-testid=score-form] input[type=number]")
        inputs.nth(0).fill("9")
        inputs.nth(1).fill("7")
        expert.locator("[data-testid=score-form] textarea").first.fill("方案清晰，覆盖面广")
        expert.click("[data-testid=score-submit]")
        expert.wait_for_selector("[data-testid=review-total]")
        assert expert.inner_text("[data-testid=review-total]") == "82.00"  # 0.9*60 + 0.7*40
        expert.goto(f"{hub_url}/calls/reviews/")
        assert "1 / 1" in expert.inner_text("[data-testid=review-progress]")

        desk.goto(call_url)
        desk.click("[data-testid=call-to-closed]")
        desk.wait_for_selector(".msg.success")
        desk.click("[data-testid=call-to-in_review]")
        desk.wait_for_selector(".msg.success")
        desk.click("[data-testid=ranking-link]")
        ranking = desk.inner_text("[data-testid=ranking-table]")
        assert "锦江区邻里互助社" in ranking and "82.00" in ranking
        screenshot(desk, "calls-ranking")
        desk.locator("[data-testid=ranking-table] a").first.click()
        desk.fill("[data-testid=determine-form] input[name=amount]", "60000")  # above the cap: refused
        desk.click("[data-testid=determine]")
        assert "单个项目上限" in desk.inner_text(".msg.error")
        desk.select_option("[data-testid=determine-form] select[name=outcome]", "approve")
        desk.fill("[data-testid=determine-form] input[name=amount]", "28000")
        desk.click("[data-testid=determine]")
        desk.wait_for_selector(".msg.success")
        assert desk.inner_text("[data-testid=application-status]") == "已立项"
        desk.goto(call_url)
        assert "剩余 ¥72,000.00" in desk.inner_text("[data-testid=budget]")

        phone.goto(f"{live_site}/applications/")
        mine = phone.inner_text("[data-testid=all-applications]")
        assert "成都公益服务中心" in mine and "邻里守望" in mine and "已立项" in mine
        screenshot(phone, "calls-my-applications-phone")
    finally:
        _cleanup(slug, [staff_email, reviewer_email, ngo_email, f"admin@{slug}.test"], code)
