"""API of project delivery. Thin views: a serializer validates, one service call, a response.

Project endpoints are open to the people working on the project (``hubs.projects.permissions``: staff, assigned
ambassadors, implementer and funder members, evaluators); the capacity each action needs is declared per view.
Someone with no role in the hub and no part in the project gets 404. The ``projects/public`` endpoints need no
sign-in and return only public data (masked).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hubs.core.permissions import STAFF, HubAPIView
from hubs.ledger.money import MAX_FEN
from hubs.projects import permissions as perms
from hubs.projects import selectors, services
from hubs.projects.models import (
    BudgetLine,
    Expense,
    FundingSource,
    Milestone,
    Project,
    ProjectStatus,
    ReportKind,
    RespondentKind,
    ReviewDecision,
    Tranche,
)
from hubs.projects.public import public_detail_context
from hubs.projects.selectors import mask_text
from huoban.discovery.models import ServiceArea
from huoban.errors import ApplicationError


class HubSignedIn(permissions.BasePermission):
    """On a hub host and signed in; the project's own rules (``project_access``) decide the rest."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if getattr(request, "hub", None) is None:
            raise exceptions.NotFound()
        if not (request.user and request.user.is_authenticated):
            raise exceptions.NotAuthenticated()
        return True


class ProjectAPIView(HubAPIView):
    hub_public = True
    needs: ClassVar[set[str] | None] = None  # capacities for writes; reads need any capacity
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_permissions(self) -> list[Any]:
        return [HubSignedIn()]

    def project(self, pk: int) -> Project:
        project = Project.objects.filter(pk=pk).first()
        if project is None:
            raise Http404
        write = self.request.method not in permissions.SAFE_METHODS
        perms.project_access(user=self.request.user, project=project, needs=self.needs if write else None)
        return project


# --- Serializers ------------------------------------------------------------------------------------------------


class BudgetLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = BudgetLine
        fields = ["id", "name", "amount"]


class FundingSourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = FundingSource
        fields = ["id", "funder_id", "amount", "restricted", "account_id"]


class MilestoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Milestone
        fields = ["id", "title", "title_en", "due_date", "deliverable", "amount", "completed_on"]
        read_only_fields = fields


class TrancheSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tranche
        fields = [
            "id",
            "title",
            "amount",
            "budget_line_id",
            "funding_source_id",
            "milestone_id",
            "status",
            "ambassador_approver_id",
            "staff_approver_id",
            "transaction_id",
            "released_at",
        ]
        read_only_fields = fields


class ExpenseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Expense
        fields = [
            "id",
            "budget_line_id",
            "amount",
            "description",
            "spent_on",
            "status",
            "receipt_file_id",
            "transaction_id",
        ]
        read_only_fields = fields


class ProjectSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    budget_lines = BudgetLineSerializer(many=True, read_only=True)
    funding_sources = FundingSourceSerializer(many=True, read_only=True)
    milestones = MilestoneSerializer(many=True, read_only=True)
    money = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = [
            "id",
            "title_zh",
            "title_en",
            "summary",
            "implementer_id",
            "service_area",
            "community",
            "beneficiaries",
            "beneficiary_count",
            "start_date",
            "end_date",
            "status",
            "status_label",
            "source",
            "budget_lines",
            "funding_sources",
            "milestones",
            "money",
            "created_at",
        ]
        read_only_fields = fields

    def get_money(self, obj: Project) -> dict[str, int]:
        m = selectors.project_money(project=obj)
        return {"received": m.received, "disbursed": m.disbursed, "spent": m.spent, "balance": m.balance}


class ProjectCreateSerializer(serializers.Serializer):
    title_zh = serializers.CharField(max_length=200)
    title_en = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    implementer_id = serializers.IntegerField()
    service_area = serializers.ChoiceField(choices=ServiceArea.choices)
    community = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    beneficiaries = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    beneficiary_count = serializers.IntegerField(min_value=0, required=False, default=0)
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    private_notes = serializers.CharField(required=False, allow_blank=True, default="")
    source = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")  # type: ignore[assignment]
    budget_lines = BudgetLineSerializer(many=True, required=False)
    funding = serializers.ListField(child=serializers.DictField(), required=False)


class TransitionSerializer(serializers.Serializer):
    to = serializers.CharField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class AmountSerializer(serializers.Serializer):
    amount = serializers.IntegerField(min_value=1, help_text="fen")


class BudgetLineInSerializer(AmountSerializer):
    name = serializers.CharField(max_length=200)


class FundingInSerializer(AmountSerializer):
    funder_id = serializers.IntegerField()
    restricted = serializers.BooleanField(default=True)


class ReceiptInSerializer(AmountSerializer):
    funding_source = serializers.IntegerField()
    received_on = serializers.DateField()
    receipt = serializers.FileField(required=False)


class MilestoneInSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, help_text="Chinese title")
    title_en = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    due_date = serializers.DateField()
    deliverable = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    amount = serializers.IntegerField(
        min_value=0, max_value=MAX_FEN, required=False, default=0, help_text="planned tranche, fen (0: none)"
    )


class ProjectMilestoneChangeSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    title_en = serializers.CharField(max_length=200, required=False, allow_blank=True)
    due_date = serializers.DateField(required=False)
    deliverable = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    amount = serializers.IntegerField(min_value=0, max_value=MAX_FEN, required=False, help_text="fen")


class ProjectBudgetLineChangeSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    amount = serializers.IntegerField(min_value=1, max_value=MAX_FEN, required=False, help_text="fen")


class ProjectChangeSerializer(serializers.Serializer):
    title_zh = serializers.CharField(max_length=200, required=False)
    title_en = serializers.CharField(max_length=200, required=False, allow_blank=True)
    summary = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    service_area = serializers.ChoiceField(choices=ServiceArea.choices, required=False)
    community = serializers.CharField(max_length=200, required=False, allow_blank=True)
    beneficiaries = serializers.CharField(max_length=300, required=False, allow_blank=True)
    beneficiary_count = serializers.IntegerField(min_value=0, max_value=2_000_000_000, required=False)
    start_date = serializers.DateField(required=False)
    end_date = serializers.DateField(required=False)
    private_notes = serializers.CharField(max_length=10000, required=False, allow_blank=True)


class AmbassadorInSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()


class TrancheInSerializer(AmountSerializer):
    title = serializers.CharField(max_length=200)
    budget_line = serializers.IntegerField()
    funding_source = serializers.IntegerField()
    milestone = serializers.IntegerField(required=False, allow_null=True)


class ReviewInSerializer(serializers.Serializer):
    capacity = serializers.ChoiceField(choices=[perms.AMBASSADOR_CAP, perms.STAFF_CAP])
    decision = serializers.ChoiceField(choices=ReviewDecision.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ExpenseInSerializer(AmountSerializer):
    budget_line = serializers.IntegerField()
    description = serializers.CharField(max_length=300)
    spent_on = serializers.DateField()
    receipt = serializers.FileField()


class VisitInSerializer(serializers.Serializer):
    visited_at = serializers.DateTimeField()
    findings = serializers.CharField()
    private_notes = serializers.CharField(required=False, allow_blank=True, default="")
    checklist = serializers.ListField(child=serializers.DictField(), required=False, default=list)


class ReportInSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    period_end = serializers.DateField()
    text = serializers.CharField()
    figures = serializers.DictField(required=False, default=dict)
    fund_usage = serializers.CharField(required=False, allow_blank=True, default="")


class IndicatorInSerializer(serializers.Serializer):
    indicator = serializers.IntegerField(required=False, allow_null=True)
    name = serializers.CharField(max_length=200)
    unit = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    baseline = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, default=Decimal(0))
    target = serializers.DecimalField(max_digits=14, decimal_places=2)
    actual = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True, default=None)


class SurveyInSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RespondentKind.choices)
    satisfaction = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class EvaluationInSerializer(serializers.Serializer):
    score = serializers.IntegerField(min_value=0, max_value=100)
    summary = serializers.CharField()
    evaluator_organisation = serializers.CharField(required=False, allow_blank=True, default="")


class IdSerializer(serializers.Serializer):
    id = serializers.IntegerField()


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _get(model: Any, project: Project, pk: Any, field: str) -> Any:
    obj = model.objects.filter(project=project, pk=pk).first() if pk else None
    if obj is None:
        raise ApplicationError(str(_not_in_project()), code="wrong_project", extra={"field": field})
    return obj


def _not_in_project() -> str:
    from django.utils.translation import gettext as _

    return _("不属于本项目。")


# --- Projects ---------------------------------------------------------------------------------------------------


class ProjectListView(ProjectAPIView):
    serializer_class = ProjectSerializer

    @extend_schema(responses=ProjectSerializer(many=True))
    def get(self, request: Request) -> Response:
        qs = selectors.project_list(
            qs=perms.visible_projects(user=request.user), status=request.query_params.get("status", "")
        )
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(ProjectSerializer(page, many=True).data)

    @extend_schema(request=ProjectCreateSerializer, responses={201: ProjectSerializer})
    def post(self, request: Request) -> Response:
        if not perms.is_staff(request.user):
            perms.project_access(user=request.user, project=Project(implementer_id=0), needs={perms.STAFF_CAP})
        data = _valid(ProjectCreateSerializer, request)
        lines = [services.BudgetLineInput(x["name"], x["amount"]) for x in data.pop("budget_lines", [])]
        funding = [
            services.FundingInput(int(x.get("funder_id", 0)), int(x.get("amount", 0)), bool(x.get("restricted", True)))
            for x in data.pop("funding", [])
        ]
        project = services.project_create(actor=request.user, budget_lines=lines, funding=funding, **data)
        return Response(ProjectSerializer(project).data, status=201)


class ProjectDetailView(ProjectAPIView):
    serializer_class = ProjectSerializer
    needs = {perms.STAFF_CAP}  # writes; reading needs any capacity

    def get(self, request: Request, pk: int) -> Response:
        return Response(ProjectSerializer(self.project(pk)).data)

    @extend_schema(request=ProjectChangeSerializer, responses=ProjectSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        project = self.project(pk)
        changes = _valid(ProjectChangeSerializer, request)
        return Response(ProjectSerializer(services.project_update(project=project, actor=request.user, **changes)).data)


class ProjectTransitionView(ProjectAPIView):
    needs = {perms.STAFF_CAP}

    @extend_schema(request=TransitionSerializer, responses=ProjectSerializer)
    def post(self, request: Request, pk: int) -> Response:
        project = self.project(pk)
        data = _valid(TransitionSerializer, request)
        return Response(
            ProjectSerializer(services.project_transition(project=project, actor=request.user, **data)).data
        )


class BudgetLineView(ProjectAPIView):
    needs = {perms.STAFF_CAP}

    @extend_schema(request=BudgetLineInSerializer, responses={201: BudgetLineSerializer})
    def post(self, request: Request, pk: int) -> Response:
        project = self.project(pk)
        line = services.budget_line_add(project=project, actor=request.user, **_valid(BudgetLineInSerializer, request))
        return Response(BudgetLineSerializer(line).data, status=201)


class BudgetLineDetailView(ProjectAPIView):
    needs = {perms.STAFF_CAP}

    def line(self, pk: int, line_id: int) -> BudgetLine:
        line = BudgetLine.objects.filter(project=self.project(pk), pk=line_id).first()
        if line is None:
            raise Http404
        return line

    @extend_schema(request=ProjectBudgetLineChangeSerializer, responses=BudgetLineSerializer)
    def patch(self, request: Request, pk: int, line_id: int) -> Response:
        line = self.line(pk, line_id)
        data = _valid(ProjectBudgetLineChangeSerializer, request)
        return Response(BudgetLineSerializer(services.budget_line_update(line=line, actor=request.user, **data)).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, pk: int, line_id: int) -> Response:
        services.budget_line_delete(line=self.line(pk, line_id), actor=request.user)
        return Response(status=204)


class FundingView(ProjectAPIView):
    needs = {perms.STAFF_CAP}

    @extend_schema(request=FundingInSerializer, responses={201: FundingSourceSerializer})
    def post(self, request: Request, pk: int) -> Response:
        project = self.project(pk)
        source = services.funding_source_add(
            project=project, actor=request.user, **_valid(FundingInSerializer, request)
        )
        return Response(FundingSourceSerializer(source).data, status=201)


class ReceiptView(ProjectAPIView):
    needs = {perms.STAFF_CAP}

    @extend_schema(request=ReceiptInSerializer, responses={201: IdSerializer})
    def post(self, request: Request, pk: int) -> Response:
        project = self.project(pk)
        data = _valid(ReceiptInSerializer, request)
        upload = data.get("receipt")
        receipt = services.funds_receive(
            project=project,
            funding_source=_get(FundingSource, project, data["funding_source"], "funding_source"),
            amount=data["amount"],
            received_on=data["received_on"],
            receipt=upload,
            receipt_name=getattr(upload, "name", ""),
            actor=request.user,
        )
        return Response({"id": receipt.pk, "transaction_id": receipt.transaction_id}, status=201)


class MilestoneView(ProjectAPIView):
    needs = {perms.STAFF_CAP, perms.IMPLEMENTER_CAP}

    @extend_schema(request=MilestoneInSerializer, responses={201: MilestoneSerializer})
    def post(self, request: Request, pk: int) -> Response:
        project = self.project(pk)
        m = services.milestone_add(project=project, actor=request.user, **_valid(MilestoneInSerializer, request))
        return Response(MilestoneSerializer(m).data, status=201)


class MilestoneDetailView(ProjectAPIView):
    needs = {perms.STAFF_CAP}

    def milestone(self, pk: int, milestone_id: int) -> Milestone:
        milestone = Milestone.objects.filter(project=self.project(pk), pk=milestone_id).first()
        if milestone is None:
            raise Http404
        return milestone

    @extend_schema(request=ProjectMilestoneChangeSerializer, responses=MilestoneSerializer)
    def patch(self, request: Request, pk: int, milestone_id: int) -> Response:
        milestone = self.milestone(pk, milestone_id)
        data = _valid(ProjectMilestoneChangeSerializer, request)
        return Response(
            MilestoneSerializer(services.milestone_update(milestone=milestone, actor=request.user, **data)).data
        )

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, pk: int, milestone_id: int) -> Response:
        services.milestone_delete(milestone=self.milestone(pk, milestone_id), actor=request.user)
        return Response(status=204)


class AmbassadorView(ProjectAPIView):
    needs = {perms.STAFF_CAP}

    @extend_schema(request=AmbassadorInSerializer, responses={201: IdSerializer})
    def post(self, request: Request, pk: int) -> Response:
        from huoban.identity.models import User

        project = self.project(pk)
        user = User.objects.filter(pk=_valid(AmbassadorInSerializer, request)["user_id"]).first()
        if user is None:
            raise Http404
        assignment = services.ambassador_assign(project=project, user=user, actor=request.user)
        return Response({"id": assignment.pk}, status=201)


class TrancheListView(ProjectAPIView):
    needs = {perms.STAFF_CAP, perms.IMPLEMENTER_CAP}
    serializer_class = TrancheSerializer

    def get(self, request: Request, pk: int) -> Response:
        return Response(TrancheSerializer(self.project(pk).tranches.all(), many=True).data)

    @extend_schema(request=TrancheInSerializer, responses={201: TrancheSerializer})
    def post(self, request: Request, pk: int) -> Response:
        project = self.project(pk)
        data = _valid(TrancheInSerializer, request)
        milestone = data.get("milestone")
        tranche = services.tranche_request(
            project=project,
            title=data["title"],
            amount=data["amount"],
            budget_line=_get(BudgetLine, project, data["budget_line"], "budget_line"),
            funding_source=_get(FundingSource, project, data["funding_source"], "funding_source"),
            milestone=_get(Milestone, project, milestone, "milestone") if milestone else None,
            actor=request.user,
        )
        return Response(TrancheSerializer(tranche).data, status=201)


class TrancheReviewView(ProjectAPIView):
    needs = {perms.STAFF_CAP, perms.AMBASSADOR_CAP}

    @extend_schema(request=ReviewInSerializer, responses=TrancheSerializer)
    def post(self, request: Request, pk: int, tranche_id: int) -> Response:
        project = self.project(pk)
        tranche = Tranche.objects.filter(project=project, pk=tranche_id).first()
        if tranche is None:
            raise Http404
        result = services.tranche_review(tranche=tranche, user=request.user, **_valid(ReviewInSerializer, request))
        return Response(TrancheSerializer(result).data)


class ExpenseListView(ProjectAPIView):
    needs = {perms.STAFF_CAP, perms.IMPLEMENTER_CAP}
    serializer_class = ExpenseSerializer

    def get(self, request: Request, pk: int) -> Response:
        return Response(ExpenseSerializer(self.project(pk).expenses.all(), many=True).data)

    @extend_schema(request=ExpenseInSerializer, responses={201: ExpenseSerializer})
    def post(self, request: Request, pk: int) -> Response:
        project = self.project(pk)
        data = _valid(ExpenseInSerializer, request)
        expense = services.expense_report(
            project=project,
            budget_line=_get(BudgetLine, project, data["budget_line"], "budget_line"),
            amount=data["amount"],
            description=data["description"],
            spent_on=data["spent_on"],
            receipt=data["receipt"],
            receipt_name=data["receipt"].name,
            actor=request.user,
        )
        return Response(ExpenseSerializer(expense).data, status=201)


class ExpenseReviewView(ProjectAPIView):
    needs = {perms.STAFF_CAP, perms.AMBASSADOR_CAP}

    @extend_schema(request=ReviewInSerializer, responses=ExpenseSerializer)
    def post(self, request: Request, pk: int, expense_id: int) -> Response:
        project = self.project(pk)
        expense = Expense.objects.filter(project=project, pk=expense_id).first()
        if expense is None:
            raise Http404
        result = services.expense_review(expense=expense, user=request.user, **_valid(ReviewInSerializer, request))
        return Response(ExpenseSerializer(result).data)


class VisitView(ProjectAPIView):
    needs = {perms.AMBASSADOR_CAP}

    @extend_schema(request=VisitInSerializer, responses={201: IdSerializer})
    def post(self, request: Request, pk: int) -> Response:
        project = self.project(pk)
        visit = services.site_visit_record(
            project=project, ambassador=request.user, **_valid(VisitInSerializer, request)
        )
        return Response({"id": visit.pk}, status=201)


class ReportView(ProjectAPIView):
    needs = {perms.STAFF_CAP, perms.IMPLEMENTER_CAP}

    @extend_schema(request=ReportInSerializer, responses={201: IdSerializer})
    def post(self, request: Request, pk: int) -> Response:
        project = self.project(pk)
        report = services.report_submit(project=project, actor=request.user, **_valid(ReportInSerializer, request))
        return Response({"id": report.pk}, status=201)


class IndicatorView(ProjectAPIView):
    needs = {perms.STAFF_CAP, perms.IMPLEMENTER_CAP}

    @extend_schema(request=IndicatorInSerializer, responses={201: IdSerializer})
    def post(self, request: Request, pk: int) -> Response:
        project = self.project(pk)
        data = _valid(IndicatorInSerializer, request)
        indicator_id = data.pop("indicator", None)
        indicator = project.indicators.filter(pk=indicator_id).first() if indicator_id else None
        row = services.indicator_set(project=project, indicator=indicator, actor=request.user, **data)
        return Response({"id": row.pk}, status=201)


class ProjectPhotoVisibilitySerializer(serializers.Serializer):
    public = serializers.BooleanField()


class PhotoVisibilityView(ProjectAPIView):
    """Staff choose whether a site-visit or report photo is shown on the public project page."""

    needs = {perms.STAFF_CAP}

    @extend_schema(request=ProjectPhotoVisibilitySerializer, responses=ProjectPhotoVisibilitySerializer)
    def post(self, request: Request, pk: int, file_id: str) -> Response:
        project = self.project(pk)
        public = _valid(ProjectPhotoVisibilitySerializer, request)["public"]
        services.photo_visibility_set(project=project, file_id=file_id, public=public, actor=request.user)
        return Response({"public": public})


class EvaluationView(ProjectAPIView):
    needs = {perms.STAFF_CAP, perms.EVALUATOR_CAP}

    @extend_schema(request=EvaluationInSerializer, responses={201: IdSerializer})
    def post(self, request: Request, pk: int) -> Response:
        project = self.project(pk)
        evaluation = services.evaluation_submit(
            project=project, evaluator=request.user, **_valid(EvaluationInSerializer, request)
        )
        return Response({"id": evaluation.pk}, status=201)


# --- Public -----------------------------------------------------------------------------------------------------


class PublicProjectSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title_zh = serializers.CharField()
    title_en = serializers.CharField()
    status = serializers.CharField()
    service_area = serializers.CharField()
    community = serializers.CharField()
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    implementer_id = serializers.IntegerField()


class PublicProjectListView(HubAPIView):
    hub_public = True
    serializer_class = PublicProjectSerializer

    @extend_schema(responses=PublicProjectSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.public_projects())
        return self.get_paginated_response(PublicProjectSerializer(page, many=True).data)


class PublicStatsView(HubAPIView):
    hub_public = True

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        t = selectors.hub_totals()
        return Response(
            {"projects": t.projects, "budget": t.budget, "raised": t.raised, "spent": t.spent, "partners": t.partners}
        )


class PublicProjectDetailView(HubAPIView):
    hub_public = True

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        project = selectors.public_project(pk=pk)
        if project is None:
            raise Http404
        ctx = public_detail_context(project)
        money = ctx["money"]
        return Response(
            {
                "project": PublicProjectSerializer(project).data,
                "implementer": ctx["implementer"],
                "summary": ctx["summary"],
                "budget": ctx["budget"],
                "money": {
                    "received": money.received,
                    "disbursed": money.disbursed,
                    "spent": money.spent,
                    "balance": money.balance,
                    "by_funder": [
                        {k: f[k] for k in ("funder", "pledged", "received", "restricted")} for f in money.by_funder
                    ],
                },
                "timeline": [{**row, "on": row["on"].isoformat()} for row in ctx["timeline"]],
                "milestones": [
                    {**m, "deliverable": mask_text(m["deliverable"])}
                    for m in MilestoneSerializer(ctx["milestones"], many=True).data
                ],
                "tranches": ctx["tranches"],
                "reports": ctx["reports"],
                "findings": ctx["findings"],
                "indicators": [
                    {
                        "name": i.name,
                        "unit": i.unit,
                        "baseline": str(i.baseline),
                        "target": str(i.target),
                        "actual": None if i.actual is None else str(i.actual),
                    }
                    for i in ctx["indicators"]
                ],
                "evaluations": ctx["evaluations"],
                "survey": ctx["survey"],
                "photos": [
                    {"url": request.build_absolute_uri(p["url"]), "source": p["source"], "on": p["on"].isoformat()}
                    for p in ctx["photos"]
                ],
            }
        )


class SurveyView(ProjectAPIView):
    """Any signed-in, verified person answers once; no project capacity needed."""

    @extend_schema(request=SurveyInSerializer, responses={201: IdSerializer})
    def post(self, request: Request, pk: int) -> Response:
        project = selectors.public_project(pk=pk)
        if project is None:
            raise Http404
        answer = services.survey_answer(project=project, respondent=request.user, **_valid(SurveyInSerializer, request))
        return Response({"id": answer.pk}, status=201)


__all__ = ["STAFF", "ProjectStatus"]
