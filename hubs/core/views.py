"""Pages of a hub's host: its home, its members and invitations, its audit trail."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hubs.core import services
from hubs.core.forms import AcceptForm, InviteForm, RolesForm
from hubs.core.models import HubMembership
from hubs.core.permissions import HUB_ADMIN, STAFF, hub_view
from huoban.audit.selectors import audit_event_list
from huoban.errors import ApplicationError
from huoban.regions import region_label
from huoban.web.forms import form_apply_error
from tenants.models import HubRole
from tenants.services import hub_invitation_find


@hub_view(public=True)
def home(request: HttpRequest) -> HttpResponse:
    hub = request.hub  # type: ignore[attr-defined]
    return render(request, "hubs/core/home.html", {"region": region_label(hub.region_code)})


@hub_view(roles=STAFF)
def members(request: HttpRequest) -> HttpResponse:
    form = InviteForm()
    rows = HubMembership.objects.select_related("user").order_by("created_at")
    role = request.GET.get("role", "")
    if role in HubRole.values:
        rows = rows.filter(roles__contains=[role])
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    invitations = request.hub.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True)[:50]  # type: ignore[attr-defined]
    return render(
        request,
        "hubs/core/members.html",
        {
            "page": page,
            "form": form,
            "invitations": invitations,
            "roles": HubRole.choices,
            "role": role,
        },
    )


@hub_view(roles=HUB_ADMIN)
@require_POST
def member_invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            services.member_invite(actor=request.user, **form.cleaned_data)  # type: ignore[arg-type]
        except ApplicationError as exc:
            form_apply_error(form, exc)
        else:
            messages.success(request, _("邀请已发送至 %(email)s。") % {"email": form.cleaned_data["email"]})
            return redirect("hub-members")
    for error in form.errors.values():
        messages.error(request, " ".join(str(e) for e in error))
    return redirect("hub-members")


@hub_view(roles=HUB_ADMIN)
def member_edit(request: HttpRequest, pk: int) -> HttpResponse:
    membership = get_object_or_404(HubMembership.objects.select_related("user"), pk=pk)
    form = RolesForm(request.POST or None, initial={"roles": membership.roles})
    if request.method == "POST":
        try:
            if request.POST.get("action") == "remove":
                services.membership_remove(membership=membership, actor=request.user)  # type: ignore[arg-type]
                messages.success(request, _("已移除成员。"))
                return redirect("hub-members")
            if form.is_valid():
                services.membership_set_roles(
                    membership=membership,
                    roles=form.cleaned_data["roles"],
                    actor=request.user,  # type: ignore[arg-type]
                )
                messages.success(request, _("角色已更新。"))
                return redirect("hub-members")
        except ApplicationError as exc:
            form_apply_error(form, exc)
    return render(request, "hubs/core/member_edit.html", {"membership": membership, "form": form})


@hub_view(roles=HUB_ADMIN)
def audit(request: HttpRequest) -> HttpResponse:
    page = Paginator(audit_event_list(action=request.GET.get("action", "")), 50).get_page(request.GET.get("page"))
    return render(request, "hubs/core/audit.html", {"page": page})


@hub_view(public=True)
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Anyone holding the link may open it; accepting needs the account of the invited email or a new one."""
    try:
        invitation = hub_invitation_find(hub=request.hub, token=token)  # type: ignore[attr-defined]
    except ApplicationError as exc:
        return render(request, "web/message.html", {"title": _("邀请"), "message": exc.message}, status=exc.status)
    user = request.user if request.user.is_authenticated else None
    from huoban.identity.services import user_find_by_login

    needs_account = user is None and user_find_by_login(invitation.email) is None
    form = AcceptForm(request.POST or None) if needs_account else None
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            _membership, accepted_by = services.invitation_accept(
                token=token,
                user=user,
                **(form.cleaned_data if form else {}),
            )
        except ApplicationError as exc:
            if form is not None:
                form_apply_error(form, exc)
            else:
                messages.error(request, str(exc.message))
        else:
            if user is None:
                login(request, accepted_by, backend="huoban.identity.backends.EmailOrMobileBackend")
            messages.success(request, _("欢迎加入 %(hub)s！") % {"hub": request.hub.display_name})  # type: ignore[attr-defined]
            return redirect("hub-home")
    return render(
        request,
        "hubs/core/invitation.html",
        {
            "invitation": invitation,
            "form": form,
            "needs_account": needs_account,
            "login_url": f"{settings.HUOBAN_SITE_URL}/accounts/login/?next={request.build_absolute_uri()}",
        },
    )
