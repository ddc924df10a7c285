"""The fair's pages: the live part (progress and claims, refreshed by polling, with no form in it), the claim page
where money roles sign the agreement and record the money received, and choosing an idea's implementer."""

from __future__ import annotations

import re

import pytest

from hubs.needs import services
from hubs.needs.models import Claim, ClaimStatus, IdeaStatus, ProjectIdea
from hubs.projects.models import Project

pytestmark = pytest.mark.django_db


def _board_part(html: str) -> str:
    """The live part of a fair page, as the board endpoint returns it."""
    match = re.search(r'<div id="board".*?</table></div>', html, re.S)
    assert match, html
    return match.group(0)


def test_the_live_part_holds_progress_and_the_claims_and_no_form(hub_a, cast_a, idea_at, make_funder, client_for):
    funder = make_funder("华东家具市场")
    with hub_a:
        idea = idea_at("at_fair", budget=50_000_00)
        (claim,) = services.claim_create(
            fair=idea.fair, idea=idea, funder_id=funder.pk, amount=30_000_00, actor=cast_a.staff
        )
    url = f"/needs/fairs/{idea.fair_id}/board/"
    public = client_for(None, hub_a).get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 3s"' in public and 'hx-get="' + url + '"' in public
    row = re.search(rf'<tr data-testid="claim-row-{claim.pk}">.*?</tr>', public, re.S)
    assert row is not None
    assert funder.name in row.group(0) and idea.title in row.group(0) and "¥30,000.00" in row.group(0)
    assert "已认领" in row.group(0) and "pledged" not in row.group(0)
    assert "<form" not in public and "<input" not in public  # a refresh never throws away what someone types
    assert f"/needs/claims/{claim.pk}/" not in public  # the claim page is for money roles

    treasurer = client_for(cast_a.treasurer, hub_a)
    live = treasurer.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert f'href="/needs/claims/{claim.pk}/"' in live and "<form" not in live
    page = treasurer.get(f"/needs/fairs/{idea.fair_id}/").content.decode()
    assert _board_part(page) == live.strip()  # the page and the poll render the same live part
    assert page.count('data-testid="claims"') == 1


def test_claim_page_is_for_money_roles(hub_a, cast_a, idea_at, make_funder, client_for, outsider):
    funder = make_funder()
    with hub_a:
        idea = idea_at("at_fair", budget=10_000)
        (claim,) = services.claim_create(fair=idea.fair, idea=idea, funder_id=funder.pk, amount=10_000, actor=None)
    url = f"/needs/claims/{claim.pk}/"
    assert client_for(None, hub_a).get(url).status_code == 302  # to sign in
    assert client_for(cast_a.reviewer, hub_a).get(url).status_code == 403
    assert client_for(outsider, hub_a).get(url).status_code == 404
    assert client_for(cast_a.reviewer, hub_a).post(f"{url}agree/").status_code == 403
    for user in (cast_a.treasurer, cast_a.staff):
        page = client_for(user, hub_a).get(url)
        assert page.status_code == 200
        assert 'data-testid="agree"' in page.content.decode() and 'data-testid="withdraw"' in page.content.decode()


def test_agreement_then_money_received_on_the_claim_page(hub_a, cast_a, idea_at, make_funder, client_for):
    funder, implementer = make_funder("置地国际"), make_funder("近江社区服务社")
    with hub_a:
        idea = idea_at("at_fair", budget=20_000)
        services.idea_implementer_set(idea=idea, implementer_id=implementer.pk, actor=cast_a.staff)
        (claim,) = services.claim_create(fair=idea.fair, idea=idea, funder_id=funder.pk, amount=20_000, actor=None)
    treasurer = client_for(cast_a.treasurer, hub_a)
    url = f"/needs/claims/{claim.pk}/"

    early = treasurer.post(f"{url}receive/", {"receipt_ref": "SJ-1"}, follow=True)
    assert early.redirect_chain[-1][0] == url and "只有已签约的认领可以登记到账" in early.content.decode()
    agreed = treasurer.post(f"{url}agree/", {"agreement_ref": "XY-2026-001"}, follow=True)
    body = agreed.content.decode()
    assert agreed.redirect_chain[-1][0] == url and "已签约。" in body and "XY-2026-001" in body
    assert 'data-testid="receive"' in body and 'data-testid="agree"' not in body

    empty = treasurer.post(f"{url}receive/", {"receipt_ref": "  "}, follow=True)
    assert "请填写收据编号。" in empty.content.decode()
    english = client_for(cast_a.treasurer, hub_a)
    english.cookies["huoban_language"] = "en"
    assert (
        "Please enter the receipt number."
        in english.post(f"{url}receive/", {"receipt_ref": ""}, follow=True).content.decode()
    )
    with hub_a:
        assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.AGREED

    received = treasurer.post(f"{url}receive/", {"receipt_ref": "SJ-1"}, follow=True).content.decode()
    assert "已登记到账。" in received and "SJ-1" in received
    with hub_a:
        claim.refresh_from_db()
        idea.refresh_from_db()
        assert claim.status == ClaimStatus.RECEIVED and claim.ledger_transaction_id is not None
        assert idea.status == IdeaStatus.FUNDED and idea.project_id is not None
        assert Project.objects.get(pk=idea.project_id).status == "funded"
    assert f"/projects/public/{idea.project_id}/" in received
    assert f'href="/projects/{idea.project_id}/"' not in received  # the project's own page is for staff
    staff_view = client_for(cast_a.staff, hub_a).get(url).content.decode()
    assert f'href="/projects/{idea.project_id}/"' in staff_view
    live = client_for(None, hub_a).get(f"/needs/fairs/{idea.fair_id}/board/").content.decode()
    assert f"/projects/public/{idea.project_id}/" in live and "已资助" in live and "已到账" in live


def test_a_pledge_is_withdrawn_on_its_page(hub_a, cast_a, idea_at, make_funder, client_for):
    funder = make_funder()
    with hub_a:
        idea = idea_at("at_fair", budget=10_000)
        (claim,) = services.claim_create(fair=idea.fair, idea=idea, funder_id=funder.pk, amount=4_000, actor=None)
    page = client_for(cast_a.treasurer, hub_a).post(f"/needs/claims/{claim.pk}/withdraw/", follow=True)
    assert "认领已撤回。" in page.content.decode() and 'data-testid="agree"' not in page.content.decode()
    with hub_a:
        assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.WITHDRAWN


def test_staff_choose_the_implementer_on_the_idea_page(hub_a, cast_a, idea_at, make_funder, client_for):
    from huoban.identity.models import Organisation

    funder, implementer = make_funder("华数"), make_funder("上城区邻里互助会")
    not_a_partner = Organisation.objects.get(members__user=cast_a.ngo_member)
    with hub_a:
        idea = idea_at("at_fair", budget=5_000)
        for claim in services.claim_create(fair=idea.fair, idea=idea, funder_id=funder.pk, amount=5_000, actor=None):
            services.claim_agree(claim=claim, actor=cast_a.treasurer)
            services.claim_receive(claim=claim, actor=cast_a.treasurer, receipt_ref="SJ")
        idea.refresh_from_db()
        assert idea.status == IdeaStatus.FUNDED and idea.project_id is None
    staff = client_for(cast_a.staff, hub_a)
    url = f"/needs/ideas/{idea.pk}/"
    page = staff.get(url).content.decode()
    assert (
        'data-testid="set-implementer"' in page and implementer.name in page and "确定执行机构后即转为资助项目" in page
    )

    assert (
        "请选择执行机构。"
        in staff.post(url, {"action": "implementer", "implementer_id": ""}, follow=True).content.decode()
    )
    refused = staff.post(url, {"action": "implementer", "implementer_id": not_a_partner.pk}, follow=True)
    assert "该组织不是本枢纽合作中的伙伴。" in refused.content.decode()
    reviewer = client_for(cast_a.reviewer, hub_a)
    assert reviewer.post(url, {"action": "implementer", "implementer_id": implementer.pk}).status_code == 404
    with hub_a:
        assert ProjectIdea.objects.get(pk=idea.pk).implementer_id is None

    done = staff.post(url, {"action": "implementer", "implementer_id": implementer.pk}, follow=True).content.decode()
    assert "执行机构已确定。" in done
    with hub_a:
        idea.refresh_from_db()
        assert idea.implementer_id == implementer.pk and idea.project_id is not None
    assert f'href="/projects/{idea.project_id}/"' in done and 'data-testid="set-implementer"' not in done
    assert implementer.name in reviewer.get(url).content.decode()


def test_a_closed_fairs_board_stops_refreshing(hub_a, cast_a, idea_at, client_for):
    with hub_a:
        idea = idea_at("at_fair", budget=50_000_00)
    url = f"/needs/fairs/{idea.fair_id}/board/"
    client = client_for(None, hub_a)
    assert 'hx-trigger="every 3s"' in client.get(url, HTTP_HX_REQUEST="true").content.decode()
    with hub_a:
        services.fair_transition(fair=idea.fair, status="closed", actor=cast_a.staff)
    # the next refresh replaces the board with one that no longer polls; the results stay on it
    closed = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert '<div id="board">' in closed
    assert "hx-trigger" not in closed and idea.title in closed
