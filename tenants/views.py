"""The public site's front page and the operator console (base domain)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from huoban.api.permissions import operator_two_factor_missing
from huoban.audit.selectors import audit_event_list
from huoban.errors import ApplicationError
from huoban.web.forms import form_apply_error
from tenants import selectors, services
from tenants.forms import HubProvisionForm, HubStatusForm
from tenants.models import HubStatus


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "tenants/home.html", {"hubs": selectors.hub_list_public()})


def operator_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Operators only (others: sign in, or 404); with the 2FA setting on, a verified session too."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not getattr(user, "is_operator", False):
            raise Http404
        if operator_two_factor_missing(user):
            return redirect_to_login(request.get_full_path(), "/accounts/two-factor/")
        return view(request, *args, **kwargs)

    return wrapped


@operator_required
def console(request: HttpRequest) -> HttpResponse:
    hubs = selectors.hub_list_all_hubs()
    status_filter = request.GET.get("status", "")
    if status_filter in HubStatus.values:
        hubs = hubs.filter(status=status_filter)
    query = request.GET.get("q", "").strip()
    if query:
        hubs = hubs.filter(Q(slug__icontains=query) | Q(name_zh__icontains=query) | Q(name_en__icontains=query))
    counts = dict(
        selectors.hub_list_all_hubs().values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    status_counts = [(value, label, counts.get(value, 0)) for value, label in HubStatus.choices]
    return render(
        request,
        "tenants/console.html",
        {
            "hubs": hubs,
            "status_counts": status_counts,
            "statuses": HubStatus.choices,
            "status_filter": status_filter,
            "q": query,
        },
    )


@operator_required
def console_provision(request: HttpRequest) -> HttpResponse:
    form = HubProvisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.hub_provision(actor=request.user, **form.cleaned_data)  # type: ignore[arg-type]
        except ApplicationError as exc:
            form_apply_error(form, exc)
        else:
            messages.success(
                request, _("枢纽 %(name)s 已开通，已向首位管理员发出邀请。") % {"name": result.hub.name_zh}
            )
            return redirect("console-hub", slug=result.hub.slug)
    return render(request, "tenants/console_provision.html", {"form": form})


@operator_required
def console_hub(request: HttpRequest, slug: str) -> HttpResponse:
    hub = get_object_or_404(selectors.hub_list_all_hubs(), slug=slug)
    form = HubStatusForm(request.POST or None, initial={"status": hub.status, "reason": hub.status_reason})
    if request.method == "POST" and form.is_valid():
        try:
            services.hub_status_set(hub=hub, actor=request.user, **form.cleaned_data)  # type: ignore[arg-type]
        except ApplicationError as exc:
            form_apply_error(form, exc)
        else:
            messages.success(request, _("状态已更新。"))
            return redirect("console-hub", slug=hub.slug)
    events = audit_event_list().filter(object_type="tenants.hub", object_id=str(hub.pk))[:50]
    return render(
        request,
        "tenants/console_hub.html",
        {"hub": hub, "form": form, "events": events, "invitations": hub.invitations.all()[:20]},
    )


@operator_required
def console_audit(request: HttpRequest) -> HttpResponse:
    events = audit_event_list(action=request.GET.get("action", ""))[:200]
    return render(request, "tenants/console_audit.html", {"events": events})
