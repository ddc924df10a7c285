"""Review: assignment by hand and automatically, conflict exclusion, declarations, scoring with known numbers,
aggregation, spread and outliers, determinations within the budget, and awards."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from hubs.calls import selectors, services
from hubs.calls.models import Award, ReviewAssignment
from hubs.core.services import membership_grant
from hubs.partners import services as partners
from hubs.partners.models import Partnership
from huoban.errors import ApplicationError
from huoban.identity.models import OrganisationMember, OrganisationRole
from huoban.identity.services import user_create
from tenants.applications.models import ApplicationIndex
from tests.conftest import PASSWORD


@pytest.fixture
def reviewers(hub_a):  # type: ignore[no-untyped-def]
    """Four more reviewers in hub A (with the cast's reviewer: five)."""
    people = []
    with hub_a:
        for i in range(4):
            user = user_create(name=f"专家{i}", email=f"expert{i}@a.test", password=PASSWORD, email_verified=True)
            membership_grant(user=user, roles=["reviewer"], actor=None)
            people.append(user)
    return people


def _screened(hub, staff, app):  # type: ignore[no-untyped-def]
    with hub:
        return services.application_screen(application=app, actor=staff, eligible=True)


def _activate(hub, staff, org):  # type: ignore[no-untyped-def]
    with hub:
        p = Partnership.objects.get(organisation=org)
        partners.partnership_review_start(partnership=p, actor=staff)
        partners.partnership_approve(partnership=p, actor=staff)


def _score(hub, assignment, user, values, submit=True):  # type: ignore[no-untyped-def]
    with hub:
        criteria = list(assignment.call.criteria.all())
        services.review_declare(assignment=assignment, actor=user, conflict=False)
        return services.review_score(
            assignment=assignment,
            actor=user,
            scores=[services.ScoreInput(c.pk, v, f"意见{v}") for c, v in zip(criteria, values, strict=True)],
            submit=submit,
        )


def test_member_of_applicant_is_excluded_by_hand_and_automatically(hub_a, cast_a, ngo_org_a, submitted, reviewers):
    app = _screened(hub_a, cast_a.staff, submitted())
    insider = reviewers[0]
    OrganisationMember.objects.create(organisation=ngo_org_a, user=insider, role=OrganisationRole.MEMBER)
    with hub_a:
        with pytest.raises(ApplicationError) as exc:
            services.reviewer_assign(application=app, reviewer=insider, actor=cast_a.staff)
        assert exc.value.code == "conflict_of_interest" and "成员" in str(exc.value.message)
        made = services.reviewers_auto_assign(call=app.call, actor=cast_a.staff, per_application=5)
        assigned = set(ReviewAssignment.objects.filter(application=app).values_list("reviewer_id", flat=True))
    assert made == 4 and insider.pk not in assigned


def test_declared_tie_excludes_now_and_later(hub_a, cast_a, ngo_org_a, make_call, submitted, reviewers):
    app = _screened(hub_a, cast_a.staff, submitted())
    with hub_a:
        assignment = services.reviewer_assign(application=app, reviewer=reviewers[1], actor=cast_a.staff)
        with pytest.raises(ApplicationError) as exc:  # nothing to score before declaring
            services.review_score(assignment=assignment, actor=reviewers[1], scores=[])
        assert exc.value.code == "declaration_required"
        services.review_declare(assignment=assignment, actor=reviewers[1], conflict=True, note="曾任该机构理事")
        with pytest.raises(ApplicationError) as exc:
            services.review_score(assignment=assignment, actor=reviewers[1], scores=[])
        assert exc.value.code == "conflict_of_interest"
    second = _screened(hub_a, cast_a.staff, submitted(call=make_call(title_zh="第二期")))
    with hub_a:
        with pytest.raises(ApplicationError) as exc:
            services.reviewer_assign(application=second, reviewer=reviewers[1], actor=cast_a.staff)
        assert "声明" in str(exc.value.message)
        services.reviewers_auto_assign(call=second.call, actor=cast_a.staff, per_application=5)
        assert not ReviewAssignment.objects.filter(application=second, reviewer_id=reviewers[1].pk).exists()


def test_someone_else_cannot_declare_or_score_my_assignment(hub_a, cast_a, submitted, reviewers):
    app = _screened(hub_a, cast_a.staff, submitted())
    with hub_a:
        assignment = services.reviewer_assign(application=app, reviewer=reviewers[0], actor=cast_a.staff)
        with pytest.raises(ApplicationError) as exc:
            services.review_declare(assignment=assignment, actor=reviewers[1], conflict=False)
        assert exc.value.status == 404


def test_auto_assignment_balances_load(hub_a, cast_a, make_call, make_org, submitted, reviewers):
    call = make_call()
    for i in range(5):
        owner = user_create(name=f"负责人{i}", email=f"lead{i}@bal.test", password=PASSWORD)
        org = make_org(owner, name=f"均衡测试组织{i}", region="510104")
        _screened(hub_a, cast_a.staff, submitted(call=call, org=org, owner=owner))
    with hub_a:
        made = services.reviewers_auto_assign(call=call, actor=cast_a.staff, per_application=3)
        loads = sorted(
            ReviewAssignment.objects.filter(call=call)
            .values("reviewer_id")
            .annotate(n=__import__("django").db.models.Count("id"))
            .values_list("n", flat=True)
        )
        again = services.reviewers_auto_assign(call=call, actor=cast_a.staff, per_application=3)
    assert made == 15 and loads == [3, 3, 3, 3, 3] and again == 0


def test_weighted_scores_aggregate_with_known_numbers(hub_a, cast_a, submitted, reviewers):
    app = _screened(hub_a, cast_a.staff, submitted())
    with hub_a:
        a1, a2, a3 = (services.reviewer_assign(application=app, reviewer=r, actor=cast_a.staff) for r in reviewers[:3])
    # Rubric: 需求与设计 weight 60 out of 10, 团队与预算 weight 40 out of 5.
    assert _score(hub_a, a1, reviewers[0], [8, 4]).total == Decimal("80.00")  # (0.8*60 + 0.8*40)
    assert _score(hub_a, a2, reviewers[1], [10, 5]).total == Decimal("100.00")
    assert _score(hub_a, a3, reviewers[2], [3, 1]).total == Decimal("26.00")  # 0.3*60 + 0.2*40
    with hub_a:
        row = selectors.ranking(call=app.call).get(pk=app.pk)
        assert row.score.quantize(Decimal("0.01")) == Decimal("68.67")
        assert (row.low, row.high, row.spread, row.reviews) == (
            Decimal("26.00"),
            Decimal("100.00"),
            Decimal("74.00"),
            3,
        )
        totals = selectors.reviewer_totals(application=app)
    # mean 68.67: 80 is 11.33 away (fine), 100 is 31.33 and 26 is 42.67 away (outliers)
    assert [(t.total, t.outlier) for t in totals] == [
        (Decimal("80.00"), False),
        (Decimal("100.00"), True),
        (Decimal("26.00"), True),
    ]


def test_scores_are_checked_and_submission_needs_every_criterion(hub_a, cast_a, submitted, reviewers):
    app = _screened(hub_a, cast_a.staff, submitted())
    with hub_a:
        assignment = services.reviewer_assign(application=app, reviewer=reviewers[0], actor=cast_a.staff)
        services.review_declare(assignment=assignment, actor=reviewers[0], conflict=False)
        first = app.call.criteria.first()
        with pytest.raises(ApplicationError) as exc:
            services.review_score(assignment=assignment, actor=reviewers[0], scores=[services.ScoreInput(first.pk, 11)])
        assert exc.value.code == "invalid_score"
        with pytest.raises(ApplicationError) as exc:
            services.review_score(
                assignment=assignment, actor=reviewers[0], scores=[services.ScoreInput(first.pk, 7)], submit=True
            )
        assert exc.value.code == "scores_incomplete"
        assert assignment.scores.count() == 0  # the refused submission saved nothing


def test_ranking_orders_by_mean_score(hub_a, cast_a, make_call, make_org, submitted, reviewers):
    call = make_call()
    apps = []
    for i, values in enumerate([[5, 2], [9, 5], [7, 3]]):
        owner = user_create(name=f"排名{i}", email=f"rank{i}@a.test", password=PASSWORD)
        app = _screened(
            hub_a, cast_a.staff, submitted(call=call, org=make_org(owner, name=f"排名组织{i}"), owner=owner)
        )
        with hub_a:
            assignment = services.reviewer_assign(application=app, reviewer=reviewers[0], actor=cast_a.staff)
        _score(hub_a, assignment, reviewers[0], values)
        apps.append(app)
    with hub_a:
        ranked = list(selectors.ranking(call=call))
    assert [a.pk for a in ranked] == [apps[1].pk, apps[2].pk, apps[0].pk]


def test_determinations_and_award(hub_a, cast_a, ngo_org_a, make_call, submitted, django_capture_on_commit_callbacks):
    call = make_call(funder_id=None, show_reviewer_comments=True)
    app = _screened(hub_a, cast_a.staff, submitted(call=call))
    with hub_a:
        services.call_transition(call=call, to="closed", actor=cast_a.staff)
        services.call_transition(call=call, to="in_review", actor=cast_a.staff)
        with pytest.raises(ApplicationError) as exc:  # not yet an active partner
            services.application_determine(application=app, actor=cast_a.staff, outcome="approve", amount=30_000_00)
        assert exc.value.code == "not_active_partner"
    _activate(hub_a, cast_a.staff, ngo_org_a)
    mail.outbox.clear()
    with hub_a:
        with pytest.raises(ApplicationError) as exc:
            services.application_determine(application=app, actor=cast_a.staff, outcome="approve", amount=40_000_01)
        assert exc.value.code == "over_cap"
        with pytest.raises(ApplicationError) as exc:
            services.application_determine(application=app, actor=cast_a.staff, outcome="reject")
        assert exc.value.code == "reason_required"
        with django_capture_on_commit_callbacks(execute=True):
            app = services.application_determine(
                application=app, actor=cast_a.staff, outcome="approve", amount=25_000_00
            )
        award = Award.objects.get(application=app)
        assert (award.amount, award.call_id, award.organisation_id) == (25_000_00, call.pk, ngo_org_a.pk)
        # The award becomes the project the applicant will deliver, linked back to its application.
        from hubs.projects.models import Project

        project = Project.objects.get(pk=award.project_id)
        assert (project.source, project.implementer_id, project.status) == (
            f"call_application:{app.pk}",
            ngo_org_a.pk,
            "draft",
        )
        assert project.title_zh == app.title
        assert [(f.funder_id, f.amount, f.restricted) for f in project.funding_sources.all()] == (
            [(call.funder_id, 25_000_00, True)] if call.funder_id else []
        )
        assert services.call_budget(call=call)["remaining"] == 75_000_00
        with pytest.raises(ApplicationError):
            services.application_determine(application=app, actor=cast_a.staff, outcome="approve", amount=1)
    assert ApplicationIndex.objects.get(hub=hub_a, application_id=app.pk).awarded_amount == 25_000_00
    letter = next(m for m in mail.outbox if cast_a.ngo_member.email in m.to)
    assert "已立项" in letter.subject and "25,000.00" in letter.body


def test_approval_beyond_the_remaining_budget_is_refused(hub_a, cast_a, make_call, make_org, submitted):
    call = make_call(total_budget=50_000_00, project_cap=40_000_00)
    apps = []
    for i in range(2):
        owner = user_create(name=f"预算{i}", email=f"budget{i}@a.test", password=PASSWORD)
        org = make_org(owner, name=f"预算组织{i}")
        apps.append(_screened(hub_a, cast_a.staff, submitted(call=call, org=org, owner=owner)))
        _activate(hub_a, cast_a.staff, org)
    with hub_a:
        services.call_transition(call=call, to="closed", actor=cast_a.staff)
        services.application_determine(application=apps[0], actor=cast_a.staff, outcome="approve", amount=30_000_00)
        with pytest.raises(ApplicationError) as exc:
            services.application_determine(application=apps[1], actor=cast_a.staff, outcome="approve", amount=30_000_00)
        assert exc.value.code == "over_budget" and "¥20,000.00" in str(exc.value.message)
        apps[1].refresh_from_db()
        assert apps[1].status == "in_review"
        waiting = services.application_determine(application=apps[1], actor=cast_a.staff, outcome="waitlist")
        assert waiting.status == "waitlisted"
        approved = services.application_determine(
            application=apps[1], actor=cast_a.staff, outcome="approve", amount=20_000_00
        )
        assert approved.status == "approved"
