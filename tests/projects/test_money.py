"""Money flows: receipts, two-approval tranches, expenses with receipts, restricted money, the conflict rules."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from hubs.ledger import services as ledger
from hubs.ledger.models import Account, AccountKind
from hubs.ledger.services import Line
from hubs.projects import services
from hubs.projects.models import Tranche
from hubs.projects.selectors import funds_timeline, project_money
from huoban.errors import ApplicationError
from tests.projects.conftest import make_world, pdf, person

ROLES = ["hub_admin", "staff", "ambassador", "implementer", "funder", "outsider"]
STAFFLIKE = {"hub_admin", "staff"}


def _user(role, cast_a, cast_b, w):  # type: ignore[no-untyped-def]
    return {
        "hub_admin": cast_a.hub_admin,
        "staff": cast_a.staff,
        "ambassador": cast_a.ambassador,
        "implementer": w.implementer_member,
        "funder": w.funder_member,
        "outsider": cast_b.hub_admin,
    }[role]


def _capacity(role: str, other: str) -> str:
    if role == "ambassador":
        return "ambassador"
    if role in STAFFLIKE:
        return "staff"
    return "ambassador" if other in STAFFLIKE else "staff"  # claim the slot that would complete the pair


@pytest.mark.parametrize(("first", "second"), list(itertools.product(ROLES, ROLES)))
def test_two_approval_matrix(hub_a, cast_a, cast_b, first, second):
    w = make_world(hub_a, cast_a)
    expect_release = first != second and {first, second} & {"ambassador"} and {first, second} & STAFFLIKE
    with hub_a:
        tranche = services.tranche_request(
            project=w.project,
            title="第一期",
            amount=10000,
            budget_line=w.line,
            funding_source=w.source,
            actor=cast_a.staff,
        )
        codes, statuses = [], []
        for role, other in ((first, second), (second, first)):
            try:
                services.tranche_review(
                    tranche=tranche,
                    user=_user(role, cast_a, cast_b, w),
                    capacity=_capacity(role, other),
                    decision="approve",
                )
            except ApplicationError as exc:
                codes.append(exc.code)
                statuses.append(exc.status)
        assert set(statuses) <= {401, 403, 409}
        tranche.refresh_from_db()
        money = project_money(project=w.project)
        if expect_release:
            assert codes == [] and tranche.status == "released"
            assert money.advance == 10000 and money.held == 1_000_000 - 10000
        else:
            assert tranche.status != "released" and tranche.transaction_id is None
            assert money.advance == 0 and money.held == 1_000_000
            if "implementer" in (first, second):
                assert "conflict_of_interest" in codes
            if first == second and first in STAFFLIKE | {"ambassador"}:
                # the same person twice in the same slot: their one approval stands, nothing is released
                assert tranche.ambassador_approver_id is None or tranche.staff_approver_id is None


def test_same_person_holding_both_roles_cannot_approve_twice(hub_a, cast_a):
    from hubs.core.services import membership_grant

    w = make_world(hub_a, cast_a)
    both = person("both")
    with hub_a:
        membership_grant(user=both, roles=["staff", "ambassador"], actor=None)
        services.ambassador_assign(project=w.project, user=both, actor=cast_a.staff)
        tranche = services.tranche_request(
            project=w.project, title="一期", amount=100, budget_line=w.line, funding_source=w.source, actor=cast_a.staff
        )
        services.tranche_review(tranche=tranche, user=both, capacity="ambassador", decision="approve")
        with pytest.raises(ApplicationError) as exc:
            services.tranche_review(tranche=tranche, user=both, capacity="staff", decision="approve")
        assert exc.value.code == "same_person"
        tranche.refresh_from_db()
        assert tranche.status == "requested" and tranche.staff_approver_id is None


def test_staff_member_from_the_implementing_organisation_cannot_approve(hub_a, cast_a):
    from huoban.identity.services import organisation_member_add

    w = make_world(hub_a, cast_a)
    with hub_a:
        organisation_member_add(
            organisation=w.implementer, user=cast_a.staff, role="member", actor=w.implementer_member
        )
        tranche = services.tranche_request(
            project=w.project,
            title="一期",
            amount=100,
            budget_line=w.line,
            funding_source=w.source,
            actor=cast_a.hub_admin,
        )
        with pytest.raises(ApplicationError) as exc:
            services.tranche_review(tranche=tranche, user=cast_a.staff, capacity="staff", decision="approve")
        assert exc.value.code == "conflict_of_interest"


def test_unassigned_ambassador_cannot_approve(hub_a, cast_a):
    from hubs.core.services import membership_grant

    w = make_world(hub_a, cast_a)
    other = person("amb2")
    with hub_a:
        membership_grant(user=other, roles=["ambassador"], actor=None)
        tranche = services.tranche_request(
            project=w.project, title="一期", amount=100, budget_line=w.line, funding_source=w.source, actor=cast_a.staff
        )
        with pytest.raises(ApplicationError) as exc:
            services.tranche_review(tranche=tranche, user=other, capacity="ambassador", decision="approve")
        assert exc.value.code == "not_assigned_ambassador"


@pytest.mark.parametrize("who", ["implementer", "funder"])
def test_ambassador_from_implementer_or_funder_cannot_be_assigned(hub_a, cast_a, who):
    from hubs.core.services import membership_grant

    w = make_world(hub_a, cast_a)
    member = w.implementer_member if who == "implementer" else w.funder_member
    with hub_a:
        membership_grant(user=member, roles=["ambassador"], actor=None)
        with pytest.raises(ApplicationError) as exc:
            services.ambassador_assign(project=w.project, user=member, actor=cast_a.staff)
        assert exc.value.code == "conflict_of_interest"
        assert not w.project.ambassadors.filter(user_id=member.pk).exists()


def test_a_query_holds_the_tranche_and_clears_approvals(hub_a, cast_a):
    w = make_world(hub_a, cast_a)
    with hub_a:
        t = services.tranche_request(
            project=w.project, title="一期", amount=100, budget_line=w.line, funding_source=w.source, actor=cast_a.staff
        )
        services.tranche_review(tranche=t, user=cast_a.staff, capacity="staff", decision="approve")
        with pytest.raises(ApplicationError) as exc:
            services.tranche_review(tranche=t, user=cast_a.ambassador, capacity="ambassador", decision="query")
        assert exc.value.code == "note_required"
        t = services.tranche_review(
            tranche=t, user=cast_a.ambassador, capacity="ambassador", decision="query", note="请补充签到表"
        )
        assert t.status == "queried" and t.staff_approver_id is None
        services.tranche_review(tranche=t, user=cast_a.ambassador, capacity="ambassador", decision="approve")
        t = services.tranche_review(tranche=t, user=cast_a.staff, capacity="staff", decision="approve")
        assert t.status == "released"


def _release(w, cast_a, amount, **kw):  # type: ignore[no-untyped-def]
    t = services.tranche_request(
        project=w.project,
        title="拨付",
        amount=amount,
        budget_line=kw.get("line", w.line),
        funding_source=kw.get("source", w.source),
        actor=cast_a.staff,
    )
    services.tranche_review(tranche=t, user=cast_a.ambassador, capacity="ambassador", decision="approve")
    return services.tranche_review(tranche=t, user=cast_a.staff, capacity="staff", decision="approve")


def test_expense_with_receipt_moves_money_and_timeline_balances(hub_a, cast_a):
    w = make_world(hub_a, cast_a, fund=50000)
    with hub_a:
        _release(w, cast_a, 30000)
        with pytest.raises(ApplicationError) as exc:
            services.expense_report(
                project=w.project,
                budget_line=w.line,
                amount=100,
                description="无票",
                spent_on=date(2026, 2, 1),
                receipt=None,
                actor=w.implementer_member,
            )
        assert exc.value.code == "receipt_required"
        with pytest.raises(ApplicationError) as exc:
            services.expense_report(
                project=w.project,
                budget_line=w.line,
                amount=30001,
                description="超支",
                spent_on=date(2026, 2, 1),
                receipt=pdf(),
                actor=w.implementer_member,
            )
        assert exc.value.code == "insufficient_funds"
        expense = services.expense_report(
            project=w.project,
            budget_line=w.line,
            amount=12000,
            description="采购食材",
            spent_on=date.today(),
            receipt=pdf(),
            actor=w.implementer_member,
        )
        assert expense.receipt_file_id is not None
        money = project_money(project=w.project)
        assert (money.received, money.disbursed, money.spent, money.held, money.advance, money.balance) == (
            50000,
            30000,
            12000,
            20000,
            18000,
            38000,
        )
        rows = funds_timeline(project=w.project)
        assert [r.kind for r in rows] == ["in", "tranche", "expense"]
        assert rows[-1].balance == 38000
        reviewed = services.expense_review(
            expense=expense, user=cast_a.ambassador, capacity="ambassador", decision="approve"
        )
        assert reviewed.status == "accepted"
        with pytest.raises(ApplicationError) as exc:
            services.expense_review(expense=expense, user=w.implementer_member, capacity="staff", decision="approve")
        assert exc.value.code == "conflict_of_interest"


def test_restricted_money_only_pays_its_projects_lines(hub_a, cast_a):
    a = make_world(hub_a, cast_a, fund=10000)
    b = make_world(hub_a, cast_a, fund=10000)
    with hub_a:
        # the service refuses another project's source or line
        for kwargs in (
            {"funding_source": b.source, "budget_line": a.line},
            {"funding_source": a.source, "budget_line": b.line},
        ):
            with pytest.raises(ApplicationError) as exc:
                services.tranche_request(project=a.project, title="x", amount=100, actor=cast_a.staff, **kwargs)
            assert exc.value.code == "wrong_project"
        # and the ledger itself refuses paying B's line (or anything else) from A's restricted fund
        sink = ledger.account_create(code=f"sink-{a.project.pk}", name="sink", kind=AccountKind.EXPENSE, actor=None)
        for purpose in (b.line.purpose, "", "pool:1"):
            with pytest.raises(ApplicationError) as exc:
                ledger.transaction_post(
                    idempotency_key=f"steal-{a.project.pk}-{purpose}",
                    lines=[Line.debit(sink, 100), Line.credit(a.source.account_id, 100, purpose=purpose)],
                    actor=None,
                )
            assert exc.value.code == "restricted_funds"
        assert Account.objects.get(pk=a.source.account_id).restricted_to == a.project.subject
        _release(a, cast_a, 4000)
        assert project_money(project=a.project).held == 6000
        assert project_money(project=b.project).held == 10000


def test_tranche_beyond_the_fund_is_refused_with_a_translated_message(hub_a, cast_a):
    from django.utils import translation

    w = make_world(hub_a, cast_a, fund=5000)
    with hub_a:
        t = services.tranche_request(
            project=w.project,
            title="一期",
            amount=6000,
            budget_line=w.line,
            funding_source=w.source,
            actor=cast_a.staff,
        )
        services.tranche_review(tranche=t, user=cast_a.ambassador, capacity="ambassador", decision="approve")
        with translation.override("en"), pytest.raises(ApplicationError) as exc:
            services.tranche_review(tranche=t, user=cast_a.staff, capacity="staff", decision="approve")
        assert exc.value.code == "insufficient_funds"
        assert "Not enough funds" in str(exc.value.message) and "¥50.00" in str(exc.value.message)
        t.refresh_from_db()
        assert t.status == "requested" and t.staff_approver_id is None  # the approval was rolled back too
        assert Tranche.objects.get(pk=t.pk).transaction_id is None
