"""Every rule of the pool, each refusal with its reason and nothing changed."""

from __future__ import annotations

import pytest

from hubs.ledger.models import LedgerTransaction
from hubs.partners.models import PartnershipStatus
from hubs.pool import selectors, services
from hubs.pool.models import Guarantee, LoanStatus, MemberStatus, PoolMember
from huoban.errors import ApplicationError
from tests.pool.helpers import apply, approve, join, partner_org, person

pytestmark = pytest.mark.django_db


def refused(call, code: str) -> ApplicationError:  # type: ignore[no-untyped-def]
    before = LedgerTransaction.objects.count()
    with pytest.raises(ApplicationError) as exc:
        call()
    assert exc.value.code == code, (exc.value.code, str(exc.value))
    assert LedgerTransaction.objects.count() == before
    return exc.value


# --- joining ------------------------------------------------------------------------------------------------------


def test_only_active_partners_of_long_enough_standing_may_join(world):  # type: ignore[no-untyped-def]
    services.rules_update(pool=world.pool, actor=world.staff, changes={"min_partnership_months": 6})
    new_org, new_owner = partner_org(months=2)
    error = refused(
        lambda: services.member_apply(pool=world.pool, organisation=new_org, actor=new_owner), "not_eligible"
    )
    assert "6" in str(error)
    suspended, owner = partner_org(months=24, status=PartnershipStatus.SUSPENDED)
    refused(lambda: services.member_apply(pool=world.pool, organisation=suspended, actor=owner), "not_eligible")
    veteran, owner = partner_org(months=7)
    member = services.member_apply(pool=world.pool, organisation=veteran, actor=owner)
    assert member.status == MemberStatus.APPLIED
    refused(lambda: services.member_apply(pool=world.pool, organisation=veteran, actor=owner), "not_eligible")
    assert PoolMember.objects.filter(organisation=veteran).count() == 1


def test_only_the_organisations_people_apply_and_only_the_committee_decides(world):  # type: ignore[no-untyped-def]
    org, owner = partner_org()
    refused(lambda: services.member_apply(pool=world.pool, organisation=org, actor=person()), "not_organisation_member")
    member = services.member_apply(pool=world.pool, organisation=org, actor=owner)
    refused(lambda: services.member_decide(member=member, approve=True, actor=world.treasurer), "pool_role_required")
    refused(lambda: services.member_decide(member=member, approve=True, actor=world.staff), "pool_role_required")
    member = services.member_decide(member=member, approve=True, actor=world.committee[1])
    assert member.status == MemberStatus.ACTIVE and member.equity_account is not None


def test_contributions_need_the_treasurer_a_member_and_a_positive_amount(world):  # type: ignore[no-untyped-def]
    member, _owner = join(world)
    refused(
        lambda: services.contribution_record(member=member, amount=100, actor=world.committee[0]), "pool_role_required"
    )
    refused(lambda: services.contribution_record(member=member, amount=0, actor=world.treasurer), "invalid_amount")
    refused(lambda: services.contribution_record(member=member, amount=-5, actor=world.treasurer), "invalid_amount")
    services.contribution_record(member=member, amount=150_000, actor=world.treasurer, key="ICBC-0001")
    services.contribution_record(member=member, amount=150_000, actor=world.treasurer, key="ICBC-0001")
    assert selectors.member_equity(member=member) == 150_000


# --- limits -------------------------------------------------------------------------------------------------------


def test_limit_is_a_multiple_of_own_contribution_under_the_cap(world):  # type: ignore[no-untyped-def]
    services.rules_update(
        pool=world.pool,
        actor=world.staff,
        changes={"limit_multiple_pct": 200, "limit_cap": 300_000, "lendable_share_pct": 100},
    )
    member, owner = join(world, equity=100_000)
    join(world, equity=5_000_000)
    assert services.member_limit(member=member, rules=world.pool.rules) == 200_000
    error = refused(lambda: apply(world, member, owner, 200_001), "over_member_limit")
    assert "¥2,000.00" in str(error)
    services.contribution_record(member=member, amount=900_000, actor=world.treasurer)
    refused(lambda: apply(world, member, owner, 300_001), "over_member_limit")
    assert apply(world, member, owner, 300_000).status == LoanStatus.APPLIED


def test_only_the_lendable_share_of_the_pool_may_be_lent(world):  # type: ignore[no-untyped-def]
    services.rules_update(
        pool=world.pool, actor=world.staff, changes={"lendable_share_pct": 50, "limit_multiple_pct": 1000}
    )
    member, owner = join(world, equity=1_000_000)
    assert selectors.pool_figures(pool=world.pool).available == 500_000
    refused(lambda: apply(world, member, owner, 500_001), "over_pool_available")
    assert apply(world, member, owner, 500_000)


def test_one_open_loan_per_member(world):  # type: ignore[no-untyped-def]
    member, owner = join(world, equity=1_000_000)
    apply(world, member, owner, 100_000)
    refused(lambda: apply(world, member, owner, 100_000), "open_loan")
    services.rules_update(pool=world.pool, actor=world.staff, changes={"one_open_loan": False})
    assert apply(world, member, owner, 100_000)


def test_a_loan_keeps_the_rules_it_was_approved_under(world):  # type: ignore[no-untyped-def]
    member, owner = join(world, equity=1_000_000)
    loan = approve(world, apply(world, member, owner, 100_000))
    services.rules_update(pool=world.pool, actor=world.staff, changes={"term_days": 30, "fee_bps": 300}, note="收紧")
    loan = services.loan_disburse(loan=loan, actor=world.treasurer)
    assert loan.rules.version == 1 and loan.fee == 0
    assert (loan.installments.get().due_on - loan.disbursed_on).days == 180
    assert [r.version for r in world.pool.rule_versions.all()] == [2, 1]


def test_rule_values_are_checked(world):  # type: ignore[no-untyped-def]
    refused(
        lambda: services.rules_update(pool=world.pool, actor=world.staff, changes={"lendable_share_pct": 101}),
        "invalid_rule",
    )
    refused(lambda: services.rules_update(pool=world.pool, actor=world.staff, changes={"quorum": "3"}), "invalid_rule")
    refused(
        lambda: services.rules_update(pool=world.pool, actor=world.treasurer, changes={"quorum": 2}), "role_required"
    )
    assert world.pool.rules.version == 1


# --- votes --------------------------------------------------------------------------------------------------------


def test_quorum_and_threshold_decide(make_world):  # type: ignore[no-untyped-def]
    world = make_world(committee_size=5, quorum=4, approval_threshold_pct=75)
    member, owner = join(world, equity=1_000_000)
    loan = apply(world, member, owner, 100_000)
    for voter in world.committee[:3]:
        assert services.loan_vote(loan=loan, actor=voter, approve=True).loan.status == LoanStatus.APPLIED
    # 3 of 4 = 75%: approved.
    assert services.loan_vote(loan=loan, actor=world.committee[3], approve=False).loan.status == LoanStatus.APPROVED
    refused(lambda: services.loan_vote(loan=loan, actor=world.committee[4], approve=True), "invalid_state")

    other, other_owner = join(world, equity=1_000_000)
    loan = apply(world, other, other_owner, 100_000)
    for i, yes in enumerate([True, True, False, False]):
        decided = services.loan_vote(loan=loan, actor=world.committee[i], approve=yes)
    assert decided.loan.status == LoanStatus.REJECTED  # 2 of 4 = 50% < 75%


def test_only_committee_members_vote_once_and_never_for_their_own_organisation(world):  # type: ignore[no-untyped-def]
    member, owner = join(world, equity=1_000_000)
    loan = apply(world, member, owner, 100_000)
    refused(lambda: services.loan_vote(loan=loan, actor=world.treasurer, approve=True), "pool_role_required")
    refused(lambda: services.loan_vote(loan=loan, actor=owner, approve=True), "pool_role_required")
    # A committee member who works for the applicant organisation: the conflict is refused, even with a seat.
    from huoban.identity.models import OrganisationMember

    OrganisationMember.objects.create(organisation_id=member.organisation_id, user=world.committee[0], role="member")
    refused(lambda: services.loan_vote(loan=loan, actor=world.committee[0], approve=True), "conflict_of_interest")
    services.loan_vote(loan=loan, actor=world.committee[1], approve=True)
    refused(lambda: services.loan_vote(loan=loan, actor=world.committee[1], approve=True), "already_voted")
    assert selectors.loans_to_vote(pool=world.pool, user=world.committee[0]).count() == 0
    assert list(selectors.loans_to_vote(pool=world.pool, user=world.committee[2])) == [loan]


# --- guarantors ---------------------------------------------------------------------------------------------------


def test_guarantors_equity_is_held_and_applied_on_write_off(world):  # type: ignore[no-untyped-def]
    services.rules_update(
        pool=world.pool, actor=world.staff, changes={"guarantors_required": 2, "guarantee_hold_pct": 50}
    )
    borrower, owner = join(world, equity=400_000)
    g1, _o1 = join(world, equity=300_000)
    g2, _o2 = join(world, equity=100_000)
    refused(lambda: apply(world, borrower, owner, 400_000, guarantors=[g1]), "guarantors_required")
    refused(lambda: apply(world, borrower, owner, 400_000, guarantors=[g1, borrower]), "invalid_guarantor")
    # 50% of 400,000 = 200,000, 100,000 each; g2 has 100,000 free: enough. 401,000 would need 100,250 from g2.
    refused(lambda: apply(world, borrower, owner, 401_000, guarantors=[g1, g2]), "guarantor_equity")
    loan = approve(world, apply(world, borrower, owner, 400_000, guarantors=[g1, g2]))
    assert selectors.member_held(member=g1) == 100_000 and selectors.member_held(member=g2) == 100_000
    error = refused(lambda: services.member_leave(member=g2, actor=world.treasurer), "guarantee_held")
    assert "¥1,000.00" in str(error)

    loan = services.loan_disburse(loan=loan, actor=world.treasurer)
    services.repayment_record(loan=loan, amount=50_000, actor=world.treasurer)
    refused(lambda: services.loan_write_off(loan=loan, actor=world.committee[0], reason=""), "required")
    loan = services.loan_write_off(loan=loan, actor=world.committee[0], reason="2016-09 委员会第 3 次会议决议")
    assert loan.status == LoanStatus.WRITTEN_OFF
    assert sorted(Guarantee.objects.filter(loan=loan).values_list("applied_amount", flat=True)) == [100_000, 100_000]
    figures = selectors.pool_figures(pool=world.pool)
    assert figures.writeoffs == 150_000 and figures.loans == 0
    assert figures.assets == figures.funds
    assert selectors.member_equity(member=g2) == 0 and selectors.member_held(member=g2) == 0


# --- leaving ------------------------------------------------------------------------------------------------------


def test_leaving_returns_equity_minus_what_is_owed(world):  # type: ignore[no-untyped-def]
    member, owner = join(world, equity=500_000)
    join(world, equity=1_000_000)
    loan = services.loan_disburse(loan=approve(world, apply(world, member, owner, 300_000)), actor=world.treasurer)
    result = services.member_leave(member=member, actor=world.treasurer)
    assert (result.offset, result.paid_out) == (300_000, 200_000)
    loan.refresh_from_db()
    assert loan.status == LoanStatus.REPAID
    figures = selectors.pool_figures(pool=world.pool)
    assert (figures.cash, figures.loans, figures.equity) == (1_000_000, 0, 1_000_000)


def test_a_member_owing_more_than_its_equity_cannot_leave(world):  # type: ignore[no-untyped-def]
    services.rules_update(pool=world.pool, actor=world.staff, changes={"limit_multiple_pct": 400})
    member, owner = join(world, equity=100_000)
    join(world, equity=1_000_000)
    services.loan_disburse(loan=approve(world, apply(world, member, owner, 250_000)), actor=world.treasurer)
    refused(lambda: services.member_leave(member=member, actor=world.treasurer), "owes_more_than_equity")
    member.refresh_from_db()
    assert member.status == MemberStatus.ACTIVE
