"""API of the mutual-aid pool. Thin views: a serializer validates, one service call, a response. Visibility comes
from ``hubs.pool.permissions`` (sign-in; a pool the caller does not see is 404); roles from the services (403)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from hubs.partners.api import OrganisationSideView
from hubs.pool import selectors, services
from hubs.pool.models import Contribution, Loan, Pool, PoolMember
from hubs.pool.permissions import PoolAccess, access_for, member_visible, pool_access
from huoban.identity.models import Organisation


class PoolSerializer(serializers.ModelSerializer):
    figures = serializers.SerializerMethodField()
    rules_version = serializers.SerializerMethodField()

    class Meta:
        model = Pool
        fields = ["id", "name", "description", "currency", "is_open", "figures", "rules_version"]

    def get_figures(self, obj: Pool) -> dict[str, int]:
        f = selectors.pool_figures(pool=obj)
        return {
            "cash": f.cash,
            "reserved": f.reserved,
            "loans": f.loans,
            "income": f.income,
            "writeoffs": f.writeoffs,
            "equity": f.equity,
            "available": f.available,
        }

    def get_rules_version(self, obj: Pool) -> int:
        return obj.rules.version


class PoolMemberSerializer(serializers.ModelSerializer):
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)
    equity = serializers.SerializerMethodField()

    class Meta:
        model = PoolMember
        fields = ["id", "organisation", "organisation_name", "status", "joined_at", "left_at", "equity"]

    def get_equity(self, obj: PoolMember) -> int:
        return selectors.member_equity(member=obj)


class LoanSerializer(serializers.ModelSerializer):
    outstanding = serializers.SerializerMethodField()
    days_past_due = serializers.SerializerMethodField()
    rules_version = serializers.IntegerField(source="rules.version", read_only=True)

    class Meta:
        model = Loan
        fields = [
            "id",
            "member",
            "status",
            "amount",
            "fee",
            "purpose",
            "receivable_payer",
            "receivable_contract",
            "receivable_expected_on",
            "receivable_paid_on",
            "disbursed_on",
            "closed_on",
            "rules_version",
            "outstanding",
            "days_past_due",
        ]

    def get_outstanding(self, obj: Loan) -> int:
        return selectors.loan_outstanding(loan=obj).total

    def get_days_past_due(self, obj: Loan) -> int:
        return selectors.loan_days_past_due(loan=obj)


class PoolCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    rules = serializers.DictField(child=serializers.IntegerField(), required=False, default=dict)


class RulesSerializer(serializers.Serializer):
    changes = serializers.DictField(child=serializers.IntegerField())
    note = serializers.CharField(required=False, allow_blank=True, default="")


class JoinSerializer(serializers.Serializer):
    organisation = serializers.IntegerField()


class DecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ContributionSerializer(serializers.Serializer):
    amount = serializers.IntegerField(help_text="fen")
    kind = serializers.ChoiceField(choices=Contribution.Kind.choices, default=Contribution.Kind.PERIODIC)
    received_on = serializers.DateField(required=False)
    key = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)


class LoanApplySerializer(serializers.Serializer):
    amount = serializers.IntegerField(help_text="fen")
    purpose = serializers.CharField(max_length=500)
    receivable_payer = serializers.CharField(max_length=200)
    receivable_contract = serializers.CharField(max_length=200)
    receivable_expected_on = serializers.DateField()
    guarantors = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)


class LoanActionSerializer(serializers.Serializer):
    approve = serializers.BooleanField(required=False, default=False)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    amount = serializers.IntegerField(required=False, help_text="fen")
    received_on = serializers.DateField(required=False)
    key = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)


def _access(request: Request, pk: int) -> PoolAccess:
    try:
        return pool_access(request.user, pk)
    except Http404 as exc:
        raise exceptions.NotFound() from exc


class PoolListView(OrganisationSideView):
    pagination_class = None  # the whole list: a pool has at most a few hundred of them

    @extend_schema(responses=PoolSerializer(many=True))
    def get(self, request: Request) -> Response:
        if not access_for(request.user).sees:
            raise exceptions.NotFound()
        return Response(PoolSerializer(Pool.objects.order_by("id"), many=True).data)

    @extend_schema(request=PoolCreateSerializer, responses=PoolSerializer)
    def post(self, request: Request) -> Response:
        if not access_for(request.user).sees:
            raise exceptions.NotFound()
        data = PoolCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pool = services.pool_create(actor=request.user, **data.validated_data)
        return Response(PoolSerializer(pool).data, status=status.HTTP_201_CREATED)


class PoolDetailView(OrganisationSideView):
    @extend_schema(responses=PoolSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(PoolSerializer(_access(request, pk).pool).data)


class PoolRulesView(OrganisationSideView):
    @extend_schema(request=RulesSerializer, responses={201: None})
    def post(self, request: Request, pk: int) -> Response:
        access = _access(request, pk)
        data = RulesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rules = services.rules_update(pool=access.pool, actor=request.user, **data.validated_data)  # type: ignore[arg-type]
        return Response({"version": rules.version}, status=status.HTTP_201_CREATED)


class PoolDelinquencyView(OrganisationSideView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        access = _access(request, pk)
        if not access.officer:
            raise exceptions.PermissionDenied()
        d = selectors.pool_delinquency(pool=access.pool)  # type: ignore[arg-type]
        return Response(
            {"buckets": d.buckets, "categories": d.categories, "paused": d.paused, "reserve": d.reserve_total}
        )


class MemberListView(OrganisationSideView):
    pagination_class = None  # the whole list: a pool has at most a few hundred of them

    @extend_schema(responses=PoolMemberSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        access = _access(request, pk)
        members = access.pool.members.select_related("organisation") if access.officer else access.members  # type: ignore[union-attr]
        return Response(PoolMemberSerializer(members, many=True).data)

    @extend_schema(request=JoinSerializer, responses=PoolMemberSerializer)
    def post(self, request: Request, pk: int) -> Response:
        access = _access(request, pk)
        data = JoinSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        organisation = Organisation.objects.filter(pk=data.validated_data["organisation"]).first()
        if organisation is None:
            raise exceptions.NotFound()
        member = services.member_apply(pool=access.pool, organisation=organisation, actor=request.user)  # type: ignore[arg-type]
        return Response(PoolMemberSerializer(member).data, status=status.HTTP_201_CREATED)


def _member(access: PoolAccess, mid: int) -> PoolMember:
    member = PoolMember.objects.select_related("organisation", "pool").filter(pk=mid, pool=access.pool).first()
    if member is None or not member_visible(access, member):
        raise exceptions.NotFound()
    return member


class MemberDecisionView(OrganisationSideView):
    @extend_schema(request=DecisionSerializer, responses=PoolMemberSerializer)
    def post(self, request: Request, pk: int, mid: int) -> Response:
        member = _member(_access(request, pk), mid)
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.member_decide(member=member, actor=request.user, **data.validated_data)
        return Response(PoolMemberSerializer(member).data)


class MemberContributionView(OrganisationSideView):
    @extend_schema(request=ContributionSerializer, responses={201: None})
    def post(self, request: Request, pk: int, mid: int) -> Response:
        member = _member(_access(request, pk), mid)
        data = ContributionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contribution = services.contribution_record(member=member, actor=request.user, **data.validated_data)
        return Response(
            {"id": contribution.pk, "transaction": contribution.ledger_transaction_id}, status=status.HTTP_201_CREATED
        )


class MemberLeaveView(OrganisationSideView):
    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, pk: int, mid: int) -> Response:
        member = _member(_access(request, pk), mid)
        result = services.member_leave(member=member, actor=request.user)
        return Response({"offset": result.offset, "paid_out": result.paid_out})


class LoanListView(OrganisationSideView):
    pagination_class = None  # the whole list: a pool has at most a few hundred of them

    @extend_schema(responses=LoanSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        access = _access(request, pk)
        loans = Loan.objects.filter(pool=access.pool).select_related("rules")
        if not access.officer:
            loans = loans.filter(member__in=[m.pk for m in access.members])
        return Response(LoanSerializer(loans.order_by("-id")[:500], many=True).data)

    @extend_schema(request=LoanApplySerializer, responses=LoanSerializer)
    def post(self, request: Request, pk: int) -> Response:
        access = _access(request, pk)
        if access.member is None:
            raise exceptions.PermissionDenied()
        data = LoanApplySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values: dict[str, Any] = dict(data.validated_data)
        ids = values.pop("guarantors")
        guarantors = list(PoolMember.objects.filter(pool=access.pool, pk__in=ids))
        if len(guarantors) != len(set(ids)):
            raise exceptions.ValidationError({"guarantors": ["unknown member"]})
        loan = services.loan_apply(member=access.member, guarantors=guarantors, actor=request.user, **values)
        return Response(LoanSerializer(loan).data, status=status.HTTP_201_CREATED)


def _loan(access: PoolAccess, lid: int) -> Loan:
    loan = Loan.objects.select_related("member", "pool", "rules").filter(pk=lid, pool=access.pool).first()
    if loan is None or not member_visible(access, loan.member):
        raise exceptions.NotFound()
    return loan


class LoanDetailView(OrganisationSideView):
    @extend_schema(responses=LoanSerializer)
    def get(self, request: Request, pk: int, lid: int) -> Response:
        return Response(LoanSerializer(_loan(_access(request, pk), lid)).data)


class LoanActionView(OrganisationSideView):
    """``POST …/loans/<id>/<action>``: vote, disburse, repay, receivable-paid, pause, resume, write-off, cancel."""

    @extend_schema(request=LoanActionSerializer, responses=LoanSerializer, operation_id="pools_loans_action")
    def post(self, request: Request, pk: int, lid: int, action: str) -> Response:
        loan = _loan(_access(request, pk), lid)
        data = LoanActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        user = request.user
        if action == "vote":
            services.loan_vote(loan=loan, actor=user, approve=v["approve"], comment=v["comment"])
        elif action == "disburse":
            services.loan_disburse(loan=loan, actor=user)
        elif action == "repay":
            if "amount" not in v:
                raise exceptions.ValidationError({"amount": ["required"]})
            services.repayment_record(
                loan=loan, amount=v["amount"], actor=user, received_on=v.get("received_on"), key=v["key"]
            )
        elif action == "receivable-paid":
            services.loan_receivable_paid(loan=loan, actor=user, paid_on=v.get("received_on"), amount=v.get("amount"))
        elif action == "pause":
            services.loan_pause(loan=loan, actor=user, reason=v["reason"])
        elif action == "resume":
            services.loan_resume(loan=loan, actor=user)
        elif action == "write-off":
            services.loan_write_off(loan=loan, actor=user, reason=v["reason"])
        elif action == "cancel":
            services.loan_cancel(loan=loan, actor=user)
        else:
            raise exceptions.NotFound()
        loan.refresh_from_db()
        return Response(LoanSerializer(loan).data)
