"""API of resident needs, public notice and the matchmaking fair. Thin views: a serializer validates input, one
service or selector call, a response. Everything public shows residents masked (``hubs.needs.masking``).

- residents (no hub role, no account needed): phone code, verification, submitting, following, supporting,
  objecting; public reads: statistics, notice rounds with rankings and answers, fairs with their board;
- staff: needs list and entry, triage, ideas, criteria, rounds, flags, answers, fairs, matching, claims;
- reviewers: scores; funders (managers of a partner organisation): claims for their organisation.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from hubs.core.permissions import STAFF, HubAPIView
from hubs.needs import selectors, services
from hubs.needs.masking import mask_name, mask_phone, mask_text
from hubs.needs.models import (
    Category,
    Channel,
    Claim,
    Fair,
    FairStatus,
    Need,
    NoticeRound,
    Objection,
    ProjectIdea,
    ReviewCriterion,
    SupportFlag,
)
from hubs.needs.permissions import OnHub, can_claim_for, remember_resident, request_resident
from huoban.errors import ApplicationError
from huoban.identity.models import Organisation, User
from huoban.web.client import client_ip
from tenants.models import HubRole

REVIEWERS = frozenset({HubRole.REVIEWER, HubRole.HUB_ADMIN, HubRole.STAFF})
MONEY_ROLES = frozenset({HubRole.TREASURER, HubRole.HUB_ADMIN, HubRole.STAFF})
OBJ = OpenApiTypes.OBJECT
OBJ_LIST = {"type": "array", "items": {"type": "object", "additionalProperties": {}}}


def _rate(name: str, default: str) -> Any:
    return lambda group, request: str(getattr(settings, name, default))


def rate_check(request: Any, *, group: str, setting: str, default: str) -> None:
    """Per client IP, django-ratelimit's counters; over the limit answers 429 with the API's error body."""
    rate = str(getattr(settings, setting, default))
    if is_ratelimited(request, group=f"needs.{group}", key="ip", rate=rate, method="POST", increment=True):
        raise ApplicationError(_("尝试次数过多，请稍后再试。"), code="rate_limited", status=429)


# --- output: what each audience sees -----------------------------------------------------------------------------


def need_public(need: Need) -> dict[str, Any]:
    """What the submitter's private link shows: their need, status and where it went; the person masked."""
    followed = selectors.need_followed(need)
    resident = need.resident
    return {
        "title": need.title,
        "channel": need.channel,
        "channel_label": need.get_channel_display(),
        "category": need.category,
        "category_label": need.get_category_display(),
        "street": need.street,
        "community": need.community,
        "status": need.status,
        "status_label": need.get_status_display(),
        "status_reason": need.status_reason,
        "submitted_by": mask_name(resident.name) if resident else "",
        "phone": mask_phone(resident.phone) if resident else "",
        "merged_into": followed.title if followed.pk != need.pk else None,
        "idea": idea_brief(followed.idea) if followed.idea_id else None,
        "created_at": need.created_at,
    }


def need_staff(need: Need) -> dict[str, Any]:
    resident = need.resident
    return {
        "id": need.pk,
        "title": need.title,
        "body": need.body,
        "channel": need.channel,
        "category": need.category,
        "street": need.street,
        "community": need.community,
        "status": need.status,
        "status_reason": need.status_reason,
        "tags": need.tags,
        "merged_into": need.merged_into_id,
        "idea": need.idea_id,
        "photo": str(need.photo_id) if need.photo_id else None,
        "resident": {"name": resident.name, "phone": resident.phone} if resident else None,
        "created_at": need.created_at,
    }


def idea_brief(idea: ProjectIdea | None) -> dict[str, Any] | None:
    if idea is None:
        return None
    return {
        "id": idea.pk,
        "title": idea.title,
        "summary": mask_text(idea.summary),
        "category": idea.category,
        "category_label": idea.get_category_display(),
        "community": idea.community,
        "budget": idea.budget,
        "status": idea.status,
        "status_label": idea.get_status_display(),
        "project_id": idea.project_id,
    }


def objection_public(objection: Objection) -> dict[str, Any]:
    return {
        "id": objection.pk,
        "idea": objection.idea_id,
        "by": mask_name(objection.resident.name),
        "body": mask_text(objection.body),
        "answer": objection.answer,
        "answered_at": objection.answered_at,
        "created_at": objection.created_at,
    }


def round_public(notice_round: NoticeRound) -> dict[str, Any]:
    ranking = selectors.round_ranking(notice_round=notice_round)
    objections = notice_round.objections.select_related("resident")
    return {
        "id": notice_round.pk,
        "title": notice_round.title,
        "starts_at": notice_round.starts_at,
        "ends_at": notice_round.ends_at,
        "support_limit": notice_round.support_limit,
        "closed": notice_round.closed_at is not None,
        "ideas": [
            {**(idea_brief(idea) or {}), "rank": n, "supports": idea.support_count}  # type: ignore[attr-defined]
            for n, idea in enumerate(ranking, start=1)
        ],
        "objections": [objection_public(o) for o in objections],
    }


def _funder_names(ids: set[int]) -> dict[int, str]:
    return dict(Organisation.objects.filter(pk__in=ids).values_list("pk", "name"))


def fair_public(fair: Fair) -> dict[str, Any]:
    rows = selectors.fair_board(fair=fair)
    claims = list(selectors.fair_claims(fair=fair))
    names = _funder_names({c.funder_id for c in claims} | set(fair.matching_rules.values_list("funder_id", flat=True)))
    return {
        "id": fair.pk,
        "title": fair.title,
        "held_on": fair.held_on,
        "venue": fair.venue,
        "status": fair.status,
        "totals": selectors.fair_totals(rows),
        "ideas": [
            {
                **(idea_brief(r.idea) or {}),
                "claimed": r.claimed,
                "received": r.received,
                "remaining": r.remaining,
                "percent": r.percent,
                "funders": r.funders,
            }
            for r in rows
        ],
        "claims": [
            {
                "id": c.pk,
                "idea": c.idea_id,
                "idea_title": c.idea.title,
                "funder_id": c.funder_id,
                "funder": names.get(c.funder_id, ""),
                "amount": c.amount,
                "status": c.status,
                "status_label": c.get_status_display(),
                "matched_from": c.matched_from_id,
            }
            for c in claims
        ],
        "matching_rules": [
            {"funder_id": r.funder_id, "funder": names.get(r.funder_id, ""), "percent": r.percent, "cap": r.cap}
            for r in fair.matching_rules.all()
        ],
    }


# --- input --------------------------------------------------------------------------------------------------------


class PhoneIn(serializers.Serializer):
    phone = serializers.CharField(max_length=20)


class VerifyIn(PhoneIn):
    code = serializers.CharField(max_length=10)
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)


class NeedIn(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=5000)
    category = serializers.ChoiceField(choices=Category.choices)
    street = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    community = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    photo = serializers.FileField(required=False)


class StaffNeedIn(NeedIn):
    channel = serializers.ChoiceField(choices=Channel.choices)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")


class IdeaIn(serializers.Serializer):
    needs = serializers.ListField(child=serializers.IntegerField(), min_length=1)
    title = serializers.CharField(max_length=200)
    summary = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    category = serializers.ChoiceField(choices=Category.choices)
    budget = serializers.IntegerField(min_value=1)
    street = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    community = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    implementer_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    start_date = serializers.DateField(required=False, allow_null=True, default=None)
    end_date = serializers.DateField(required=False, allow_null=True, default=None)


class RoundIn(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    support_limit = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)


class FairIn(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    held_on = serializers.DateField()
    venue = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ClaimIn(serializers.Serializer):
    idea = serializers.IntegerField()
    funder_id = serializers.IntegerField()
    amount = serializers.IntegerField(min_value=1)


def _data(request: Request) -> dict[str, Any]:
    return request.data if isinstance(request.data, dict) else {}


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    s = serializer_class(data=request.data)
    s.is_valid(raise_exception=True)
    return dict(s.validated_data)


def _field(request: Request, name: str, kind: type = str) -> Any:
    value = _data(request).get(name)
    if value in (None, ""):
        raise exceptions.ValidationError({name: [serializers.Field.default_error_messages["required"]]})
    if kind is int:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise exceptions.ValidationError(
                {name: [serializers.IntegerField.default_error_messages["invalid"]]}
            ) from None
    return value


class ResidentView(HubAPIView):
    """Public reads, and writes by residents without a hub role."""

    hub_public = True
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_permissions(self) -> list[Any]:
        return [OnHub()]

    def resident(self) -> Any:
        resident = request_resident(self.request)
        if resident is None:
            raise exceptions.NotAuthenticated()
        return resident


# --- residents and the public ----------------------------------------------------------------------------------------


class PhoneCodeView(ResidentView):
    @extend_schema(request=PhoneIn, responses={202: OBJ})
    def post(self, request: Request) -> Response:
        rate_check(request, group="PhoneCodeView", setting="HUOBAN_NEEDS_CODE_RATE", default="10/h")
        services.phone_code_send(phone=_valid(PhoneIn, request)["phone"])
        return Response({"sent": True}, status=status.HTTP_202_ACCEPTED)


class PhoneVerifyView(ResidentView):
    @extend_schema(request=VerifyIn, responses={200: OBJ})
    def post(self, request: Request) -> Response:
        rate_check(request, group="PhoneVerifyView", setting="HUOBAN_NEEDS_VERIFY_RATE", default="30/h")
        data = _valid(VerifyIn, request)
        resident = services.phone_code_verify(phone=data["phone"], code=data["code"], name=data.get("name", ""))
        remember_resident(request, resident)
        return Response({"verified": True, "phone": mask_phone(resident.phone), "name": mask_name(resident.name)})


class NeedSubmitView(ResidentView):
    @extend_schema(request=NeedIn, responses={201: OBJ})
    def post(self, request: Request) -> Response:
        rate_check(request, group="NeedSubmitView", setting="HUOBAN_NEEDS_SUBMIT_RATE", default="30/h")
        data = _valid(NeedIn, request)
        photo = data.pop("photo", None)
        need = services.need_submit(
            resident=self.resident(), photo=photo, photo_name=getattr(photo, "name", ""), user=request.user, **data
        )
        return Response(
            {"token": need.token, "track_url": f"/needs/track/{need.token}/", **need_public(need)},
            status=status.HTTP_201_CREATED,
        )


class NeedTrackView(ResidentView):
    @extend_schema(responses={200: OBJ})
    def get(self, request: Request, token: str) -> Response:
        need = selectors.need_by_token(token)
        if need is None:
            raise exceptions.NotFound()
        return Response(need_public(need))


class NeedStatsView(ResidentView):
    @extend_schema(responses={200: OBJ})
    def get(self, request: Request) -> Response:
        stats = selectors.needs_stats()
        rows = lambda items: [{"key": r.key, "label": r.label, "count": r.count} for r in items]  # noqa: E731
        return Response(
            {
                "total": stats.total,
                "by_channel": rows(stats.by_channel),
                "by_category": rows(stats.by_category),
                "by_status": rows(stats.by_status),
                "ideas": stats.ideas,
                "funded": stats.funded,
            }
        )


class RoundListView(HubAPIView):
    hub_public = True
    hub_write_roles = STAFF

    @extend_schema(responses={200: OBJ_LIST}, operation_id="needs_rounds_list")
    def get(self, request: Request) -> Response:
        return Response(
            [
                {
                    "id": r.pk,
                    "title": r.title,
                    "starts_at": r.starts_at,
                    "ends_at": r.ends_at,
                    "closed": r.closed_at is not None,
                }
                for r in NoticeRound.objects.all()[:100]
            ]
        )

    @extend_schema(request=RoundIn, responses={201: OBJ})
    def post(self, request: Request) -> Response:
        notice_round = services.notice_round_create(actor=request.user, **_valid(RoundIn, request))
        return Response(round_public(notice_round), status=status.HTTP_201_CREATED)


class RoundDetailView(ResidentView):
    @extend_schema(responses={200: OBJ})
    def get(self, request: Request, pk: int) -> Response:
        return Response(round_public(get_object_or_404(NoticeRound, pk=pk)))


def _round_idea(pk: int, idea_id: int) -> tuple[NoticeRound, ProjectIdea]:
    notice_round = get_object_or_404(NoticeRound, pk=pk)
    return notice_round, get_object_or_404(ProjectIdea, pk=idea_id, notice_round=notice_round)


class SupportView(ResidentView):
    @extend_schema(request=None, responses={201: OBJ})
    def post(self, request: Request, pk: int, idea_id: int) -> Response:
        rate_check(request, group="SupportView", setting="HUOBAN_NEEDS_SUPPORT_RATE", default="600/m")
        idea = selectors.support_target(round_id=pk, idea_id=idea_id)
        if idea is None or idea.notice_round is None:
            raise exceptions.NotFound()
        added = services.support_add(
            notice_round=idea.notice_round,
            idea=idea,
            resident=self.resident(),
            ip=client_ip(request),
        )
        return Response({"supported": True, "supports": added.idea_supports}, status=status.HTTP_201_CREATED)


class ObjectionView(ResidentView):
    @extend_schema(request=OBJ, responses={201: OBJ})
    def post(self, request: Request, pk: int, idea_id: int) -> Response:
        notice_round, idea = _round_idea(pk, idea_id)
        objection = services.objection_file(
            notice_round=notice_round, idea=idea, resident=self.resident(), body=_field(request, "body")
        )
        return Response(objection_public(objection), status=status.HTTP_201_CREATED)


class FairListView(HubAPIView):
    hub_public = True
    hub_write_roles = STAFF

    @extend_schema(responses={200: OBJ_LIST}, operation_id="needs_fairs_list")
    def get(self, request: Request) -> Response:
        fairs = Fair.objects.exclude(status=FairStatus.DRAFT)
        if self.membership and self.membership.has_any(STAFF):
            fairs = Fair.objects.all()
        return Response([{"id": f.pk, "title": f.title, "held_on": f.held_on, "status": f.status} for f in fairs[:100]])

    @extend_schema(request=FairIn, responses={201: OBJ})
    def post(self, request: Request) -> Response:
        fair = services.fair_create(actor=request.user, **_valid(FairIn, request))
        return Response(fair_public(fair), status=status.HTTP_201_CREATED)


class FairDetailView(ResidentView):
    @extend_schema(responses={200: OBJ}, operation_id="needs_fairs_get")
    def get(self, request: Request, pk: int) -> Response:
        fair = get_object_or_404(Fair, pk=pk)
        if fair.status == FairStatus.DRAFT and not (self.membership and self.membership.has_any(STAFF)):
            raise exceptions.NotFound()
        return Response(fair_public(fair))


class ClaimCreateView(ResidentView):
    """A funder's manager claims for their organisation; staff for any partner."""

    @extend_schema(request=ClaimIn, responses={201: OBJ})
    def post(self, request: Request, pk: int) -> Response:
        if not request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        data = _valid(ClaimIn, request)
        fair = get_object_or_404(Fair, pk=pk)
        idea = get_object_or_404(ProjectIdea, pk=data["idea"], fair=fair)
        if not can_claim_for(request, data["funder_id"]):
            raise exceptions.PermissionDenied()
        claims = services.claim_create(
            fair=fair, idea=idea, funder_id=data["funder_id"], amount=data["amount"], actor=request.user
        )
        return Response(
            [
                {
                    "id": c.pk,
                    "funder_id": c.funder_id,
                    "amount": c.amount,
                    "status": c.status,
                    "matched_from": c.matched_from_id,
                }
                for c in claims
            ],
            status=status.HTTP_201_CREATED,
        )


# --- staff ---------------------------------------------------------------------------------------------------------


class NeedListView(HubAPIView):
    hub_roles = STAFF
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(responses={200: OBJ}, operation_id="needs_list")
    def get(self, request: Request) -> Response:
        qs = selectors.need_list(
            status=request.query_params.get("status", ""),
            channel=request.query_params.get("channel", ""),
            category=request.query_params.get("category", ""),
            q=request.query_params.get("q", ""),
        )
        page = self.paginate_queryset(qs)
        return self.get_paginated_response([need_staff(n) for n in page or []])

    @extend_schema(request=StaffNeedIn, responses={201: OBJ})
    def post(self, request: Request) -> Response:
        data = _valid(StaffNeedIn, request)
        photo = data.pop("photo", None)
        need = services.need_record(actor=request.user, photo=photo, photo_name=getattr(photo, "name", ""), **data)
        return Response({**need_staff(need), "token": need.token}, status=status.HTTP_201_CREATED)


class NeedDetailView(HubAPIView):
    hub_roles = STAFF

    @extend_schema(responses={200: OBJ}, operation_id="needs_get")
    def get(self, request: Request, pk: int) -> Response:
        need = get_object_or_404(Need.objects.select_related("resident"), pk=pk)
        similar = selectors.need_similar(need=need)
        return Response(
            {**need_staff(need), "similar": [{"id": n.pk, "title": n.title, "status": n.status} for n in similar]}
        )


class NeedActionView(HubAPIView):
    hub_roles = STAFF

    @extend_schema(request=OBJ, responses={200: OBJ}, operation_id="needs_action")
    def post(self, request: Request, pk: int, action: str) -> Response:
        need = get_object_or_404(Need, pk=pk)
        if action == "merge":
            into = get_object_or_404(Need, pk=_field(request, "into", int))
            need = services.need_merge(need=need, into=into, actor=request.user)
        elif action == "tag":
            tags = _data(request).get("tags") or []
            if not isinstance(tags, list):
                raise exceptions.ValidationError(
                    {
                        "tags": [
                            serializers.ListField.default_error_messages["not_a_list"].format(
                                input_type=type(tags).__name__
                            )
                        ]
                    }
                )
            need = services.need_tag(need=need, tags=tags, actor=request.user)
        elif action == "reject":
            need = services.need_reject(need=need, reason=_data(request).get("reason", ""), actor=request.user)
        else:
            raise exceptions.NotFound()
        return Response(need_staff(need))


class IdeaListView(HubAPIView):
    hub_roles = frozenset(STAFF | {HubRole.REVIEWER})
    hub_write_roles = STAFF

    @extend_schema(responses={200: OBJ_LIST}, operation_id="needs_ideas_list")
    def get(self, request: Request) -> Response:
        return Response([idea_brief(i) for i in ProjectIdea.objects.all()[:200]])

    @extend_schema(request=IdeaIn, responses={201: OBJ})
    def post(self, request: Request) -> Response:
        data = _valid(IdeaIn, request)
        ids = data.pop("needs")
        needs = list(Need.objects.filter(pk__in=ids))
        if len(needs) != len(set(ids)):
            raise exceptions.NotFound()
        idea = services.idea_create(actor=request.user, needs=needs, **data)
        return Response(idea_brief(idea), status=status.HTTP_201_CREATED)


class IdeaDetailView(HubAPIView):
    hub_roles = frozenset(STAFF | {HubRole.REVIEWER})

    @extend_schema(responses={200: OBJ}, operation_id="needs_ideas_get")
    def get(self, request: Request, pk: int) -> Response:
        idea = get_object_or_404(ProjectIdea, pk=pk)
        review = selectors.idea_review(idea=idea)
        return Response(
            {
                **(idea_brief(idea) or {}),
                "needs": list(idea.needs.values_list("pk", flat=True)),
                "score": review.score,
                "reviewers": review.reviewers,
            }
        )


class IdeaScoreView(HubAPIView):
    hub_roles = REVIEWERS

    @extend_schema(request=OBJ, responses={200: OBJ})
    def post(self, request: Request, pk: int) -> Response:
        idea = get_object_or_404(ProjectIdea, pk=pk)
        raw = _data(request).get("scores")
        if not isinstance(raw, dict):
            raise exceptions.ValidationError(
                {
                    "scores": [
                        serializers.DictField.default_error_messages["not_a_dict"].format(input_type=type(raw).__name__)
                    ]
                }
            )
        try:
            scores = {int(k): v for k, v in raw.items()}
        except (TypeError, ValueError):
            raise exceptions.ValidationError(
                {"scores": [serializers.IntegerField.default_error_messages["invalid"]]}
            ) from None
        services.idea_score(idea=idea, reviewer=request.user, scores=scores)
        review = selectors.idea_review(idea=idea)
        return Response({"score": review.score, "reviewers": review.reviewers})


class IdeaActionView(HubAPIView):
    hub_roles = STAFF

    @extend_schema(request=OBJ, responses={200: OBJ}, operation_id="needs_ideas_action")
    def post(self, request: Request, pk: int, action: str) -> Response:
        idea = get_object_or_404(ProjectIdea, pk=pk)
        if action == "approve":
            idea = services.idea_approve(idea=idea, actor=request.user)
        elif action == "reject":
            idea = services.idea_reject(idea=idea, reason=_data(request).get("reason", ""), actor=request.user)
        elif action == "notice":
            notice_round = get_object_or_404(NoticeRound, pk=_field(request, "round", int))
            idea = services.notice_round_add_idea(notice_round=notice_round, idea=idea, actor=request.user)
        elif action == "fair":
            fair = get_object_or_404(Fair, pk=_field(request, "fair", int))
            idea = services.fair_add_idea(fair=fair, idea=idea, actor=request.user)
        elif action == "implementer":
            implementer_id = _field(request, "implementer_id", int)
            idea = services.idea_implementer_set(idea=idea, implementer_id=implementer_id, actor=request.user)
        else:
            raise exceptions.NotFound()
        return Response(idea_brief(idea))


class CriterionListView(HubAPIView):
    hub_roles = frozenset(STAFF | {HubRole.REVIEWER})
    hub_write_roles = STAFF

    @extend_schema(responses={200: OBJ_LIST})
    def get(self, request: Request) -> Response:
        return Response(list(ReviewCriterion.objects.filter(active=True).values("id", "name", "weight", "max_score")))

    @extend_schema(request=OBJ, responses={201: OBJ})
    def post(self, request: Request) -> Response:
        criterion = services.criterion_create(
            name=_data(request).get("name", ""),
            weight=_field(request, "weight", int),
            max_score=int(_data(request).get("max_score") or 10),
            actor=request.user,
        )
        return Response(
            {"id": criterion.pk, "name": criterion.name, "weight": criterion.weight, "max_score": criterion.max_score},
            status=status.HTTP_201_CREATED,
        )


class RoundCloseView(HubAPIView):
    hub_roles = STAFF

    @extend_schema(request=None, responses={200: OBJ})
    def post(self, request: Request, pk: int) -> Response:
        notice_round = services.notice_round_close(
            notice_round=get_object_or_404(NoticeRound, pk=pk), actor=request.user
        )
        return Response(round_public(notice_round))


class ObjectionAnswerView(HubAPIView):
    hub_roles = STAFF

    @extend_schema(request=OBJ, responses={200: OBJ})
    def post(self, request: Request, pk: int) -> Response:
        objection = get_object_or_404(Objection.objects.select_related("resident"), pk=pk)
        objection = services.objection_answer(
            objection=objection, answer=_data(request).get("answer", ""), actor=request.user
        )
        return Response(objection_public(objection))


def flag_staff(row: selectors.FlagRow, *, reviewer_names: dict[int, str], supports: int = 0) -> dict[str, Any]:
    """A flag for staff: counts of the supports it covers and, with ``supports``, the first that many of them
    (residents by record number and masked phone)."""
    flag = row.flag
    data: dict[str, Any] = {
        "id": flag.pk,
        "round": flag.notice_round_id,
        "kind": flag.kind,
        "kind_label": flag.get_kind_display(),
        "prefix": flag.prefix,
        "first_seen_at": flag.first_seen_at,
        "supports": row.supports,
        "residents": row.residents,
        "ideas": row.ideas,
        "last_support_at": row.last_support_at,
        "reviewed_at": flag.reviewed_at,
        "reviewed_by": reviewer_names.get(flag.reviewed_by_id or 0) if flag.reviewed_by_id else None,
        "note": flag.note,
    }
    if supports:
        data["support_list"] = [
            {
                "id": s.pk,
                "idea": s.idea_id,
                "idea_title": s.idea.title,
                "resident": s.resident_id,
                "phone": mask_phone(s.resident.phone),
                "ip_prefix": s.ip_prefix,
                "phone_prefix": s.phone_prefix,
                "created_at": s.created_at,
            }
            for s in selectors.flag_supports(flag=flag)[:supports]
        ]
    return data


def _reviewer_names(flags: list[SupportFlag]) -> dict[int, str]:
    ids = {f.reviewed_by_id for f in flags if f.reviewed_by_id}
    return {u.pk: u.name or u.email or "" for u in User.objects.filter(pk__in=ids)} if ids else {}


class NoteIn(serializers.Serializer):
    note = serializers.CharField(max_length=500)


class RoundFlagsView(HubAPIView):
    """Staff: a round's flags with their counts and the first 100 supports each covers."""

    hub_roles = STAFF

    @extend_schema(responses={200: OBJ_LIST}, operation_id="needs_round_flags_list")
    def get(self, request: Request, pk: int) -> Response:
        notice_round = get_object_or_404(NoticeRound, pk=pk)
        rows = selectors.round_flags(notice_round=notice_round)
        names = _reviewer_names([r.flag for r in rows])
        return Response([flag_staff(r, reviewer_names=names, supports=100) for r in rows])


class FlagReviewView(HubAPIView):
    """Staff mark a flag reviewed with a note (again: the note is replaced); audited."""

    hub_roles = STAFF

    @extend_schema(request=NoteIn, responses={200: OBJ})
    def post(self, request: Request, pk: int) -> Response:
        flag = get_object_or_404(SupportFlag, pk=pk)
        flag = services.flag_review(flag=flag, note=_valid(NoteIn, request)["note"], actor=request.user)
        (row,) = [r for r in selectors.round_flags(notice_round=flag.notice_round) if r.flag.pk == flag.pk]
        return Response(flag_staff(row, reviewer_names=_reviewer_names([flag])))


class FlagListView(HubAPIView):
    hub_roles = STAFF

    @extend_schema(responses={200: OBJ_LIST})
    def get(self, request: Request) -> Response:
        flags = SupportFlag.objects.order_by("-first_seen_at")[:200]
        return Response(
            [
                {
                    "id": f.pk,
                    "round": f.notice_round_id,
                    "kind": f.kind,
                    "prefix": f.prefix,
                    "first_seen_at": f.first_seen_at,
                    "reviewed_at": f.reviewed_at,
                    "note": f.note,
                }
                for f in flags
            ]
        )


class FairActionView(HubAPIView):
    hub_roles = STAFF

    @extend_schema(request=OBJ, responses={200: OBJ}, operation_id="needs_fairs_action")
    def post(self, request: Request, pk: int, action: str) -> Response:
        fair = get_object_or_404(Fair, pk=pk)
        if action == "status":
            fair = services.fair_transition(fair=fair, status=_data(request).get("status", ""), actor=request.user)
        elif action == "matching":
            services.matching_rule_set(
                fair=fair,
                funder_id=_field(request, "funder_id", int),
                cap=_field(request, "cap", int),
                percent=int(_data(request).get("percent") or 100),
                actor=request.user,
            )
        else:
            raise exceptions.NotFound()
        return Response(fair_public(fair))


class ClaimActionView(HubAPIView):
    hub_roles = MONEY_ROLES
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(request=OBJ, responses={200: OBJ})
    def post(self, request: Request, pk: int, action: str) -> Response:
        claim = get_object_or_404(Claim, pk=pk)
        if action == "agree":
            claim = services.claim_agree(
                claim=claim, agreement_ref=_data(request).get("agreement_ref", ""), actor=request.user
            )
        elif action == "withdraw":
            claim = services.claim_withdraw(claim=claim, actor=request.user)
        elif action == "receive":
            receipt = _data(request).get("receipt") or None
            claim = services.claim_receive(
                claim=claim,
                receipt_ref=_data(request).get("receipt_ref", ""),
                receipt=receipt if hasattr(receipt, "read") else None,
                receipt_name=getattr(receipt, "name", ""),
                actor=request.user,
            )
        else:
            raise exceptions.NotFound()
        claim.idea.refresh_from_db()
        return Response(
            {
                "id": claim.pk,
                "status": claim.status,
                "amount": claim.amount,
                "ledger_transaction_id": claim.ledger_transaction_id,
                "idea_status": claim.idea.status,
                "project_id": claim.idea.project_id,
            }
        )
