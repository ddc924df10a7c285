"""Pages of a hub's partner network.

Staff pages (directory, a partner, invitations, adding, statistics, import and export) need a staff role. Three
pages are public in the sense of hub roles: the public partner list (anyone), an organisation's own page for
applying and seeing where it stands, and the invitation link (both need sign-in, but no role in the hub).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hubs.core.permissions import STAFF, hub_view
from hubs.partners import documents, imports, selectors, services
from hubs.partners.charts import bar_chart, growth_chart
from hubs.partners.downloads import file_response
from hubs.partners.forms import (
    ApplyForm,
    ContactForm,
    DirectoryFilterForm,
    DocumentReviewForm,
    ImportForm,
    InviteForm,
    JoinForm,
    NoteForm,
    PartnershipEditForm,
    StaffAddForm,
)
from hubs.partners.models import (
    ImportJob,
    PartnerContact,
    PartnerInvitation,
    Partnership,
    PartnershipStatus,
    ServiceArea,
)
from huoban.errors import ApplicationError
from huoban.identity.models import OrganisationKind, User
from huoban.identity.services import user_find_by_login
from huoban.regions import region_label
from huoban.web.forms import form_apply_error

S = PartnershipStatus
# What staff may do from each status, as (target status, button label, needs a reason).
STAFF_ACTIONS: dict[str, list[tuple[str, str, bool]]] = {
    S.INVITED: [(S.LEFT, "withdraw", False)],
    S.APPLIED: [(S.UNDER_REVIEW, "review", False), (S.REJECTED, "reject", True)],
    S.UNDER_REVIEW: [(S.ACTIVE, "approve", False), (S.REJECTED, "reject", True)],
    S.ACTIVE: [(S.SUSPENDED, "suspend", True), (S.LEFT, "end", False)],
    S.SUSPENDED: [(S.ACTIVE, "reinstate", False), (S.LEFT, "end", False)],
    S.REJECTED: [],
    S.LEFT: [],
}


def _action_labels() -> dict[str, str]:
    return {
        "withdraw": _("撤回邀请"),
        "review": _("开始审核"),
        "reject": _("不通过"),
        "approve": _("通过"),
        "suspend": _("暂停合作"),
        "end": _("终止合作"),
        "reinstate": _("恢复合作"),
    }


def _filters(form: DirectoryFilterForm) -> selectors.DirectoryFilters:
    data = form.cleaned_data if form.is_valid() else {}
    verified = {"yes": True, "no": False}.get(data.get("verified", ""))
    return selectors.DirectoryFilters(
        q=data.get("q", ""),
        kind=data.get("kind", ""),
        tag=data.get("tag", ""),
        status=data.get("status", ""),
        region=data.get("region", ""),
        verified=verified,
        sort=data.get("sort", ""),
    )


def _sign_in(request: HttpRequest) -> HttpResponse:
    return redirect_to_login(request.build_absolute_uri(), f"{settings.HUOBAN_SITE_URL}/accounts/login/")


# --- Staff: directory, partner, statistics ----------------------------------------------------------------------


@hub_view(roles=STAFF)
def directory(request: HttpRequest) -> HttpResponse:
    form = DirectoryFilterForm(request.GET or None)
    qs = selectors.with_verified(selectors.partnership_list(filters=_filters(form)))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "partners/_directory_table.html", context)
    return render(request, "partners/directory.html", context)


def _partnership(pk: int) -> Partnership:
    return get_object_or_404(Partnership.objects.select_related("organisation"), pk=pk)


@hub_view(roles=STAFF)
def partner_detail(request: HttpRequest, pk: int) -> HttpResponse:
    partnership = _partnership(pk)
    labels = _action_labels()
    actions = [(to, labels[key], needs) for to, key, needs in STAFF_ACTIONS.get(partnership.status, [])]
    docs = documents.partner_documents(partnership=partnership)
    context: dict[str, Any] = {
        "partnership": partnership,
        "organisation": partnership.organisation,
        "region": region_label(partnership.organisation.region_code),
        "actions": actions,
        "edit_form": PartnershipEditForm(
            initial={"service_areas": partnership.service_areas, "public_profile": partnership.public_profile}
        ),
        "contact_form": ContactForm(),
        "note_form": NoteForm(),
        "review_form": DocumentReviewForm(),
        "contacts": partnership.contacts.all(),
        "notes": partnership.notes.all()[:100],
        "history": selectors.partnership_history(partnership=partnership)[:50],
        "documents": docs.documents,
        "summary": docs.summary,
        "doc_base": f"/partners/{partnership.pk}/documents/",
    }
    return render(request, "partners/detail.html", context)


def _done(request: HttpRequest, pk: int, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("partners-detail", pk=pk)


def _error(request: HttpRequest, pk: int, exc: ApplicationError) -> HttpResponse:
    messages.error(request, str(exc.message))
    return redirect("partners-detail", pk=pk)


@hub_view(roles=STAFF)
@require_POST
def partner_transition(request: HttpRequest, pk: int) -> HttpResponse:
    partnership = _partnership(pk)
    try:
        partnership = services.partnership_transition(
            partnership=partnership,
            status=request.POST.get("status", ""),
            reason=request.POST.get("reason", ""),
            actor=request.user,  # type: ignore[arg-type]
        )
    except ApplicationError as exc:
        return _error(request, pk, exc)
    return _done(request, pk, _("状态已更新为“%(status)s”。") % {"status": partnership.get_status_display()})


@hub_view(roles=STAFF)
@require_POST
def partner_edit(request: HttpRequest, pk: int) -> HttpResponse:
    partnership = _partnership(pk)
    form = PartnershipEditForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("提交的内容有误。"))
        return redirect("partners-detail", pk=pk)
    try:
        services.partnership_update(partnership=partnership, actor=request.user, **form.cleaned_data)  # type: ignore[arg-type]
    except ApplicationError as exc:
        return _error(request, pk, exc)
    return _done(request, pk, _("已保存。"))


@hub_view(roles=STAFF)
@require_POST
def contact_add(request: HttpRequest, pk: int) -> HttpResponse:
    partnership = _partnership(pk)
    form = ContactForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("partners-detail", pk=pk)
    try:
        services.partner_contact_add(partnership=partnership, actor=request.user, **form.cleaned_data)  # type: ignore[arg-type]
    except ApplicationError as exc:
        return _error(request, pk, exc)
    return _done(request, pk, _("联系人已添加。"))


@hub_view(roles=STAFF)
@require_POST
def contact_remove(request: HttpRequest, pk: int, contact_id: int) -> HttpResponse:
    contact = get_object_or_404(
        PartnerContact.objects.select_related("partnership__organisation"), pk=contact_id, partnership_id=pk
    )
    services.partner_contact_remove(contact=contact, actor=request.user)  # type: ignore[arg-type]
    return _done(request, pk, _("联系人已删除。"))


@hub_view(roles=STAFF)
@require_POST
def note_add(request: HttpRequest, pk: int) -> HttpResponse:
    partnership = _partnership(pk)
    try:
        services.partner_note_add(partnership=partnership, actor=request.user, body=request.POST.get("body", ""))  # type: ignore[arg-type]
    except ApplicationError as exc:
        return _error(request, pk, exc)
    return _done(request, pk, _("备注已保存。"))


@hub_view(roles=STAFF)
@require_POST
def document_review(request: HttpRequest, pk: int, document_id: int) -> HttpResponse:
    partnership = _partnership(pk)
    form = DocumentReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择“通过”或“不通过”。"))
        return redirect("partners-detail", pk=pk)
    try:
        documents.partner_document_review(
            partnership=partnership,
            document_id=document_id,
            actor=request.user,  # type: ignore[arg-type]
            **form.cleaned_data,
        )
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404 from exc
        return _error(request, pk, exc)
    return _done(request, pk, _("审核结果已记录。"))


@hub_view(roles=STAFF)
def document_download(request: HttpRequest, pk: int, document_id: int) -> HttpResponse:
    partnership = _partnership(pk)
    try:
        link = documents.partner_document_link(partnership=partnership, document_id=document_id, user=request.user)  # type: ignore[arg-type]
    except ApplicationError as exc:
        raise Http404 from exc
    return redirect(link)


@hub_view(roles=STAFF)
def stats(request: HttpRequest) -> HttpResponse:
    figures = selectors.network_stats()
    context = {
        "stats": figures,
        "kind_chart": bar_chart(
            title=_("各类型伙伴数"), rows=[(label, total) for _k, label, _c, total in figures.by_kind]
        ),
        "status_chart": bar_chart(title=_("各状态伙伴数"), rows=[(label, n) for _s, label, n in figures.by_status]),
        "growth_chart": growth_chart(title=_("每月新加入伙伴与累计"), points=figures.growth),
    }
    return render(request, "partners/stats.html", context)


# --- Staff: ways in ---------------------------------------------------------------------------------------------


@hub_view(roles=STAFF)
def invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.partner_invite(actor=request.user, **form.cleaned_data)  # type: ignore[arg-type]
        except ApplicationError as exc:
            form_apply_error(form, exc)
        else:
            messages.success(request, _("邀请已发送至 %(email)s。") % {"email": form.cleaned_data["email"]})
            return redirect("partners-invite")
    open_invitations = PartnerInvitation.objects.select_related("organisation").filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )[:100]
    return render(request, "partners/invite.html", {"form": form, "invitations": open_invitations})


@hub_view(roles=STAFF)
@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(PartnerInvitation, pk=pk)
    try:
        services.partner_invitation_revoke(invitation=invitation, actor=request.user)  # type: ignore[arg-type]
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("邀请已撤销。"))
    return redirect("partners-invite")


@hub_view(roles=STAFF)
def add(request: HttpRequest) -> HttpResponse:
    form = StaffAddForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            organisation_data = None
            if data["name"]:
                organisation_data = services.organisation_data_check(
                    name=data["name"],
                    kind=data["kind"],
                    region_code=data["region_code"],
                    credit_code=data["credit_code"] or None,
                )
            partnership = services.partnership_staff_add(
                actor=request.user,  # type: ignore[arg-type]
                credit_code=data["credit_code"],
                organisation_data=organisation_data,
                service_areas=data["service_areas"],
                public_profile=data["public_profile"],
                status=data["status"],
                contact={
                    "name": data["contact_name"],
                    "role": data["contact_role"],
                    "phone": data["contact_phone"],
                    "email": data["contact_email"],
                },
            )
        except ApplicationError as exc:
            form_apply_error(form, exc)
        else:
            messages.success(request, _("已添加伙伴「%(name)s」。") % {"name": partnership.organisation.name})
            return redirect("partners-detail", pk=partnership.pk)
    return render(request, "partners/add.html", {"form": form})


# --- Staff: import and export -----------------------------------------------------------------------------------


@hub_view(roles=STAFF)
def export(request: HttpRequest, file_format: str) -> HttpResponse:
    form = DirectoryFilterForm(request.GET or None)
    qs = selectors.partnership_list(filters=_filters(form))
    data = imports.export_file(partnerships=qs, file_format=file_format)
    return file_response(data, file_format, f"partners-{timezone.localdate():%Y%m%d}")


@hub_view(roles=STAFF)
def import_template(request: HttpRequest, file_format: str) -> HttpResponse:
    data = imports.export_file(partnerships=None, file_format=file_format, template=True)
    return file_response(data, file_format, "partners-import-template")


@hub_view(roles=STAFF)
def import_upload(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST if request.method == "POST" else None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > imports.MAX_FILE_BYTES:
            form.add_error(
                "file", _("文件太大：不能超过 %(mb)s MB。") % {"mb": imports.MAX_FILE_BYTES // (1024 * 1024)}
            )
        else:
            try:
                job = imports.import_job_create(
                    actor=request.user,  # type: ignore[arg-type]
                    file_name=upload.name,
                    data=upload.read(),
                    update_existing=form.cleaned_data["update_existing"],
                )
            except ApplicationError as exc:
                form_apply_error(form, exc)
            else:
                return redirect("partners-import-job", pk=job.pk)
    jobs = ImportJob.objects.defer("file_bytes", "report")[:20]
    return render(request, "partners/import.html", {"form": form, "jobs": jobs})


def _job_context(job: ImportJob, request: HttpRequest) -> dict[str, Any]:
    processed = imports.import_job_progress(job=job)
    percent = int(100 * processed / job.total_rows) if job.total_rows else (100 if job.is_finished else 0)
    return {"job": job, "processed": processed, "percent": percent, "outcome_labels": imports.OUTCOME_LABELS}


@hub_view(roles=STAFF)
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ImportJob.objects.defer("file_bytes"), pk=pk)
    show = request.GET.get("show", "")
    rows = [r for r in job.report if not show or r["outcome"] == show]
    page = Paginator(rows, 200).get_page(request.GET.get("page"))
    context = {**_job_context(job, request), "page": page, "show": show}
    return render(request, "partners/import_job.html", context)


@hub_view(roles=STAFF)
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ImportJob.objects.defer("file_bytes", "report"), pk=pk)
    response = render(request, "partners/_import_progress.html", _job_context(job, request))
    if job.is_finished and request.htmx:  # type: ignore[attr-defined]
        response["HX-Refresh"] = "true"  # show the final row-by-row report
    return response


@hub_view(roles=STAFF)
@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ImportJob.objects.defer("file_bytes", "report"), pk=pk)
    try:
        imports.import_job_confirm(job=job, actor=request.user)  # type: ignore[arg-type]
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("已开始导入，完成前请勿重复提交。"))
    return redirect("partners-import-job", pk=pk)


# --- Public -------------------------------------------------------------------------------------------------------


@hub_view(public=True)
def public_list(request: HttpRequest) -> HttpResponse:
    """Active partners with their public profile only: no contacts, no notes, no staff data."""
    q = request.GET.get("q", "")[:100]
    kind = request.GET.get("kind", "")
    tag = request.GET.get("tag", "")
    qs = selectors.partnership_public_list(q=q, kind=kind, tag=tag)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "partners/public.html",
        {
            "page": page,
            "q": q,
            "kind": kind,
            "tag": tag,
            "kinds": OrganisationKind.choices,
            "tags": ServiceArea.choices,
        },
    )


@hub_view(public=True)
def apply(request: HttpRequest) -> HttpResponse:
    """An organisation's page in this hub: apply to join, and see where its applications stand. Needs sign-in,
    no hub role."""
    if not request.user.is_authenticated:
        return _sign_in(request)
    user: User = request.user
    organisations = selectors.organisations_managed_by(user=user)
    form = ApplyForm(request.POST if request.method == "POST" else None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        try:
            services.partnership_apply(
                organisation=form.cleaned_data["organisation"],
                actor=user,
                service_areas=form.cleaned_data["service_areas"],
                public_profile=form.cleaned_data["public_profile"],
            )
        except ApplicationError as exc:
            form_apply_error(form, exc)
        else:
            messages.success(request, _("申请已提交，请等待枢纽工作人员审核。"))
            return redirect("partners-apply")
    mine = selectors.partnerships_of_user(user=user)
    return render(
        request,
        "partners/apply.html",
        {
            "form": form,
            "has_organisations": organisations.exists(),
            "mine": mine,
            "create_url": f"{settings.HUOBAN_SITE_URL}/accounts/organisations/new/",
        },
    )


@hub_view(public=True)
@require_POST
def leave(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return _sign_in(request)
    partnership = selectors.partnerships_of_user(user=request.user).filter(pk=pk).first()
    if partnership is None:
        raise Http404
    try:
        services.partnership_leave(partnership=partnership, actor=request.user, reason=request.POST.get("reason", ""))
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("已退出。"))
    return redirect("partners-apply")


JOIN_ERROR_FIELDS = {
    "invalid_password": "password",
    "invalid_kind": "org_kind",
    "invalid_credit_code": "org_credit_code",
    "credit_code_taken": "org_credit_code",
    "invalid_region_code": "org_region_code",
    "invalid_service_area": "service_areas",
}


@hub_view(public=True)
def join(request: HttpRequest, token: str) -> HttpResponse:
    """The invitation link: anyone holding it may open it; accepting makes the account if needed."""
    try:
        invitation = services.partner_invitation_find(token=token)
    except ApplicationError as exc:
        return render(request, "web/message.html", {"title": _("伙伴邀请"), "message": exc.message}, status=exc.status)
    user: User | None = request.user if request.user.is_authenticated else None
    needs_account = user is None and user_find_by_login(invitation.email) is None
    login_url = f"{settings.HUOBAN_SITE_URL}/accounts/login/?next={request.build_absolute_uri()}"
    if user is None and not needs_account:
        return render(request, "partners/join.html", {"invitation": invitation, "form": None, "login_url": login_url})
    organisations = list(selectors.organisations_managed_by(user=user)) if user else []
    form = JoinForm(
        request.POST if request.method == "POST" else None,
        needs_account=needs_account,
        organisations=organisations,
        fixed_organisation=invitation.organisation,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            _partnership, accepted_by = services.partner_invitation_accept(
                token=token,
                user=user,
                account=services.NewAccount(name=data["name"], password=data["password"]) if needs_account else None,
                organisation_id=form.organisation_id() if invitation.organisation is None else None,
                new_organisation=form.new_organisation() if invitation.organisation is None else None,
                service_areas=data["service_areas"],
                public_profile=data["public_profile"],
            )
        except ApplicationError as exc:
            field = JOIN_ERROR_FIELDS.get(exc.code)
            form.add_error(field if field in form.fields else None, str(exc.message))
        else:
            if user is None:
                login(request, accepted_by, backend="huoban.identity.backends.EmailOrMobileBackend")
            messages.success(request, _("已接受邀请，申请已提交给枢纽工作人员审核。"))
            return redirect("partners-apply")
    return render(
        request,
        "partners/join.html",
        {"invitation": invitation, "form": form, "needs_account": needs_account, "login_url": login_url},
    )
