"""Reads of the needs app: statistics, triage lists, duplicate suggestions, review scores, rankings, fair boards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection as db_connection
from django.db.models import Count, F, Max, Q, QuerySet, Sum

from hubs.needs.models import (
    Category,
    Channel,
    Claim,
    ClaimStatus,
    Fair,
    FlagKind,
    IdeaScore,
    IdeaStatus,
    Need,
    NeedStatus,
    NoticeRound,
    ProjectIdea,
    ReviewCriterion,
    Support,
    SupportFlag,
)

SIMILARITY_THRESHOLD = 0.2


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class NeedStats:
    total: int
    by_channel: list[Row]
    by_category: list[Row]
    by_status: list[Row]
    ideas: int
    funded: int


def needs_stats() -> NeedStats:
    """Open statistics of the hub's needs (duplicates merged away are not counted twice). No personal data."""
    needs = Need.objects.exclude(status=NeedStatus.MERGED)

    def rows(field: str, choices: Any) -> list[Row]:
        counts = dict(needs.values_list(field).annotate(n=Count("id")).values_list(field, "n"))
        return [Row(value, str(label), counts.get(value, 0)) for value, label in choices]

    return NeedStats(
        total=needs.count(),
        by_channel=rows("channel", Channel.choices),
        by_category=[r for r in rows("category", Category.choices) if r.count],
        by_status=rows("status", [c for c in NeedStatus.choices if c[0] != NeedStatus.MERGED]),
        ideas=ProjectIdea.objects.exclude(status=IdeaStatus.REJECTED).count(),
        funded=ProjectIdea.objects.filter(status=IdeaStatus.FUNDED).count(),
    )


def need_list(*, status: str = "", channel: str = "", category: str = "", q: str = "") -> QuerySet[Need]:
    qs = Need.objects.select_related("resident", "idea")
    if status:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    if category:
        qs = qs.filter(category=category)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(body__icontains=q) | Q(community__icontains=q))
    return qs


def trigram_available() -> bool:
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        return cursor.fetchone() is not None


def need_similar(*, need: Need, limit: int = 5) -> list[Need]:
    """Open needs whose text is like this one's (pg_trgm similarity of title and body), best first: the
    candidates staff may merge it with."""
    if not trigram_available():
        return []
    text = f"{need.title} {need.body}"[:2000]
    return list(
        Need.objects.exclude(pk=need.pk)
        .exclude(status__in=[NeedStatus.MERGED, NeedStatus.REJECTED])
        .annotate(similarity=TrigramSimilarity("body", text) + TrigramSimilarity("title", text))
        .filter(similarity__gte=SIMILARITY_THRESHOLD)
        .order_by("-similarity", "-created_at")[:limit]
    )


def need_by_token(token: str) -> Need | None:
    """The need behind a private follow link; a merged need is followed to the one it was merged into."""
    need = Need.objects.select_related("idea", "merged_into", "resident").filter(token=token).first()
    return need


def need_followed(need: Need) -> Need:
    seen = {need.pk}
    current = need
    while current.merged_into_id is not None and current.merged_into_id not in seen:
        current = Need.objects.select_related("idea", "merged_into").get(pk=current.merged_into_id)
        seen.add(current.pk)
    return current


@dataclass(frozen=True)
class Review:
    score: float  # 0–100, weighted, averaged over reviewers
    reviewers: int
    per_reviewer: dict[int, float]


def idea_review(*, idea: ProjectIdea) -> Review:
    """The idea's weighted score: each reviewer's Σ(weight·score/max) / Σ weight × 100, averaged over the
    reviewers who scored every active criterion."""
    criteria = {c.pk: c for c in ReviewCriterion.objects.filter(active=True)}
    if not criteria:
        return Review(0.0, 0, {})
    total_weight = sum(c.weight for c in criteria.values())
    by_reviewer: dict[int, dict[int, int]] = {}
    for score in IdeaScore.objects.filter(idea=idea, criterion_id__in=criteria):
        by_reviewer.setdefault(score.reviewer_id, {})[score.criterion_id] = score.score
    per: dict[int, float] = {}
    for reviewer_id, scores in by_reviewer.items():
        if set(scores) == set(criteria):
            weighted = sum(criteria[pk].weight * value / criteria[pk].max_score for pk, value in scores.items())
            per[reviewer_id] = round(weighted / total_weight * 100, 2)
    overall = round(sum(per.values()) / len(per), 2) if per else 0.0
    return Review(overall, len(per), per)


def round_ranking(*, notice_round: NoticeRound) -> list[ProjectIdea]:
    """The round's ideas ranked by support (counted from the supports themselves, so always exact)."""
    return list(
        ProjectIdea.objects.filter(notice_round=notice_round)
        .annotate(
            support_count=Count("supports", distinct=True),
            objection_count=Count("objections", distinct=True),
        )
        .order_by("-support_count", "pk")
    )


def support_target(*, round_id: int, idea_id: int) -> ProjectIdea | None:
    """The idea a support is for, with its round, in one query and only the columns ``support_add`` checks."""
    return (
        ProjectIdea.objects.select_related("notice_round")
        .only(
            "id",
            "status",
            "notice_round_id",
            "notice_round__starts_at",
            "notice_round__ends_at",
            "notice_round__closed_at",
            "notice_round__support_limit",
        )
        .filter(pk=idea_id, notice_round_id=round_id)
        .first()
    )


def support_count(*, idea: ProjectIdea) -> int:
    return idea.supports.count()


def flag_field(kind: str) -> str:
    """The support column a flag of ``kind`` matches its prefix against."""
    return "ip_prefix" if kind == FlagKind.IP_RANGE else "phone_prefix"


@dataclass(frozen=True)
class FlagRow:
    """A flag with the counts of the supports it covers (every support of the round from its source)."""

    flag: SupportFlag
    supports: int
    residents: int
    ideas: int
    last_support_at: datetime | None


def round_flags(*, notice_round: NoticeRound) -> list[FlagRow]:
    """The round's flags, unreviewed first and newest first, with their counts (two grouped queries, one per
    kind, whatever the number of flags)."""
    flags = list(
        SupportFlag.objects.filter(notice_round=notice_round).order_by(
            F("reviewed_at").asc(nulls_first=True), "-first_seen_at", "-pk"
        )
    )
    counts: dict[tuple[str, str], dict[str, Any]] = {}
    for kind in FlagKind.values:
        prefixes = [f.prefix for f in flags if f.kind == kind]
        if not prefixes:
            continue
        field = flag_field(kind)
        grouped = (
            Support.objects.filter(notice_round=notice_round, **{f"{field}__in": prefixes})
            .values(field)
            .annotate(
                n=Count("pk"),
                residents=Count("resident_id", distinct=True),
                ideas=Count("idea_id", distinct=True),
                last=Max("created_at"),
            )
        )
        for row in grouped:
            counts[(kind, row[field])] = row
    rows = []
    for flag in flags:
        found = counts.get((flag.kind, flag.prefix), {})
        rows.append(
            FlagRow(
                flag=flag,
                supports=found.get("n", 0),
                residents=found.get("residents", 0),
                ideas=found.get("ideas", 0),
                last_support_at=found.get("last"),
            )
        )
    return rows


def flag_supports(*, flag: SupportFlag) -> QuerySet[Support]:
    """The supports a flag covers, oldest first, with their idea and resident."""
    return (
        Support.objects.filter(notice_round_id=flag.notice_round_id, **{flag_field(flag.kind): flag.prefix})
        .select_related("idea", "resident")
        .order_by("created_at", "pk")
    )


def round_supports(*, notice_round: NoticeRound) -> QuerySet[Support]:
    return (
        Support.objects.filter(notice_round=notice_round)
        .select_related("idea", "resident")
        .order_by("created_at", "pk")
    )


@dataclass(frozen=True)
class BoardRow:
    idea: ProjectIdea
    claimed: int
    received: int
    funders: int

    @property
    def remaining(self) -> int:
        return max(self.idea.budget - self.claimed, 0)

    @property
    def percent(self) -> int:
        return min(100, self.claimed * 100 // self.idea.budget) if self.idea.budget else 0


ACTIVE = ~Q(status=ClaimStatus.WITHDRAWN)


def fair_board(*, fair: Fair) -> list[BoardRow]:
    """Each idea of the fair with what is claimed and received so far."""
    ideas = ProjectIdea.objects.filter(fair=fair).annotate(
        claimed=Sum("claims__amount", filter=ACTIVE & Q(claims__fair=fair)),
        received=Sum("claims__amount", filter=Q(claims__status=ClaimStatus.RECEIVED, claims__fair=fair)),
        funders=Count("claims__funder_id", filter=ACTIVE & Q(claims__fair=fair), distinct=True),
    )
    return [
        BoardRow(idea=i, claimed=i.claimed or 0, received=i.received or 0, funders=i.funders)
        for i in ideas.order_by("pk")
    ]


def fair_totals(rows: list[BoardRow]) -> dict[str, int]:
    return {
        "budget": sum(r.idea.budget for r in rows),
        "claimed": sum(r.claimed for r in rows),
        "received": sum(r.received for r in rows),
        "ideas": len(rows),
        "fully_claimed": sum(1 for r in rows if r.remaining == 0),
    }


def fair_claims(*, fair: Fair) -> QuerySet[Claim]:
    return Claim.objects.filter(fair=fair).select_related("idea").order_by("created_at", "pk")
