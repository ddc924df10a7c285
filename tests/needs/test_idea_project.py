"""A fully claimed and received idea becomes a funded project; the money moves from the fair's books to the
project's exactly once, and the hub's ledger still balances."""

from __future__ import annotations

import pytest

from hubs.ledger import selectors as ledger_selectors
from hubs.ledger.chain import chain_verify
from hubs.ledger.models import Account
from hubs.needs import services
from hubs.needs.models import IdeaStatus
from hubs.projects.models import Project
from hubs.projects.selectors import project_money
from huoban.errors import ApplicationError

pytestmark = pytest.mark.django_db


def _claimed_and_received(hub, cast, idea_at, funders, budget):  # type: ignore[no-untyped-def]
    with hub:
        idea = idea_at("at_fair", budget=budget)
        share = budget // len(funders)
        claims = []
        for i, funder in enumerate(funders):
            amount = share if i < len(funders) - 1 else budget - share * (len(funders) - 1)
            claims += services.claim_create(
                fair=idea.fair, idea=idea, funder_id=funder.pk, amount=amount, actor=cast.staff
            )
        for claim in claims:
            services.claim_agree(claim=claim, actor=cast.treasurer, agreement_ref=f"XY-{claim.pk}")
        for claim in claims:
            services.claim_receive(claim=claim, actor=cast.treasurer, receipt_ref=f"SJ-{claim.pk}")
        idea.refresh_from_db()
        return idea


def _bank_balance() -> int:
    return ledger_selectors.account_balance(account=Account.objects.get(code="1002"))


def test_a_funded_idea_with_an_implementer_becomes_a_funded_project(hub_a, cast_a, idea_at, make_funder):
    implementer = make_funder("成都市锦江区社区服务中心")
    a, b = make_funder("置地国际"), make_funder("南华期货")
    with hub_a:
        idea = idea_at("at_fair", budget=300_000)
        services.idea_implementer_set(idea=idea, implementer_id=implementer.pk, actor=cast_a.staff)
        for funder, amount in ((a, 100_000), (b, 200_000)):
            for claim in services.claim_create(
                fair=idea.fair, idea=idea, funder_id=funder.pk, amount=amount, actor=cast_a.staff
            ):
                services.claim_agree(claim=claim, actor=cast_a.treasurer, agreement_ref="XY")
                services.claim_receive(claim=claim, actor=cast_a.treasurer, receipt_ref="SJ")
        idea.refresh_from_db()
        assert idea.status == IdeaStatus.FUNDED and idea.project_id is not None

        project = Project.objects.get(pk=idea.project_id)
        assert (project.status, project.source, project.implementer_id) == (
            "funded",
            f"needs-idea:{idea.pk}",
            implementer.pk,
        )
        money = project_money(project=project)
        assert money.received == money.held == 300_000
        assert sorted((f["funder_id"], f["received"], f["restricted"]) for f in money.by_funder) == sorted(
            [(a.pk, 100_000, True), (b.pk, 200_000, True)]
        )
        # The fair's books hand the money over: nothing is counted twice.
        idea_income = Account.objects.get(code=f"4101/needs-idea:{idea.pk}")
        assert ledger_selectors.account_balance(account=idea_income) == 0
        assert _bank_balance() == 0
        assert chain_verify().ok


def test_a_funded_idea_waits_for_its_implementer_then_becomes_the_project(
    hub_a, cast_a, idea_at, make_funder, client_for
):
    funder = make_funder("华数")
    idea = _claimed_and_received(hub_a, cast_a, idea_at, [funder], 50_000)
    assert idea.status == IdeaStatus.FUNDED and idea.project_id is None
    with hub_a:
        assert _bank_balance() == 50_000  # still on the fair's books

    implementer = make_funder("上城区邻里互助会")
    staff = client_for(cast_a.staff, hub_a)
    url = f"/api/v1/needs/ideas/{idea.pk}/implementer"
    assert client_for(cast_a.reviewer, hub_a).post(url, {"implementer_id": implementer.pk}).status_code == 403
    response = staff.post(url, {"implementer_id": implementer.pk}, content_type="application/json")
    assert response.status_code == 200, response.content
    project_id = response.json()["project_id"]
    with hub_a:
        project = Project.objects.get(pk=project_id)
        assert project.status == "funded" and project_money(project=project).received == 50_000
        assert _bank_balance() == 0
    again = staff.post(url, {"implementer_id": implementer.pk}, content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "idea_has_project"
    with hub_a:
        assert Project.objects.filter(source=f"needs-idea:{idea.pk}").count() == 1


def test_the_implementer_must_be_an_active_partner(hub_a, cast_a, idea_at):
    from huoban.identity.models import Organisation

    not_a_partner = Organisation.objects.get(members__user=cast_a.ngo_member)
    with hub_a:
        idea = idea_at("at_fair", budget=10_000)
        with pytest.raises(ApplicationError):
            services.idea_implementer_set(idea=idea, implementer_id=not_a_partner.pk, actor=cast_a.staff)
        idea.refresh_from_db()
        assert idea.implementer_id is None
