"""Billing API. On a hub host (hub admins): the summary, invoices, plan changes, cancellation. On the base domain
(operators): revenue and status per hub, comps and credits. Amounts are integers in fen with their currency."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import selectors, services
from billing.dunning import grace_ends_at
from billing.models import BillingAccount, BillingCredit, BillingInvoice
from billing.permissions import IsHubAdmin
from billing.plans import CURRENCY, PAID_PLANS, PLANS, Plan, price_id_for
from billing.stripe_gateway import billing_enabled
from huoban.api.permissions import IsOperator
from tenants import selectors as tenant_selectors


class LimitsSerializer(serializers.Serializer):
    active_partners = serializers.IntegerField(allow_null=True)
    staff_seats = serializers.IntegerField(allow_null=True)
    storage_bytes = serializers.IntegerField(allow_null=True)
    open_calls = serializers.IntegerField(allow_null=True)


class PlanSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(source="display_name")
    name_zh = serializers.CharField()
    name_en = serializers.CharField()
    seat_price_fen = serializers.IntegerField(help_text="per staff seat per month")
    currency = serializers.SerializerMethodField()
    min_seats = serializers.IntegerField()
    max_seats = serializers.IntegerField()
    limits = serializers.SerializerMethodField()
    available = serializers.SerializerMethodField()

    def get_currency(self, plan: Plan) -> str:
        return CURRENCY

    @extend_schema_field(LimitsSerializer)
    def get_limits(self, plan: Plan) -> dict[str, int | None]:
        return plan.limits_for(plan.min_seats).as_dict()

    def get_available(self, plan: Plan) -> bool:
        return plan.is_free or (billing_enabled() and bool(price_id_for(plan.code)))


class UsageSerializer(serializers.Serializer):
    resource = serializers.CharField()
    name = serializers.CharField()
    used = serializers.IntegerField(allow_null=True)
    limit = serializers.IntegerField(allow_null=True)
    percent = serializers.IntegerField()


class SubscriptionSerializer(serializers.Serializer):
    id = serializers.CharField(source="subscription_id")
    status = serializers.CharField(source="subscription_status")
    plan = serializers.CharField(source="subscribed_plan")
    seats = serializers.IntegerField()
    current_period_end = serializers.DateTimeField(allow_null=True)
    cancel_at_period_end = serializers.BooleanField()
    trial_end = serializers.DateTimeField(allow_null=True)


class DunningSerializer(serializers.Serializer):
    payment_failed_at = serializers.DateTimeField(allow_null=True)
    grace_ends_at = serializers.DateTimeField(allow_null=True)
    read_only_by_billing = serializers.BooleanField()


class InvoiceSerializer(serializers.ModelSerializer):
    receipt_url = serializers.SerializerMethodField()

    class Meta:
        model = BillingInvoice
        fields = [
            "id",
            "stripe_invoice_id",
            "number",
            "status",
            "currency",
            "total",
            "amount_due",
            "amount_paid",
            "created",
            "paid_at",
            "period_start",
            "period_end",
            "hosted_invoice_url",
            "invoice_pdf",
            "receipt_url",
        ]
        read_only_fields = fields

    def get_receipt_url(self, obj: BillingInvoice) -> str:
        return f"{obj.hub.url}/billing/invoices/{obj.pk}/"


class BillingSummarySerializer(serializers.Serializer):
    enabled = serializers.BooleanField(help_text="false without STRIPE_SECRET_KEY: hubs stay on the free plan")
    plan = PlanSerializer()
    plan_source = serializers.ChoiceField(choices=["free", "subscription", "comp"])
    seats = serializers.IntegerField()
    monthly_fen = serializers.IntegerField()
    currency = serializers.CharField()
    limits = LimitsSerializer()
    usage = UsageSerializer(many=True)
    subscription = SubscriptionSerializer(allow_null=True)
    dunning = DunningSerializer()
    payment_method = serializers.CharField()


def _summary_data(summary: selectors.BillingSummary) -> dict[str, Any]:
    account = summary.account
    live = account is not None and bool(account.subscription_id)
    return {
        "enabled": summary.enabled,
        "plan": summary.plan,
        "plan_source": summary.source,
        "seats": summary.seats,
        "monthly_fen": summary.monthly_fen,
        "currency": CURRENCY,
        "limits": {row.resource: row.limit for row in summary.usage},
        "usage": [
            {"resource": r.resource, "name": r.label, "used": r.used, "limit": r.limit, "percent": r.percent}
            for r in summary.usage
        ],
        "subscription": account if live else None,
        "dunning": {
            "payment_failed_at": account.payment_failed_at if account else None,
            "grace_ends_at": summary.grace_ends_at,
            "read_only_by_billing": bool(account and account.read_only_by_billing),
        },
        "payment_method": account.payment_method_label if account else "",
    }


class BillingSummaryView(APIView):
    """This hub's plan, limits and usage, subscription and dunning state (hub admins)."""

    permission_classes = [IsHubAdmin]

    @extend_schema(responses=BillingSummarySerializer, operation_id="billing_summary_retrieve")
    def get(self, request: Request) -> Response:
        summary = selectors.billing_summary(hub=request.hub, invoices=0)  # type: ignore[attr-defined]
        return Response(BillingSummarySerializer(_summary_data(summary)).data)


class BillingPlansView(APIView):
    """The plan catalogue (anyone): prices per staff seat per month in fen, and limits."""

    permission_classes = [AllowAny]
    hub_public = True

    @extend_schema(responses=PlanSerializer(many=True), operation_id="billing_plans_list")
    def get(self, request: Request) -> Response:
        return Response(PlanSerializer(list(PLANS.values()), many=True).data)


class BillingInvoicesView(generics.ListAPIView):
    """This hub's invoices, newest first, with receipt links (hub admins)."""

    permission_classes = [IsHubAdmin]
    serializer_class = InvoiceSerializer

    def get_queryset(self):
        return selectors.hub_invoices(hub=self.request.hub).select_related("hub")  # type: ignore[attr-defined]

    @extend_schema(operation_id="billing_invoices_list")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class PlanChangeSerializer(serializers.Serializer):
    plan = serializers.ChoiceField(choices=[*PAID_PLANS, "free"])
    seats = serializers.IntegerField(min_value=0, max_value=500, required=False, default=0)


class PlanChangeResultSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["checkout", "subscribed", "changed", "unchanged", "cancel_scheduled"])
    checkout_url = serializers.CharField(allow_blank=True)
    message = serializers.CharField(allow_blank=True)
    invoice = InvoiceSerializer(allow_null=True)
    summary = BillingSummarySerializer()


def _result(request: Request, result: services.PlanChangeResult) -> Response:
    summary = selectors.billing_summary(hub=request.hub, invoices=0)  # type: ignore[attr-defined]
    data = {
        "outcome": result.outcome,
        "checkout_url": result.checkout_url,
        "message": result.message,
        "invoice": result.invoice,
        "summary": _summary_data(summary),
    }
    return Response(PlanChangeResultSerializer(data).data)


class BillingPlanChangeView(APIView):
    """Subscribe or change plan / seats (hub admins). ``outcome == "checkout"`` means: send the person to
    ``checkout_url`` (Stripe) to add a payment method and finish. Moving to ``free`` cancels at period end."""

    permission_classes = [IsHubAdmin]

    @extend_schema(
        request=PlanChangeSerializer, responses=PlanChangeResultSerializer, operation_id="billing_plan_change"
    )
    def post(self, request: Request) -> Response:
        data = PlanChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        plan = data.validated_data["plan"]
        seats = data.validated_data["seats"] or PLANS[plan].min_seats
        result = services.billing_plan_change(
            hub=request.hub,  # type: ignore[attr-defined]
            plan_code=plan,
            seats=seats,
            actor=request.user,  # type: ignore[arg-type]
        )
        return _result(request, result)


class BillingCancelView(APIView):
    """Cancel the subscription at the end of the paid period (hub admins)."""

    permission_classes = [IsHubAdmin]

    @extend_schema(request=None, responses=PlanChangeResultSerializer, operation_id="billing_cancel")
    def post(self, request: Request) -> Response:
        result = services.billing_cancel(hub=request.hub, actor=request.user)  # type: ignore[attr-defined, arg-type]
        return _result(request, result)


class BillingResumeView(APIView):
    """Undo a cancellation that has not taken effect (hub admins)."""

    permission_classes = [IsHubAdmin]

    @extend_schema(request=None, responses=BillingSummarySerializer, operation_id="billing_resume")
    def post(self, request: Request) -> Response:
        services.billing_resume(hub=request.hub, actor=request.user)  # type: ignore[attr-defined, arg-type]
        summary = selectors.billing_summary(hub=request.hub, invoices=0)  # type: ignore[attr-defined]
        return Response(BillingSummarySerializer(_summary_data(summary)).data)


class SetupIntentSerializer(serializers.Serializer):
    id = serializers.CharField()
    client_secret = serializers.CharField()


class BillingSetupIntentView(APIView):
    """Start saving a payment method with Stripe.js: confirm the returned SetupIntent in the browser, then POST
    its payment method to ``billing/payment-method`` (hub admins)."""

    permission_classes = [IsHubAdmin]

    @extend_schema(request=None, responses={201: SetupIntentSerializer}, operation_id="billing_setup_intent_create")
    def post(self, request: Request) -> Response:
        intent = services.billing_setup_intent_create(hub=request.hub, actor=request.user)  # type: ignore[attr-defined, arg-type]
        return Response(SetupIntentSerializer(intent).data, status=status.HTTP_201_CREATED)


class PaymentMethodSerializer(serializers.Serializer):
    payment_method = serializers.RegexField(r"^pm_[A-Za-z0-9_]+$", max_length=100)


class BillingPaymentMethodView(APIView):
    """Make a saved payment method the hub's default for its invoices (hub admins)."""

    permission_classes = [IsHubAdmin]

    @extend_schema(
        request=PaymentMethodSerializer, responses=BillingSummarySerializer, operation_id="billing_payment_method_set"
    )
    def post(self, request: Request) -> Response:
        data = PaymentMethodSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.payment_method_set(
            hub=request.hub,  # type: ignore[attr-defined]
            payment_method_id=data.validated_data["payment_method"],
            actor=request.user,
        )
        summary = selectors.billing_summary(hub=request.hub, invoices=0)  # type: ignore[attr-defined]
        return Response(BillingSummarySerializer(_summary_data(summary)).data)


# --- operators ----------------------------------------------------------------------------------------------


class OperatorBillingRowSerializer(serializers.Serializer):
    slug = serializers.CharField(source="hub.slug")
    name_zh = serializers.CharField(source="hub.name_zh")
    hub_status = serializers.CharField(source="hub.status")
    plan = serializers.CharField(source="plan.code")
    plan_source = serializers.CharField(source="source")
    seats = serializers.IntegerField()
    subscription_status = serializers.CharField(source="status")
    currency = serializers.SerializerMethodField()
    mrr_fen = serializers.IntegerField()
    paid_30d_fen = serializers.IntegerField()
    paid_total_fen = serializers.IntegerField()
    open_fen = serializers.IntegerField()
    credits_fen = serializers.IntegerField()
    payment_failed_at = serializers.DateTimeField(source="account.payment_failed_at", allow_null=True, default=None)
    read_only_by_billing = serializers.BooleanField(source="account.read_only_by_billing", default=False)
    comp_reason = serializers.CharField(source="account.comp_reason", default="")

    def get_currency(self, row: selectors.RevenueRow) -> str:
        return CURRENCY


class OperatorBillingHubsView(APIView):
    """Operators: plan, subscription status and revenue of every hub."""

    permission_classes = [IsOperator]

    @extend_schema(responses=OperatorBillingRowSerializer(many=True), operation_id="operator_billing_hubs_list")
    def get(self, request: Request) -> Response:
        return Response(OperatorBillingRowSerializer(selectors.billing_revenue_all_hubs(), many=True).data)


class OperatorBillingHubDetailSerializer(serializers.Serializer):
    summary = BillingSummarySerializer()
    grace_ends_at = serializers.DateTimeField(allow_null=True)
    invoices = InvoiceSerializer(many=True)


class OperatorBillingHubView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(responses=OperatorBillingHubDetailSerializer, operation_id="operator_billing_hub_retrieve")
    def get(self, request: Request, slug: str) -> Response:
        hub = get_object_or_404(tenant_selectors.hub_list_all_hubs(), slug=slug)
        summary = selectors.billing_summary(hub=hub, invoices=50)
        data = {
            "summary": _summary_data(summary),
            "grace_ends_at": grace_ends_at(summary.account) if summary.account else None,
            "invoices": summary.invoices,
        }
        return Response(OperatorBillingHubDetailSerializer(data).data)


class CompSerializer(serializers.Serializer):
    plan = serializers.ChoiceField(choices=list(PAID_PLANS))
    seats = serializers.IntegerField(min_value=1, max_value=500, required=False, allow_null=True, default=None)
    reason = serializers.CharField(max_length=500)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class CompStateSerializer(serializers.Serializer):
    comp_plan = serializers.CharField()
    comp_seats = serializers.IntegerField(allow_null=True)
    comp_reason = serializers.CharField()


class OperatorBillingCompView(APIView):
    """Operators: give a hub a plan free of charge (POST) or end it (DELETE); a reason is required."""

    permission_classes = [IsOperator]

    @extend_schema(request=CompSerializer, responses=CompStateSerializer, operation_id="operator_billing_comp_set")
    def post(self, request: Request, slug: str) -> Response:
        hub = get_object_or_404(tenant_selectors.hub_list_all_hubs(), slug=slug)
        data = CompSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        account: BillingAccount = services.billing_comp_set(
            hub=hub,
            plan_code=data.validated_data["plan"],
            seats=data.validated_data["seats"],
            reason=data.validated_data["reason"],
            actor=request.user,  # type: ignore[arg-type]
        )
        return Response(CompStateSerializer(account).data)

    @extend_schema(request=ReasonSerializer, responses=CompStateSerializer, operation_id="operator_billing_comp_clear")
    def delete(self, request: Request, slug: str) -> Response:
        hub = get_object_or_404(tenant_selectors.hub_list_all_hubs(), slug=slug)
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        account = services.billing_comp_clear(
            hub=hub,
            reason=data.validated_data["reason"],
            actor=request.user,  # type: ignore[arg-type]
        )
        return Response(CompStateSerializer(account).data)


class CreditRequestSerializer(serializers.Serializer):
    amount_fen = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(max_length=500)


class CreditSerializer(serializers.ModelSerializer):
    class Meta:
        model = BillingCredit
        fields = ["id", "amount", "currency", "reason", "stripe_invoice_item_id", "created_at"]
        read_only_fields = fields


class OperatorBillingCreditView(APIView):
    """Operators: credit a hub; Stripe takes it off the hub's next invoice."""

    permission_classes = [IsOperator]

    @extend_schema(
        request=CreditRequestSerializer,
        responses={201: CreditSerializer},
        operation_id="operator_billing_credit_grant",
    )
    def post(self, request: Request, slug: str) -> Response:
        hub = get_object_or_404(tenant_selectors.hub_list_all_hubs(), slug=slug)
        data = CreditRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        credit = services.billing_credit_grant(
            hub=hub,
            amount_fen=data.validated_data["amount_fen"],
            reason=data.validated_data["reason"],
            actor=request.user,  # type: ignore[arg-type]
        )
        return Response(CreditSerializer(credit).data, status=status.HTTP_201_CREATED)
