"""Headless Chromium walks one resident need to a funded project, through the real pages: a resident verifies a
phone by SMS code on a phone and submits a need on the public form; staff triage it into a project idea and set a
review criterion; a reviewer scores it; staff approve it and put it on public notice; the verified resident
supports it on the notice page; staff close the notice, list the idea at a fair and choose its implementing
organisation; a funder's owner claims it in two parts, and the fair's live part (left open in another browser,
never reloaded) shows each claim arrive and change; the treasurer signs each pledge's agreement and records the
money received; the idea becomes a funded project whose page and public transparency page show the money in."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from huoban.db import connection
from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD
from tests.factories import credit_code

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _login(browser, site: str, email: str, next_url: str, **context):  # type: ignore[no-untyped-def]
    page = browser.new_context(**{"viewport": {"width": 1200, "height": 900}, **context}).new_page()
    page.goto(f"{site}/accounts/login/?next={next_url}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")
    return page


def _ok(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector(".msg.success")


def _cleanup(slug: str, emails: list[str], codes: list[str]) -> None:
    from huoban.discovery.rebuild import discovery_hub_forget
    from huoban.identity.models import Organisation, User
    from tenants import provisioning
    from tenants.models import Hub

    connection.set_schema_to_public()
    for hub in Hub.objects.filter(slug=slug):
        discovery_hub_forget(hub_id=hub.pk)
        provisioning.schema_drop(hub.schema_name)
        hub.delete()
    Organisation.objects.filter(credit_code__in=codes).delete()
    User.objects.filter(email__in=emails).delete()


def test_need_to_notice_support_to_fair_claim_to_funded_project(live_site, browser):  # type: ignore[no-untyped-def]
    from django.db import connection as db_connection
    from django.utils import timezone

    from hubs.core.services import membership_grant
    from hubs.needs.models import Claim, IdeaStatus, Need, ProjectIdea, Support
    from hubs.partners.services import partnership_staff_add
    from huoban import sms
    from huoban.identity.services import organisation_create, user_create
    from tenants.services import hub_provision

    db_connection.close()
    slug = f"needs-{secrets.token_hex(3)}"
    staff_email, reviewer_email, funder_email, treasurer_email, ngo_email = (
        f"{who}@{slug}.test" for who in ("staff", "reviewer", "funder", "treasurer", "ngo")
    )
    code = credit_code("330102", int(secrets.token_hex(3), 16) % 9_000_000, prefix="91")
    ngo_code = credit_code("330102", int(secrets.token_hex(3), 16) % 9_000_000, prefix="52")
    hub = hub_provision(
        slug=slug,
        name_zh="上城区民生服务中心",
        kind="district_bureau",
        region_code="330102",
        admin_email=f"admin@{slug}.test",
        actor=None,
    ).hub
    staff = user_create(name="需求办理员", email=staff_email, password=PASSWORD, email_verified=True)
    reviewer = user_create(name="陈专家", email=reviewer_email, password=PASSWORD, email_verified=True)
    owner = user_create(name="华东家具市场负责人", email=funder_email, password=PASSWORD, email_verified=True)
    treasurer = user_create(name="李会计", email=treasurer_email, password=PASSWORD, email_verified=True)
    ngo_head = user_create(name="近江社区服务社负责人", email=ngo_email, password=PASSWORD, email_verified=True)
    funder = organisation_create(
        creator=owner, name="华东家具市场", kind="enterprise", region_code="330102", credit_code=code
    )
    implementer = organisation_create(
        creator=ngo_head, name="近江社区服务社", kind="social_organisation", region_code="330102", credit_code=ngo_code
    )
    with hub:
        membership_grant(user=staff, roles=["staff"], actor=None)
        membership_grant(user=reviewer, roles=["reviewer"], actor=None)
        membership_grant(user=treasurer, roles=["treasurer"], actor=None)
        partnership_staff_add(actor=staff, credit_code=code)
        partnership_staff_add(actor=staff, credit_code=ngo_code)
    connection.set_schema_to_public()
    hub_url = hub.url
    mobile = f"139{secrets.randbelow(10**8):08d}"
    try:
        # A resident on a phone: the form asks for a verified phone first; the code comes by SMS.
        phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
        phone.goto(f"{hub_url}/needs/")
        phone.click("[data-testid=submit-need]")
        phone.wait_for_url(re.compile(r"/needs/verify/"))
        phone.fill("#phone", "12345")  # not a mobile number: refused, nothing sent
        phone.click("[data-testid=send-code]")
        assert "11 位手机号" in phone.inner_text(".msg.error")
        phone.fill("#phone", mobile)
        phone.click("[data-testid=send-code]")
        _ok(phone)
        sent = sms.last_code_for(mobile)
        assert sent is not None
        phone.fill("#code", sent)
        phone.fill("#name", "王小明")
        phone.click("[data-testid=verify]")
        phone.wait_for_url(re.compile(r"/needs/submit/$"))
        assert mobile not in phone.inner_text("h1 + p") and "****" in phone.inner_text("h1 + p")
        phone.fill("#title", "老旧小区加装电梯")
        phone.fill("#body", "近江社区 5 号楼没有电梯，80 岁以上老人上下楼困难。")
        phone.select_option("#category", "elderly")
        phone.fill("#community", "近江社区")
        phone.click("[data-testid=submit]")
        phone.wait_for_url(re.compile(r"/needs/track/[\w-]+/$"))
        assert phone.inner_text("[data-testid=need-status]") == "待处理"
        assert mobile not in phone.content() and "王小明" not in phone.content()
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        screenshot(phone, "needs-submitted-phone")
        track_url = phone.url

        # Staff triage the need into a project idea and set the review criterion.
        desk = _login(browser, live_site, staff_email, f"{hub_url}/needs/staff/")
        desk.wait_for_url(re.compile(r"/needs/staff/$"))
        desk.locator("[data-testid=needs-table] a", has_text="老旧小区加装电梯").click()
        desk.fill("#i-budget", "0")  # no money asked: refused, no idea made
        desk.click("[data-testid=make-idea]")
        assert desk.locator(".msg.error").count() == 1
        desk.fill("#i-title", "近江社区加装电梯")
        desk.fill("#i-budget", "50000")
        desk.click("[data-testid=make-idea]")
        desk.wait_for_url(re.compile(r"/needs/ideas/$"))
        _ok(desk)
        desk.fill("[data-testid=criterion-name]", "民需迫切程度")
        desk.fill("[data-testid=criterion-weight]", "1")
        desk.click("[data-testid=add-criterion]")
        _ok(desk)
        now = timezone.localtime()
        desk.fill("[data-testid=round-title]", "2026 年民生实事项目公示")
        desk.fill("input[name=starts_at]", (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
        desk.fill("input[name=ends_at]", (now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"))
        desk.click("[data-testid=make-round]")
        _ok(desk)
        with hub:
            idea_id = ProjectIdea.objects.get(title="近江社区加装电梯").pk
            assert Need.objects.get(title="老旧小区加装电梯").idea_id == idea_id
        connection.set_schema_to_public()
        idea_url = f"{hub_url}/needs/ideas/{idea_id}/"

        expert = _login(browser, live_site, reviewer_email, idea_url)
        expert.wait_for_selector("[data-testid=score-1]")
        expert.fill("[data-testid=score-1]", "11")  # above the maximum of 10: refused
        expert.click("[data-testid=score]")
        assert expert.locator(".msg.error").count() == 1
        expert.fill("[data-testid=score-1]", "9")
        expert.click("[data-testid=score]")
        _ok(expert)
        assert "90.0" in expert.inner_text("[data-testid=review-score]")

        desk.goto(idea_url)
        desk.click("[data-testid=approve]")
        _ok(desk)
        assert desk.inner_text("[data-testid=idea-status]") == "评审通过"
        desk.click("[data-testid=to-notice]")
        _ok(desk)
        assert desk.inner_text("[data-testid=idea-status]") == "公示中"
        desk.click("text=查看公示")
        notice_url = desk.url

        # The verified resident (same phone session) supports the idea on the public notice page.
        phone.goto(notice_url)
        phone.click(f"[data-testid=support-{idea_id}]")
        _ok(phone)
        assert phone.inner_text(f"[data-testid=supports-{idea_id}]") == "1"
        phone.click(f"[data-testid=support-{idea_id}]")  # a second support is refused, the count stays
        assert "已经支持过" in phone.inner_text(".msg.error")
        assert phone.inner_text(f"[data-testid=supports-{idea_id}]") == "1"
        assert mobile not in phone.content()
        screenshot(phone, "needs-notice-supported-phone")
        phone.goto(track_url)
        assert "近江社区加装电梯" in phone.content()

        # Staff close the notice, make a fair, list the idea and open the fair.
        desk.goto(notice_url)
        desk.click("[data-testid=close-round]")
        _ok(desk)
        desk.goto(f"{hub_url}/needs/ideas/")
        desk.fill("[data-testid=fair-title]", "上城区民生实事资本相亲会")
        desk.fill("input[name=held_on]", now.strftime("%Y-%m-%d"))
        desk.fill("[data-testid=fair-venue]", "上城区市民中心")
        desk.click("[data-testid=make-fair]")
        _ok(desk)
        desk.click("text=上城区民生实事资本相亲会")
        fair_url = desk.url
        desk.select_option("[data-testid=fair-add-idea]", str(idea_id))
        desk.click("[data-testid=fair-add]")
        _ok(desk)
        desk.click("[data-testid=open-fair]")
        _ok(desk)

        # Staff choose the organisation that will carry the project out, on the idea's page (a choice is required).
        desk.goto(idea_url)
        desk.click("[data-testid=set-implementer]")
        assert "请选择执行机构" in desk.inner_text(".msg.error")
        desk.select_option("[data-testid=implementer-select]", str(implementer.pk))
        desk.click("[data-testid=set-implementer]")
        _ok(desk)
        assert desk.inner_text("[data-testid=implementer]") == "近江社区服务社"

        # The big screen at the fair, opened once and never reloaded: its live part (figures, progress per project
        # and the claims list) polls with htmx; the page's CSP forbids eval, so no wait_for_function here.
        screen = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        screen.goto(fair_url)
        reloads: list[str] = []
        screen.on("framenavigated", lambda frame: reloads.append(frame.url) if frame == screen.main_frame else None)
        assert screen.inner_text("[data-testid=fair-claimed]") == "¥0.00"
        expect(screen.locator("[data-testid=no-claims]")).to_be_visible()

        claimant = _login(browser, live_site, funder_email, fair_url)
        claimant.wait_for_selector("[data-testid=claim]")
        claimant.select_option("[data-testid=claim-idea]", str(idea_id))
        claimant.fill("[data-testid=claim-amount]", "60000")  # more than the idea needs: refused
        claimant.click("[data-testid=claim]")
        assert "超过了项目尚需" in claimant.inner_text(".msg.error")
        claimant.fill("[data-testid=claim-amount]", "30000")
        claimant.click("[data-testid=claim]")
        _ok(claimant)
        assert claimant.inner_text("[data-testid=fair-claimed]") == "¥30,000.00"
        with hub:
            first = Claim.objects.get(idea_id=idea_id).pk
        connection.set_schema_to_public()

        # The claim made in the funder's session appears on the open screen: the figure, the progress and the list.
        expect(screen.locator("[data-testid=fair-claimed]")).to_have_text("¥30,000.00", timeout=15_000)
        board = screen.locator(f"[data-testid=board-{idea_id}]")
        expect(board).to_contain_text("1 家出资方")
        expect(board.locator("[role=progressbar]")).to_have_attribute("aria-valuenow", "60")
        row = screen.locator(f"[data-testid=claim-row-{first}]")
        expect(row).to_contain_text("华东家具市场", timeout=15_000)
        expect(row).to_contain_text("近江社区加装电梯")
        expect(row).to_contain_text("¥30,000.00")
        expect(screen.locator(f"[data-testid=claim-status-{first}]")).to_have_text("已认领")
        expect(screen.locator("[data-testid=no-claims]")).to_have_count(0)

        # The funder claims the rest; the screen shows the project fully claimed and the second claim.
        claimant.select_option("[data-testid=claim-idea]", str(idea_id))
        claimant.fill("[data-testid=claim-amount]", "20000")
        claimant.click("[data-testid=claim]")
        _ok(claimant)
        claimant.context.close()  # its fair page polls too; the screen is the one watched from here on
        with hub:
            second = Claim.objects.filter(idea_id=idea_id).exclude(pk=first).get().pk
        connection.set_schema_to_public()
        expect(screen.locator("[data-testid=fair-claimed]")).to_have_text("¥50,000.00", timeout=15_000)
        expect(screen.locator("[data-testid=fair-fully-claimed]")).to_contain_text("1 / 1")
        expect(board.locator("[role=progressbar]")).to_have_attribute("aria-valuenow", "100")
        expect(screen.locator(f"[data-testid=claim-row-{second}]")).to_contain_text("¥20,000.00")
        screenshot(screen, "needs-fair-board")

        # The treasurer opens each claim from the fair's claims list: the pledge becomes a signed agreement, then
        # the money is recorded as received (in the ledger, with the receipt number); the screen follows each step.
        till = _login(browser, live_site, treasurer_email, fair_url)
        for n, claim_id in enumerate((first, second), start=1):
            till.click(f"[data-testid=claim-open-{claim_id}]")
            till.wait_for_url(re.compile(rf"/needs/claims/{claim_id}/$"))
            assert till.inner_text("[data-testid=claim-status]") == "已认领"
            till.fill("[data-testid=agreement-ref-input]", f"XY-2026-00{n}")
            till.click("[data-testid=agree]")
            _ok(till)
            assert till.inner_text("[data-testid=claim-status]") == "已签约"
            assert till.inner_text("[data-testid=agreement-ref]") == f"XY-2026-00{n}"
            expect(screen.locator(f"[data-testid=claim-status-{claim_id}]")).to_have_text("已签约", timeout=15_000)
            if n == 1:
                till.click("[data-testid=receive]")  # no receipt number: refused, nothing recorded
                assert "请填写收据编号" in till.inner_text(".msg.error")
                assert till.inner_text("[data-testid=claim-status]") == "已签约"
            till.fill("[data-testid=receipt-ref-input]", f"SJ-2026-00{n}")
            till.click("[data-testid=receive]")
            _ok(till)
            assert till.inner_text("[data-testid=claim-status]") == "已到账"
            assert till.inner_text("[data-testid=ledger-transaction]").startswith("#")
            expect(screen.locator(f"[data-testid=claim-status-{claim_id}]")).to_have_text("已到账", timeout=15_000)
            if n == 1:
                expect(screen.locator("[data-testid=fair-received]")).to_have_text("¥30,000.00")
                assert till.inner_text("[data-testid=claim-idea-status]") == "相亲会认领中"
                till.click("[data-testid=back-to-fair]")

        # The last money in makes the idea a funded project, with its implementer.
        assert till.inner_text("[data-testid=claim-idea-status]") == "已资助"
        screenshot(till, "needs-claim-received")
        expect(screen.locator("[data-testid=fair-received]")).to_have_text("¥50,000.00", timeout=15_000)
        expect(screen.locator(f"[data-testid=board-status-{idea_id}]")).to_have_text("已资助")
        expect(screen.locator(f"[data-testid=board-project-{idea_id}]")).to_be_visible()
        assert reloads == []  # all of it arrived without the screen reloading

        desk.goto(idea_url)
        assert desk.inner_text("[data-testid=idea-status]") == "已资助"
        desk.click("[data-testid=project-link]")
        desk.wait_for_url(re.compile(r"/projects/\d+/$"))
        assert desk.inner_text("[data-testid=project-status]") == "已筹资"
        assert desk.inner_text("[data-testid=received]") == "¥50,000.00"

        # Anyone at the screen follows the board's link to the project's public transparency page: the money in.
        screen.click(f"[data-testid=board-project-{idea_id}]")
        screen.wait_for_url(re.compile(r"/projects/public/\d+/$"))
        assert screen.inner_text("[data-testid=received]") == "¥50,000.00"
        timeline = screen.inner_text("[data-testid=timeline]")
        assert "资助到账" in timeline and "华东家具市场" in timeline and "¥50,000.00" in timeline
        assert "近江社区服务社" in screen.content()
        screenshot(screen, "needs-funded-project-public")

        from hubs.projects.models import Project
        from hubs.projects.selectors import project_money

        with hub:
            idea = ProjectIdea.objects.get(pk=idea_id)
            assert idea.status == IdeaStatus.FUNDED and idea.project_id is not None
            assert Support.objects.filter(idea=idea).count() == 1
            claims = list(Claim.objects.filter(idea=idea).order_by("pk"))
            assert [(c.funder_id, c.amount, c.status, c.agreement_ref, c.receipt_ref) for c in claims] == [
                (funder.pk, 30_000_00, "received", "XY-2026-001", "SJ-2026-001"),
                (funder.pk, 20_000_00, "received", "XY-2026-002", "SJ-2026-002"),
            ]
            assert all(c.ledger_transaction_id for c in claims)
            project = Project.objects.get(pk=idea.project_id)
            assert (project.status, project.implementer_id, project.source) == (
                "funded",
                implementer.pk,
                f"needs-idea:{idea_id}",
            )
            assert project_money(project=project).received == 50_000_00
        connection.set_schema_to_public()
    finally:
        _cleanup(
            slug,
            [staff_email, reviewer_email, funder_email, treasurer_email, ngo_email, f"admin@{slug}.test"],
            [code, ngo_code],
        )
