"""API of calls, applications and review. Thin views: a serializer validates, one service or selector, a response.

Staff endpoints need a staff role, reviewer endpoints the reviewer role (outsiders 404, weaker roles 403); the
applicant side needs sign-in and only ever shows the caller's own organisations' applications; open calls are
public. In a blind call, nothing a reviewer receives names the applicant.
"""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from hubs.calls import exports, selectors, services
from hubs.calls.models import (
    Application,
    AssignmentStatus,
    Call,
    CallStatus,
    Criterion,
    InfoRequest,
    ReviewAssignment,
)
from hubs.core.permissions import STAFF, HubAPIView
from hubs.partners.api import OrganisationSideView
from huoban.identity.models import Organisation, User
from tenants.models import HubRole

REVIEWER = frozenset({HubRole.REVIEWER})


def _me(request: Any) -> User:
    """The signed-in user (every view here requires sign-in before it runs)."""
    return cast(User, request.user)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- Serializers ------------------------------------------------------------------------------------------------


class CriterionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Criterion
        fields = ["id", "name_zh", "name_en", "guidance", "weight", "max_score"]
        read_only_fields = ["id"]


class CallSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    criteria = CriterionSerializer(many=True, read_only=True)

    class Meta:
        model = Call
        fields = [
            "id",
            "status",
            "status_label",
            "funder",
            "call_type",
            "title_zh",
            "title_en",
            "description_zh",
            "description_en",
            "total_budget",
            "project_cap",
            "eligible_kinds",
            "require_verified",
            "region_code",
            "partner_rule",
            "service_areas",
            "opens_at",
            "closes_at",
            "review_by",
            "decision_by",
            "required_documents",
            "form_fields",
            "allow_multiple",
            "blind_review",
            "reviewers_per_application",
            "show_reviewer_comments",
            "project_months",
            "criteria",
            "created_at",
        ]
        read_only_fields = fields


class PublicCallSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Call
        fields = [
            "id",
            "status",
            "status_label",
            "call_type",
            "title_zh",
            "title_en",
            "description_zh",
            "description_en",
            "total_budget",
            "project_cap",
            "eligible_kinds",
            "region_code",
            "service_areas",
            "opens_at",
            "closes_at",
            "required_documents",
            "form_fields",
        ]
        read_only_fields = fields


class CallInputSerializer(serializers.Serializer):
    funder_id = serializers.IntegerField(required=False, allow_null=True)
    call_type = serializers.CharField(required=False)
    title_zh = serializers.CharField(required=False, max_length=200)
    title_en = serializers.CharField(required=False, allow_blank=True, max_length=200)
    description_zh = serializers.CharField(required=False, allow_blank=True)
    description_en = serializers.CharField(required=False, allow_blank=True)
    total_budget = serializers.IntegerField(required=False, help_text="fen")
    project_cap = serializers.IntegerField(required=False, help_text="fen")
    eligible_kinds = serializers.ListField(child=serializers.CharField(), required=False)
    require_verified = serializers.BooleanField(required=False)
    region_code = serializers.CharField(required=False, allow_blank=True, max_length=6)
    partner_rule = serializers.CharField(required=False)
    service_areas = serializers.ListField(child=serializers.CharField(), required=False)
    opens_at = serializers.DateTimeField(required=False, allow_null=True)
    closes_at = serializers.DateTimeField(required=False)
    review_by = serializers.DateField(required=False, allow_null=True)
    decision_by = serializers.DateField(required=False, allow_null=True)
    required_documents = serializers.ListField(child=serializers.CharField(), required=False)
    allow_multiple = serializers.BooleanField(required=False)
    blind_review = serializers.BooleanField(required=False)
    reviewers_per_application = serializers.IntegerField(required=False)
    show_reviewer_comments = serializers.BooleanField(required=False)
    project_months = serializers.IntegerField(required=False)
    criteria = CriterionSerializer(many=True, required=False)
    form_fields = serializers.ListField(child=serializers.DictField(), required=False)


class CallTransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CallStatus.choices)


class InfoRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = InfoRequest
        fields = ["id", "question", "asked_at", "answer", "answered_at"]
        read_only_fields = fields


class ApplicationSerializer(serializers.ModelSerializer):
    """Staff and the applicant see who applied; reviewers get ``ReviewApplicationSerializer``."""

    status_label = serializers.CharField(source="get_status_display", read_only=True)
    organisation = serializers.SerializerMethodField()
    code = serializers.CharField(read_only=True)
    info_requests = InfoRequestSerializer(many=True, read_only=True)

    class Meta:
        model = Application
        fields = [
            "id",
            "code",
            "call",
            "organisation",
            "title",
            "summary",
            "requested_amount",
            "answers",
            "status",
            "status_label",
            "status_reason",
            "submitted_at",
            "saved_at",
            "awarded_amount",
            "info_requests",
        ]
        read_only_fields = fields

    def get_organisation(self, obj: Application) -> dict[str, Any]:
        return {"id": obj.organisation_id, "name": obj.organisation.name}


class ApplicationSaveSerializer(serializers.Serializer):
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    summary = serializers.CharField(required=False, allow_blank=True)
    requested_amount = serializers.IntegerField(required=False, min_value=0, help_text="fen")
    answers = serializers.DictField(required=False)


class ApplySerializer(serializers.Serializer):
    organisation = serializers.IntegerField()


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class ScreenSerializer(ReasonSerializer):
    eligible = serializers.BooleanField()


class QuestionSerializer(serializers.Serializer):
    question = serializers.CharField()


class AnswerSerializer(serializers.Serializer):
    answer = serializers.CharField()


class AssignSerializer(serializers.Serializer):
    reviewer = serializers.IntegerField()


class AutoAssignSerializer(serializers.Serializer):
    per_application = serializers.IntegerField(required=False, min_value=1, max_value=20)


class DetermineSerializer(ReasonSerializer):
    outcome = serializers.ChoiceField(choices=services.OUTCOMES)
    amount = serializers.IntegerField(required=False, allow_null=True, help_text="fen")


class RankingRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    id = serializers.IntegerField()
    code = serializers.CharField()
    applicant = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    score = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    low = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    high = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    spread = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    reviews = serializers.IntegerField()
    disagreement = serializers.BooleanField()


class ReviewApplicationSerializer(serializers.Serializer):
    """What a reviewer sees of an application: in a blind call, never who applied."""

    id = serializers.IntegerField()
    code = serializers.CharField()
    applicant = serializers.CharField(allow_null=True)
    title = serializers.CharField()
    summary = serializers.CharField(allow_null=True)
    requested_amount = serializers.IntegerField()
    answers = serializers.DictField(allow_null=True)


class AssignmentSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    call_title = serializers.CharField(source="call.title", read_only=True)
    application = serializers.SerializerMethodField()
    scores = serializers.SerializerMethodField()

    class Meta:
        model = ReviewAssignment
        fields = ["id", "status", "status_label", "call", "call_title", "application", "total", "scores"]
        read_only_fields = fields

    def get_application(self, obj: ReviewAssignment) -> dict[str, Any]:
        return review_view_of(obj)

    def get_scores(self, obj: ReviewAssignment) -> list[dict[str, Any]]:
        if not self.context.get("detail"):
            return []
        return [{"criterion": s.criterion_id, "score": s.score, "comment": s.comment} for s in obj.scores.all()]


def review_view_of(assignment: ReviewAssignment) -> dict[str, Any]:
    """The application as its reviewer may see it: content only after declaring no conflict, identity never in a
    blind call."""
    app = assignment.application
    visible = assignment.status in (AssignmentStatus.REVIEWING, AssignmentStatus.SUBMITTED)
    blind = assignment.call.blind_review
    return {
        "id": app.pk,
        "code": app.code,
        "applicant": None if blind else app.organisation.name,
        "title": app.title,
        "summary": app.summary if visible else None,
        "requested_amount": app.requested_amount,
        "answers": app.answers if visible else None,
    }


class ScoreInputSerializer(serializers.Serializer):
    criterion = serializers.IntegerField()
    score = serializers.IntegerField(min_value=0)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ScoresSerializer(serializers.Serializer):
    scores = ScoreInputSerializer(many=True)
    submit = serializers.BooleanField(required=False, default=False)


class DeclareSerializer(serializers.Serializer):
    conflict = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


# --- Staff ------------------------------------------------------------------------------------------------------


def _criteria(data: list[dict[str, Any]]) -> list[services.CriterionInput]:
    return [
        services.CriterionInput(
            name_zh=c.get("name_zh", ""),
            name_en=c.get("name_en", ""),
            guidance=c.get("guidance", ""),
            weight=c.get("weight", 0),
            max_score=c.get("max_score", 10),
        )
        for c in data
    ]


class StaffView(HubAPIView):
    hub_roles = STAFF

    def call(self, pk: int) -> Call:
        return get_object_or_404(Call, pk=pk)

    def application(self, pk: int) -> Application:
        return get_object_or_404(Application.objects.select_related("organisation", "call"), pk=pk)


class CallListView(StaffView):
    serializer_class = CallSerializer

    def get_queryset(self) -> Any:
        return Call.objects.prefetch_related("criteria")

    @extend_schema(responses=CallSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(CallSerializer(page, many=True).data)

    @extend_schema(request=CallInputSerializer, responses={201: CallSerializer})
    def post(self, request: Request) -> Response:
        s = CallInputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        data = dict(s.validated_data)
        criteria, form = data.pop("criteria", None), data.pop("form_fields", None)
        from django.db import transaction

        with transaction.atomic():
            call = services.call_create(actor=_me(request), **data)
            if criteria is not None:
                services.call_rubric_set(call=call, actor=_me(request), criteria=_criteria(criteria))
            if form is not None:
                call = services.call_form_set(call=call, actor=_me(request), fields=form)
        return Response(CallSerializer(call).data, status=status.HTTP_201_CREATED)


class CallDetailView(StaffView):
    serializer_class = CallSerializer

    def get(self, request: Request, pk: int) -> Response:
        return Response(CallSerializer(self.call(pk)).data)

    @extend_schema(request=CallInputSerializer, responses=CallSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        call = self.call(pk)
        s = CallInputSerializer(data=request.data, partial=True)
        s.is_valid(raise_exception=True)
        data = dict(s.validated_data)
        criteria, form = data.pop("criteria", None), data.pop("form_fields", None)
        from django.db import transaction

        with transaction.atomic():
            call = services.call_update(call=call, actor=_me(request), **data)
            if criteria is not None:
                services.call_rubric_set(call=call, actor=_me(request), criteria=_criteria(criteria))
            if form is not None:
                call = services.call_form_set(call=call, actor=_me(request), fields=form)
        call.refresh_from_db()
        return Response(CallSerializer(call).data)


class CallTransitionView(StaffView):
    serializer_class = CallTransitionSerializer

    @extend_schema(request=CallTransitionSerializer, responses=CallSerializer)
    def post(self, request: Request, pk: int) -> Response:
        s = CallTransitionSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        call = services.call_transition(call=self.call(pk), to=s.validated_data["status"], actor=_me(request))
        return Response(CallSerializer(call).data)


class CallApplicationsView(StaffView):
    serializer_class = ApplicationSerializer

    @extend_schema(responses=ApplicationSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        call = self.call(pk)
        qs = selectors.applications_of_call(call=call, status=request.query_params.get("status", ""))
        page = self.paginate_queryset(qs.prefetch_related("info_requests"))
        return self.get_paginated_response(ApplicationSerializer(page, many=True).data)


def ranking_rows(call: Call, rows: Any, *, offset: int = 0) -> list[dict[str, Any]]:
    blind = selectors.is_blind_for_staff(call)
    return [
        {
            "rank": offset + i,
            "id": app.pk,
            "code": app.code,
            "applicant": selectors.applicant_label(app, blind=blind),
            "title": app.title,
            "status": app.status,
            "score": app.score,
            "low": app.low,
            "high": app.high,
            "spread": app.spread,
            "reviews": app.reviews,
            "disagreement": app.spread is not None and app.spread >= selectors.SPREAD_ALERT,
        }
        for i, app in enumerate(rows, start=1)
    ]


class CallRankingView(StaffView):
    serializer_class = RankingRowSerializer

    @extend_schema(responses=RankingRowSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        call = self.call(pk)
        page = self.paginate_queryset(selectors.ranking(call=call))
        offset = (self.paginator.page.start_index() - 1) if page is not None else 0  # type: ignore[union-attr]
        return self.get_paginated_response(
            RankingRowSerializer(ranking_rows(call, page, offset=offset), many=True).data
        )


class CallAutoAssignView(StaffView):
    serializer_class = AutoAssignSerializer

    @extend_schema(request=AutoAssignSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, pk: int) -> Response:
        s = AutoAssignSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        made = services.reviewers_auto_assign(
            call=self.call(pk), actor=_me(request), per_application=s.validated_data.get("per_application")
        )
        return Response({"assignments": made})


class CallExportView(StaffView):
    @extend_schema(responses={(200, XLSX): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int) -> HttpResponse:
        call = self.call(pk)
        response = HttpResponse(exports.call_workbook(call=call), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="call-{call.pk}.xlsx"'
        return response


class CallResultsPdfView(StaffView):
    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int) -> HttpResponse:
        call = self.call(pk)
        response = HttpResponse(exports.call_results_pdf(call=call), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="call-{call.pk}-results.pdf"'
        return response


class ApplicationStaffView(StaffView):
    serializer_class = ApplicationSerializer

    def get(self, request: Request, pk: int) -> Response:
        return Response(ApplicationSerializer(self.application(pk)).data)


class ApplicationScreenView(StaffView):
    serializer_class = ScreenSerializer

    @extend_schema(request=ScreenSerializer, responses=ApplicationSerializer)
    def post(self, request: Request, pk: int) -> Response:
        s = ScreenSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        app = services.application_screen(application=self.application(pk), actor=_me(request), **s.validated_data)
        return Response(ApplicationSerializer(app).data)


class ApplicationInfoRequestView(StaffView):
    serializer_class = QuestionSerializer

    @extend_schema(request=QuestionSerializer, responses={201: InfoRequestSerializer})
    def post(self, request: Request, pk: int) -> Response:
        s = QuestionSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        made = services.application_info_request(
            application=self.application(pk), actor=_me(request), question=s.validated_data["question"]
        )
        return Response(InfoRequestSerializer(made).data, status=status.HTTP_201_CREATED)


class ApplicationAssignView(StaffView):
    serializer_class = AssignSerializer

    @extend_schema(request=AssignSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request, pk: int) -> Response:
        s = AssignSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        reviewer = get_object_or_404(User, pk=s.validated_data["reviewer"])
        made = services.reviewer_assign(application=self.application(pk), reviewer=reviewer, actor=_me(request))
        return Response({"id": made.pk, "reviewer": reviewer.pk, "status": made.status}, status=status.HTTP_201_CREATED)


class ApplicationDetermineView(StaffView):
    serializer_class = DetermineSerializer

    @extend_schema(request=DetermineSerializer, responses=ApplicationSerializer)
    def post(self, request: Request, pk: int) -> Response:
        s = DetermineSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        app = services.application_determine(application=self.application(pk), actor=_me(request), **s.validated_data)
        return Response(ApplicationSerializer(app).data)


# --- Public and applicant side ----------------------------------------------------------------------------------


class PublicCallListView(HubAPIView):
    hub_public = True
    serializer_class = PublicCallSerializer

    @extend_schema(responses=PublicCallSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.calls_public())
        return self.get_paginated_response(PublicCallSerializer(page, many=True).data)


class PublicCallDetailView(HubAPIView):
    hub_public = True
    serializer_class = PublicCallSerializer

    def get(self, request: Request, pk: int) -> Response:
        return Response(PublicCallSerializer(get_object_or_404(selectors.calls_public(), pk=pk)).data)


class ApplyView(OrganisationSideView):
    serializer_class = ApplySerializer

    @extend_schema(request=ApplySerializer, responses={201: ApplicationSerializer})
    def post(self, request: Request, pk: int) -> Response:
        s = ApplySerializer(data=request.data)
        s.is_valid(raise_exception=True)
        call = get_object_or_404(selectors.calls_public(), pk=pk)
        organisation = get_object_or_404(Organisation, pk=s.validated_data["organisation"], members__user=_me(request))
        app = services.application_start(call=call, organisation=organisation, actor=_me(request))
        return Response(ApplicationSerializer(app).data, status=status.HTTP_201_CREATED)


class MyApplicationsView(OrganisationSideView):
    serializer_class = ApplicationSerializer

    @extend_schema(responses=ApplicationSerializer(many=True))
    def get(self, request: Request) -> Response:
        qs = selectors.applications_mine(user=_me(request)).prefetch_related("info_requests")
        page = self.paginate_queryset(qs.order_by("-created_at", "-pk"))
        return self.get_paginated_response(ApplicationSerializer(page, many=True).data)


class MyApplicationBase(OrganisationSideView):
    def mine(self, pk: int) -> Application:
        return get_object_or_404(selectors.applications_mine(user=_me(self.request)), pk=pk)


class MyApplicationDetailView(MyApplicationBase):
    serializer_class = ApplicationSerializer

    def get(self, request: Request, pk: int) -> Response:
        return Response(ApplicationSerializer(self.mine(pk)).data)

    @extend_schema(request=ApplicationSaveSerializer, responses=ApplicationSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        s = ApplicationSaveSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        app = services.application_save(application=self.mine(pk), actor=_me(request), **s.validated_data)
        return Response(ApplicationSerializer(app).data)


class MyApplicationSubmitView(MyApplicationBase):
    @extend_schema(request=None, responses=ApplicationSerializer)
    def post(self, request: Request, pk: int) -> Response:
        app = services.application_submit(application=self.mine(pk), actor=_me(request))
        return Response(ApplicationSerializer(app).data)


class MyApplicationWithdrawView(MyApplicationBase):
    serializer_class = ReasonSerializer

    @extend_schema(request=ReasonSerializer, responses=ApplicationSerializer)
    def post(self, request: Request, pk: int) -> Response:
        s = ReasonSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        app = services.application_withdraw(application=self.mine(pk), actor=_me(request), **s.validated_data)
        return Response(ApplicationSerializer(app).data)


class MyApplicationAnswerView(MyApplicationBase):
    serializer_class = AnswerSerializer

    @extend_schema(request=AnswerSerializer, responses=InfoRequestSerializer)
    def post(self, request: Request, pk: int, request_id: int) -> Response:
        s = AnswerSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        info = get_object_or_404(InfoRequest, pk=request_id, application=self.mine(pk))
        answered = services.application_info_answer(info_request=info, actor=_me(request), **s.validated_data)
        return Response(InfoRequestSerializer(answered).data)


# --- Reviewers --------------------------------------------------------------------------------------------------


class ReviewerView(HubAPIView):
    hub_roles = REVIEWER

    def assignment(self, pk: int) -> ReviewAssignment:
        return get_object_or_404(
            ReviewAssignment.objects.select_related("application__organisation", "call"),
            pk=pk,
            reviewer_id=self.request.user.pk,
        )


class ReviewQueueView(ReviewerView):
    serializer_class = AssignmentSerializer

    @extend_schema(responses=AssignmentSerializer(many=True))
    def get(self, request: Request) -> Response:
        qs = selectors.reviewer_queue(reviewer=_me(request)).select_related("application__organisation")
        page = self.paginate_queryset(qs)
        response = self.get_paginated_response(AssignmentSerializer(page, many=True).data)
        response.data["progress"] = selectors.reviewer_progress(reviewer=_me(request))
        return response


class ReviewDetailView(ReviewerView):
    serializer_class = AssignmentSerializer

    def get(self, request: Request, pk: int) -> Response:
        return Response(AssignmentSerializer(self.assignment(pk), context={"detail": True}).data)


class ReviewDeclareView(ReviewerView):
    serializer_class = DeclareSerializer

    @extend_schema(request=DeclareSerializer, responses=AssignmentSerializer)
    def post(self, request: Request, pk: int) -> Response:
        s = DeclareSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        made = services.review_declare(assignment=self.assignment(pk), actor=_me(request), **s.validated_data)
        return Response(AssignmentSerializer(self.assignment(made.pk), context={"detail": True}).data)


class ReviewScoreView(ReviewerView):
    serializer_class = ScoresSerializer

    @extend_schema(request=ScoresSerializer, responses=AssignmentSerializer)
    def post(self, request: Request, pk: int) -> Response:
        s = ScoresSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        scores = [services.ScoreInput(i["criterion"], i["score"], i["comment"]) for i in s.validated_data["scores"]]
        made = services.review_score(
            assignment=self.assignment(pk), actor=_me(request), scores=scores, submit=s.validated_data["submit"]
        )
        return Response(AssignmentSerializer(self.assignment(made.pk), context={"detail": True}).data)
