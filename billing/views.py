"""Billing pages: the hub admin's "plan and billing" page on the hub host, the Stripe webhook and the operator
console's billing pages on the base domain."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing import selectors, services
from billing import stripe_gateway as gateway
from billing.dunning import grace_ends_at
from billing.events import stripe_event_receive
from billing.forms import CompClearForm, CompForm, CreditForm, PlanChangeForm
from billing.models import BillingInvoice, InvoiceStatus, StripeEvent
from billing.permissions import hub_admin_required
from huoban.audit.selectors import audit_event_list
from huoban.errors import ApplicationError
from huoban.web.forms import form_apply_error
from tenants import selectors as tenant_selectors
from tenants.entitlements import Resource
from tenants.views import operator_required

CHECKOUT_MESSAGES = {
    "done": gettext_noop("付款信息已提交，Stripe 确认后套餐即生效。"),
    "payment_method_saved": gettext_noop("付款方式已保存。"),
    "cancelled": gettext_noop("已返回，未做任何更改。"),
}


# --- hub host: the hub admin's page -------------------------------------------------------------------------


@hub_admin_required
def billing_home(request: HttpRequest) -> HttpResponse:
    return _home(request, None)


def _home(request: HttpRequest, form: PlanChangeForm | None) -> HttpResponse:
    hub = request.hub  # type: ignore[attr-defined]
    summary = selectors.billing_summary(hub=hub)
    if form is None:
        current = summary.plan.code if summary.source == "subscription" else "standard"
        seats_used = next((r.used for r in summary.usage if r.resource == Resource.STAFF_SEATS), None) or 1
        form = PlanChangeForm(initial={"plan": current, "seats": max(summary.seats, seats_used)})
    note = request.GET.get("checkout", "")
    return render(
        request,
        "billing/home.html",
        {
            "summary": summary,
            "account": summary.account,
            "form": form,
            "checkout_note": _(CHECKOUT_MESSAGES[note]) if note in CHECKOUT_MESSAGES else "",
            # a read-only hub refuses form posts (HubStatusMiddleware); paying goes through links to Stripe
            "writable": hub.accepts_writes,
        },
    )


@hub_admin_required
@require_POST
def billing_plan(request: HttpRequest) -> HttpResponse:
    form = PlanChangeForm(request.POST)
    if form.is_valid():
        try:
            result = services.billing_plan_change(
                hub=request.hub,  # type: ignore[attr-defined]
                plan_code=form.cleaned_data["plan"],
                seats=form.cleaned_data["seats"],
                actor=request.user,  # type: ignore[arg-type]
            )
        except ApplicationError as exc:
            form_apply_error(form, exc)
        else:
            if result.outcome == "checkout" and result.checkout_url:
                return HttpResponseRedirect(result.checkout_url)
            if result.message:
                messages.warning(request, result.message)
            elif result.outcome == "unchanged":
                messages.info(request, _("套餐没有变化。"))
            else:
                messages.success(request, _("套餐已更新。"))
            return redirect("billing-home")
    return _home(request, form)


@hub_admin_required
@require_POST
def billing_cancel(request: HttpRequest) -> HttpResponse:
    try:
        result = services.billing_cancel(hub=request.hub, actor=request.user)  # type: ignore[attr-defined, arg-type]
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        end = result.account.current_period_end
        messages.success(
            request,
            _("订阅将在 %(date)s 本期结束时取消，之前仍可使用当前套餐。")
            % {"date": end.strftime("%Y-%m-%d") if end else "—"},
        )
    return redirect("billing-home")


@hub_admin_required
@require_POST
def billing_resume(request: HttpRequest) -> HttpResponse:
    try:
        services.billing_resume(hub=request.hub, actor=request.user)  # type: ignore[attr-defined, arg-type]
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("已撤销取消，订阅将继续自动续费。"))
    return redirect("billing-home")


@hub_admin_required
def billing_payment_method(request: HttpRequest) -> HttpResponse:
    """Off to Stripe to save a new payment method. A link (GET) so it also works while the hub is read-only."""
    try:
        url = services.billing_payment_method_checkout(hub=request.hub, actor=request.user)  # type: ignore[attr-defined, arg-type]
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
        return redirect("billing-home")
    return HttpResponseRedirect(url)


def _hub_invoice(request: HttpRequest, pk: int) -> BillingInvoice:
    return get_object_or_404(selectors.hub_invoices(hub=request.hub), pk=pk)  # type: ignore[attr-defined]


@hub_admin_required
def billing_invoice_pay(request: HttpRequest, pk: int) -> HttpResponse:
    """Pay an open invoice on Stripe's hosted page (card, Alipay or WeChat Pay as the Stripe account offers)."""
    invoice = _hub_invoice(request, pk)
    if invoice.status == InvoiceStatus.OPEN and invoice.hosted_invoice_url.startswith("https://"):
        return HttpResponseRedirect(invoice.hosted_invoice_url)
    if invoice.status == InvoiceStatus.OPEN:
        messages.info(request, _("请先更换付款方式，Stripe 会随即重新扣款。"))
        return redirect("billing-home")
    return redirect("billing-receipt", pk=invoice.pk)


@hub_admin_required
def billing_receipt(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _hub_invoice(request, pk)
    return render(request, "billing/receipt.html", {"invoice": invoice})


# --- base domain: Stripe's webhook ----------------------------------------------------------------------------


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's deliveries: verified, stored once, processed by a task. Anything but 2xx makes Stripe retry."""
    if not gateway.billing_enabled():
        raise Http404
    try:
        event, created = stripe_event_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except ApplicationError as exc:
        return JsonResponse({"code": exc.code, "message": str(exc.message), "extra": exc.extra}, status=exc.status)
    return JsonResponse({"received": True, "duplicate": not created, "event": event.event_id})


# --- base domain: the operator console ------------------------------------------------------------------------


@operator_required
def console_billing(request: HttpRequest) -> HttpResponse:
    rows = selectors.billing_revenue_all_hubs()
    totals = {
        "mrr": sum(r.mrr_fen for r in rows),
        "paid_30d": sum(r.paid_30d_fen for r in rows),
        "paid_total": sum(r.paid_total_fen for r in rows),
        "open": sum(r.open_fen for r in rows),
        "failing": sum(1 for r in rows if r.account and r.account.payment_failed_at),
        "comped": sum(1 for r in rows if r.source == "comp"),
    }
    return render(
        request,
        "billing/console.html",
        {"rows": rows, "totals": totals, "enabled": gateway.billing_enabled()},
    )


@operator_required
def console_billing_hub(request: HttpRequest, slug: str) -> HttpResponse:
    hub = get_object_or_404(tenant_selectors.hub_list_all_hubs(), slug=slug)
    comp_form = CompForm(prefix="comp")
    clear_form = CompClearForm(prefix="uncomp")
    credit_form = CreditForm(prefix="credit")
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "comp":
                comp_form = CompForm(request.POST, prefix="comp")
                if comp_form.is_valid():
                    services.billing_comp_set(
                        hub=hub,
                        plan_code=comp_form.cleaned_data["plan"],
                        seats=comp_form.cleaned_data["seats"],
                        reason=comp_form.cleaned_data["reason"],
                        actor=request.user,  # type: ignore[arg-type]
                    )
                    messages.success(request, _("已赠送套餐。"))
                    return redirect("console-billing-hub", slug=hub.slug)
            elif action == "uncomp":
                clear_form = CompClearForm(request.POST, prefix="uncomp")
                if clear_form.is_valid():
                    services.billing_comp_clear(
                        hub=hub,
                        reason=clear_form.cleaned_data["reason"],
                        actor=request.user,  # type: ignore[arg-type]
                    )
                    messages.success(request, _("已取消赠送。"))
                    return redirect("console-billing-hub", slug=hub.slug)
            elif action == "credit":
                credit_form = CreditForm(request.POST, prefix="credit")
                if credit_form.is_valid():
                    services.billing_credit_grant(
                        hub=hub,
                        amount_fen=credit_form.amount_fen,
                        reason=credit_form.cleaned_data["reason"],
                        actor=request.user,  # type: ignore[arg-type]
                    )
                    messages.success(request, _("已添加抵扣，将从下一张账单中扣除。"))
                    return redirect("console-billing-hub", slug=hub.slug)
        except ApplicationError as exc:
            target = {"comp": comp_form, "uncomp": clear_form, "credit": credit_form}.get(action)
            if target is not None:
                form_apply_error(target, exc)
            else:
                messages.error(request, str(exc.message))
    summary = selectors.billing_summary(hub=hub, invoices=50)
    events = audit_event_list().filter(object_type="tenants.hub", object_id=str(hub.pk), action__startswith="billing.")[
        :50
    ]
    return render(
        request,
        "billing/console_hub.html",
        {
            "hub": hub,
            "summary": summary,
            "account": summary.account,
            "grace_ends_at": grace_ends_at(summary.account) if summary.account else None,
            "comp_form": comp_form,
            "clear_form": clear_form,
            "credit_form": credit_form,
            "credits": hub.billing_credits.all()[:20],
            "stripe_events": StripeEvent.objects.filter(hub=hub)[:20],
            "events": events,
            "enabled": gateway.billing_enabled(),
        },
    )
