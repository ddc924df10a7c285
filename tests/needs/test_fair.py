"""The matchmaking fair: claims in part and in full, matching with known numbers, money received, funded."""

from __future__ import annotations

import pytest

from hubs.ledger import selectors as ledger_selectors
from hubs.ledger.models import Account, LedgerTransaction
from hubs.needs import services
from hubs.needs.models import Claim, ClaimStatus, IdeaStatus
from huoban.discovery.models import DiscoveryOutbox
from huoban.errors import ApplicationError

pytestmark = pytest.mark.django_db


def test_claims_in_part_and_in_full_never_oversubscribe(hub_a, cast_a, idea_at, make_funder, client_for):
    a, b = make_funder("置地国际"), make_funder("南华期货")
    with hub_a:
        idea = idea_at("at_fair", budget=1_000_000)
    staff = client_for(cast_a.staff, hub_a)
    url = f"/api/v1/needs/fairs/{idea.fair_id}/claims"
    part = staff.post(url, {"idea": idea.pk, "funder_id": a.pk, "amount": 600_000}, content_type="application/json")
    assert part.status_code == 201 and part.json()[0]["amount"] == 600_000
    over = staff.post(url, {"idea": idea.pk, "funder_id": b.pk, "amount": 400_001}, content_type="application/json")
    assert (
        over.status_code == 409
        and over.json()["code"] == "oversubscribed"
        and over.json()["extra"]["remaining"] == 400_000
    )
    rest = staff.post(url, {"idea": idea.pk, "funder_id": b.pk, "amount": 400_000}, content_type="application/json")
    assert rest.status_code == 201
    board = client_for(None, hub_a).get(f"/api/v1/needs/fairs/{idea.fair_id}").json()
    assert (
        board["ideas"][0]["claimed"] == 1_000_000
        and board["ideas"][0]["remaining"] == 0
        and board["ideas"][0]["funders"] == 2
    )
    assert board["totals"]["fully_claimed"] == 1
    live = client_for(None, hub_a).get(f"/needs/fairs/{idea.fair_id}/board/", HTTP_HX_REQUEST="true")
    assert (
        live.status_code == 200 and 'hx-trigger="every 3s"' in live.content.decode() and "100" in live.content.decode()
    )


def test_funder_managers_claim_only_for_their_own_organisation(hub_a, cast_a, idea_at, make_funder, client_for):
    from huoban.identity.models import OrganisationMember

    funder, other = make_funder("华数"), make_funder("其他")
    owner = OrganisationMember.objects.get(organisation=funder).user
    with hub_a:
        idea = idea_at("at_fair", budget=5000)
    url = f"/api/v1/needs/fairs/{idea.fair_id}/claims"
    client = client_for(owner, hub_a)
    assert (
        client.post(
            url, {"idea": idea.pk, "funder_id": other.pk, "amount": 100}, content_type="application/json"
        ).status_code
        == 403
    )
    assert (
        client.post(
            url, {"idea": idea.pk, "funder_id": funder.pk, "amount": 100}, content_type="application/json"
        ).status_code
        == 201
    )
    assert (
        client_for(None, hub_a)
        .post(url, {"idea": idea.pk, "funder_id": funder.pk, "amount": 100}, content_type="application/json")
        .status_code
        == 401
    )
    not_partner = client_for(cast_a.staff, hub_a).post(
        url, {"idea": idea.pk, "funder_id": 999999, "amount": 100}, content_type="application/json"
    )
    assert not_partner.json()["code"] == "not_partner"


def test_matching_rule_with_known_numbers(hub_a, cast_a, idea_at, make_funder):
    matcher, a, b, c = make_funder("配捐基金会"), make_funder("甲"), make_funder("乙"), make_funder("丙")
    with hub_a:
        idea = idea_at("at_fair", budget=100_000)
        fair = idea.fair
        services.matching_rule_set(fair=fair, funder_id=matcher.pk, percent=100, cap=30_000, actor=cast_a.staff)
        first = services.claim_create(fair=fair, idea=idea, funder_id=a.pk, amount=20_000, actor=cast_a.staff)
        assert [(x.funder_id, x.amount) for x in first] == [(a.pk, 20_000), (matcher.pk, 20_000)]
        second = services.claim_create(fair=fair, idea=idea, funder_id=b.pk, amount=30_000, actor=cast_a.staff)
        assert [(x.funder_id, x.amount) for x in second] == [(b.pk, 30_000), (matcher.pk, 10_000)]  # cap reached
        third = services.claim_create(fair=fair, idea=idea, funder_id=c.pk, amount=20_000, actor=cast_a.staff)
        assert [(x.funder_id, x.amount) for x in third] == [(c.pk, 20_000)]
        assert services.idea_funding(idea) == sorted(
            [(matcher.pk, 30_000), (a.pk, 20_000), (b.pk, 30_000), (c.pk, 20_000)]
        )
        with pytest.raises(ApplicationError) as exc:
            services.claim_create(fair=fair, idea=idea, funder_id=c.pk, amount=1, actor=cast_a.staff)
        assert exc.value.code == "oversubscribed"
        # withdrawing a pledge withdraws the match it caused, and the money is open again
        services.claim_withdraw(claim=second[0], actor=cast_a.staff)
        assert Claim.objects.get(pk=second[1].pk).status == ClaimStatus.WITHDRAWN
        half = services.claim_create(fair=fair, idea=idea, funder_id=b.pk, amount=15_000, actor=cast_a.staff)
        assert [x.amount for x in half] == [15_000, 10_000]


def test_matching_is_limited_by_what_the_idea_still_needs(hub_a, cast_a, idea_at, make_funder):
    matcher, a = make_funder("配捐"), make_funder("甲")
    with hub_a:
        idea = idea_at("at_fair", budget=10_000)
        services.matching_rule_set(fair=idea.fair, funder_id=matcher.pk, percent=200, cap=100_000, actor=cast_a.staff)
        claims = services.claim_create(fair=idea.fair, idea=idea, funder_id=a.pk, amount=4_000, actor=cast_a.staff)
        assert [x.amount for x in claims] == [4_000, 6_000]


def test_pledge_agreement_money_received_and_funded(hub_a, cast_a, idea_at, make_funder, client_for):
    a, b = make_funder("甲"), make_funder("乙")
    with hub_a:
        idea = idea_at("at_fair", budget=300_000)
        claims = services.claim_create(fair=idea.fair, idea=idea, funder_id=a.pk, amount=100_000, actor=cast_a.staff)
        claims += services.claim_create(fair=idea.fair, idea=idea, funder_id=b.pk, amount=200_000, actor=cast_a.staff)
    treasurer = client_for(cast_a.treasurer, hub_a)
    early = treasurer.post(
        f"/api/v1/needs/claims/{claims[0].pk}/receive", {"receipt_ref": "SJ-1"}, content_type="application/json"
    )
    assert early.status_code == 409 and early.json()["code"] == "claim_not_agreed"
    assert client_for(cast_a.reviewer, hub_a).post(f"/api/v1/needs/claims/{claims[0].pk}/agree").status_code == 403
    for claim in claims:
        assert (
            treasurer.post(
                f"/api/v1/needs/claims/{claim.pk}/agree",
                {"agreement_ref": f"XY-{claim.pk}"},
                content_type="application/json",
            ).json()["status"]
            == "agreed"
        )
    no_ref = treasurer.post(
        f"/api/v1/needs/claims/{claims[0].pk}/receive", {"receipt_ref": ""}, content_type="application/json"
    )
    assert no_ref.status_code == 400 and no_ref.json()["code"] == "required"
    first = treasurer.post(
        f"/api/v1/needs/claims/{claims[0].pk}/receive", {"receipt_ref": "SJ-1"}, content_type="application/json"
    ).json()
    assert first["status"] == "received" and first["idea_status"] == "at_fair"
    second = treasurer.post(
        f"/api/v1/needs/claims/{claims[1].pk}/receive", {"receipt_ref": "SJ-2"}, content_type="application/json"
    ).json()
    assert second["idea_status"] == "funded"
    with hub_a:
        fund = Account.objects.get(code=f"4101/needs-idea:{idea.pk}")
        assert ledger_selectors.account_balance(account=fund) == 300_000
        assert LedgerTransaction.objects.filter(subject=f"needs-idea:{idea.pk}").count() == 2
        idea.refresh_from_db()
        assert idea.status == IdeaStatus.FUNDED and idea.funded_at is not None
        with pytest.raises(ApplicationError):
            services.claim_receive(claim=claims[0], actor=cast_a.treasurer, receipt_ref="again")
        assert ledger_selectors.account_balance(account=fund) == 300_000
    last = (
        DiscoveryOutbox.objects.filter(hub_id=hub_a.pk, source_app="needs", source_id=str(idea.pk))
        .order_by("-pk")
        .first()
    )
    assert last is not None and last.op == "unpublish"


def test_fair_publishes_and_seeking_funds_items_carry_the_remaining_amount(hub_a, cast_a, idea_at, make_funder):
    a = make_funder("甲")
    with hub_a:
        idea = idea_at("at_fair", budget=50_000)
        services.claim_create(fair=idea.fair, idea=idea, funder_id=a.pk, amount=20_000, actor=cast_a.staff)
    rows = DiscoveryOutbox.objects.filter(hub_id=hub_a.pk, source_app="needs").order_by("pk")
    kinds = [r.payload.get("kind") for r in rows if r.payload]
    assert "fair" in kinds and "project_seeking_funds" in kinds
    seeking = [r for r in rows if r.payload and r.payload.get("kind") == "project_seeking_funds"][-1]
    assert seeking.payload["amount"] == 30_000


def test_claims_need_an_open_fair(hub_a, cast_a, idea_at, make_funder):
    a = make_funder("甲")
    with hub_a:
        idea = idea_at("at_fair", budget=50_000)
        services.fair_transition(fair=idea.fair, status="closed", actor=cast_a.staff)
        with pytest.raises(ApplicationError) as exc:
            services.claim_create(fair=idea.fair, idea=idea, funder_id=a.pk, amount=1, actor=cast_a.staff)
        assert exc.value.code == "fair_not_open"


def test_outsider_gets_404_on_fair_staff_endpoints(hub_a, cast_a, idea_at, outsider, client_for):
    with hub_a:
        idea = idea_at("at_fair", budget=50_000)
    client = client_for(outsider, hub_a)
    assert client.post(f"/api/v1/needs/fairs/{idea.fair_id}/status", {"status": "closed"}).status_code == 404
    assert client.post("/api/v1/needs/claims/1/agree").status_code == 404
    assert client.post(f"/needs/fairs/{idea.fair_id}/status/", {"status": "closed"}).status_code == 404
    assert (
        client.post(
            f"/api/v1/needs/fairs/{idea.fair_id}/claims", {"idea": idea.pk, "funder_id": 1, "amount": 1}
        ).status_code
        == 403
    )
