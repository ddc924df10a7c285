"""Reads on calls, applications and reviews. Every list here costs a fixed number of queries, whatever its size."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Case, Count, F, Max, Min, Q, QuerySet, StdDev, Value, When
from django.utils.translation import gettext as _

from hubs.calls.models import Application, AssignmentStatus, Call, CallStatus, Criterion, ReviewAssignment, Score
from huoban.identity.models import OrganisationMember, User
from tenants.applications.models import ApplicationStatus

A = ApplicationStatus
RANKED = (A.IN_REVIEW, A.APPROVED, A.REJECTED, A.WAITLISTED)
# A reviewer whose total is this far from the application's mean is flagged as an outlier.
OUTLIER_POINTS = Decimal("15")
# Reviewers disagreeing by this much (highest minus lowest) is shown on the ranking.
SPREAD_ALERT = Decimal("20")


def call_list(*, status: str = "") -> QuerySet[Call]:
    qs = Call.objects.annotate(
        n_applications=Count("applications", filter=~Q(applications__status=A.DRAFT), distinct=True)
    )
    return qs.filter(status=status) if status else qs


def calls_public() -> QuerySet[Call]:
    """Calls anyone may see: open ones, and closed or decided ones (results), never drafts or archived ones."""
    return Call.objects.filter(
        status__in=[CallStatus.OPEN, CallStatus.CLOSED, CallStatus.IN_REVIEW, CallStatus.DECIDED]
    ).order_by("closes_at", "pk")


def applicant_label(application: Application, *, blind: bool) -> str:
    """Who applied, or only the application's code when the viewer must not know (blind review)."""
    if blind:
        return application.code
    return application.organisation.name


def is_blind_for_staff(call: Call) -> bool:
    """Exports of scores and rankings of a blind call stay anonymous until the call is decided."""
    return call.blind_review and call.status not in (CallStatus.DECIDED, CallStatus.ARCHIVED)


def applications_of_call(*, call: Call, status: str = "") -> QuerySet[Application]:
    qs = Application.objects.filter(call=call).exclude(status=A.DRAFT).select_related("organisation")
    return qs.filter(status=status) if status else qs.order_by("-submitted_at", "-pk")


def applications_mine(*, user: User, call: Call | None = None) -> QuerySet[Application]:
    """Applications in this hub of the organisations ``user`` belongs to."""
    orgs = OrganisationMember.objects.filter(user=user).values("organisation_id")
    qs = Application.objects.filter(organisation_id__in=orgs).select_related("call", "organisation")
    return qs.filter(call=call) if call else qs


def ranking(*, call: Call) -> QuerySet[Application]:
    """Screened-in and decided applications with their reviewers' aggregate: mean weighted score (out of 100),
    lowest, highest, spread, number of submitted reviews and standard deviation; best first. One query."""
    done = Q(assignments__status=AssignmentStatus.SUBMITTED)
    return (
        Application.objects.filter(call=call, status__in=RANKED)
        .select_related("organisation")
        .annotate(
            score=Avg("assignments__total", filter=done),
            low=Min("assignments__total", filter=done),
            high=Max("assignments__total", filter=done),
            reviews=Count("assignments", filter=done),
            assigned=Count("assignments", filter=~Q(assignments__status=AssignmentStatus.CONFLICT)),
            deviation=StdDev("assignments__total", filter=done),
        )
        .annotate(spread=F("high") - F("low"))
        .order_by(F("score").desc(nulls_last=True), "pk")
    )


@dataclass(frozen=True)
class ReviewerTotal:
    assignment_id: int
    reviewer_label: str
    total: Decimal
    outlier: bool


def reviewer_totals(*, application: Application, blind_reviewers: bool = True) -> list[ReviewerTotal]:
    """Each submitted review's total, flagging outliers (more than OUTLIER_POINTS from the mean)."""
    rows = list(
        ReviewAssignment.objects.filter(application=application, status=AssignmentStatus.SUBMITTED).order_by("pk")
    )
    if not rows:
        return []
    totals = [Decimal(r.total or 0) for r in rows]
    mean = sum(totals, Decimal(0)) / len(totals)
    out = []
    for index, (row, total) in enumerate(zip(rows, totals, strict=True), start=1):
        label = _("评审专家 %(n)s") % {"n": index}
        out.append(ReviewerTotal(row.pk, label, total, len(rows) > 1 and abs(total - mean) > OUTLIER_POINTS))
    return out


def reviewer_queue(*, reviewer: User, call: Call | None = None) -> QuerySet[ReviewAssignment]:
    qs = ReviewAssignment.objects.filter(reviewer_id=reviewer.pk).select_related("application", "call")
    if call is not None:
        qs = qs.filter(call=call)
    # Work still to do first (to declare, to score), then what is done.
    todo = Case(
        When(status=AssignmentStatus.PENDING, then=Value(0)),
        When(status=AssignmentStatus.REVIEWING, then=Value(1)),
        default=Value(2),
    )
    return qs.order_by(todo, "pk")


def reviewer_progress(*, reviewer: User) -> dict[str, int]:
    counts = ReviewAssignment.objects.filter(reviewer_id=reviewer.pk).aggregate(
        total=Count("id", filter=~Q(status=AssignmentStatus.CONFLICT)),
        done=Count("id", filter=Q(status=AssignmentStatus.SUBMITTED)),
        pending=Count("id", filter=Q(status=AssignmentStatus.PENDING)),
        conflicts=Count("id", filter=Q(status=AssignmentStatus.CONFLICT)),
    )
    counts["percent"] = round(100 * counts["done"] / counts["total"]) if counts["total"] else 0
    return counts


def criteria_of(call: Call) -> list[Criterion]:
    return list(Criterion.objects.filter(call=call))


def scores_of_call(*, call: Call) -> QuerySet[Score]:
    return (
        Score.objects.filter(assignment__call=call, assignment__status=AssignmentStatus.SUBMITTED)
        .select_related("assignment__application__organisation", "criterion")
        .order_by("assignment__application_id", "assignment_id", "criterion__position")
    )


def applicant_comments(*, application: Application) -> list[dict[str, Any]]:
    """Reviewer comments the applicant may read: only where the call allows it, once decided, never names."""
    call = application.call
    if not call.show_reviewer_comments or application.status not in (A.APPROVED, A.REJECTED, A.WAITLISTED):
        return []
    out: list[dict[str, Any]] = []
    numbers: dict[int, int] = {}
    for score in (
        Score.objects.filter(assignment__application=application, assignment__status=AssignmentStatus.SUBMITTED)
        .exclude(comment="")
        .select_related("criterion")
        .order_by("assignment_id", "criterion__position")
    ):
        number = numbers.setdefault(score.assignment_id, len(numbers) + 1)
        out.append(
            {
                "reviewer": _("评审专家 %(n)s") % {"n": number},
                "criterion": score.criterion.name,
                "comment": score.comment,
            }
        )
    return out
