"""Pages of the public site for organisations' documents, and the download endpoint of filesystem links."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from huoban.db import connection
from huoban.errors import ApplicationError
from huoban.identity.models import Organisation, OrganisationMember, User
from huoban.storage import selectors, services
from huoban.storage.forms import DocumentReviewForm, DocumentUploadForm
from huoban.storage.models import PLATFORM_REVIEWER_LABEL, DocumentStatus
from huoban.web.forms import form_apply_error

INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/webp"})
PAGE_LINK_SECONDS = 60


def _public_site_only(request: HttpRequest) -> None:
    # Organisations' pages live on the public site; a hub's host shows them through its own (partner) pages.
    if getattr(request, "hub", None) is not None:
        raise Http404


def _viewer(request: HttpRequest, organisation_id: int) -> tuple[Organisation, OrganisationMember | None]:
    """The organisation and the viewer's membership. Members and platform operators see it; anyone else 404."""
    user: User = request.user  # type: ignore[assignment]
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    if organisation is None:
        raise Http404
    member = OrganisationMember.objects.filter(organisation=organisation, user=user).first()
    if member is None and not user.is_operator:
        raise Http404
    return organisation, member


@login_required
def organisation_documents_view(request: HttpRequest, organisation_id: int) -> HttpResponse:
    """Everyone in the organisation sees each document's status and who verified it; owners and admins upload."""
    _public_site_only(request)
    organisation, member = _viewer(request, organisation_id)
    can_upload = member is not None and member.can_manage
    form = DocumentUploadForm(request.POST or None, request.FILES or None) if can_upload else None
    if request.method == "POST":
        if form is None:
            return HttpResponse(status=403)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                document = services.organisation_document_upload(
                    organisation=organisation,
                    actor=request.user,  # type: ignore[arg-type]
                    kind=form.cleaned_data["kind"],
                    year=form.cleaned_data["year"],
                    fileobj=upload,
                    original_name=upload.name,
                )
            except ApplicationError as exc:
                form_apply_error(form, exc)
            else:
                messages.success(request, _("已上传“%(document)s”，等待审核。") % {"document": document})
                return redirect("storage:organisation_documents", organisation_id=organisation.pk)
    user: User = request.user  # type: ignore[assignment]
    context: dict[str, Any] = {
        "org": organisation,
        "member": member,
        "form": form,
        "summary": selectors.organisation_verification_summary(organisation_id=organisation.pk),
        "documents": selectors.organisation_documents(organisation_id=organisation.pk),
        "history": selectors.organisation_documents(organisation_id=organisation.pk, include_history=True).filter(
            superseded_at__isnull=False
        ),
        "download_base": f"/files/organisations/{organisation.pk}/documents/",
        "can_review": user.is_operator and member is None,
        "review_form": DocumentReviewForm() if user.is_operator else None,
    }
    return render(request, "storage/organisation_documents.html", context)


@login_required
@require_GET
def organisation_document_download_view(request: HttpRequest, organisation_id: int, document_id: int) -> HttpResponse:
    """Redirect a member (or an operator) to a short-lived link to the document's file."""
    _public_site_only(request)
    _viewer(request, organisation_id)
    document = selectors.organisation_document_get(organisation_id=organisation_id, document_id=document_id)
    if document is None or not selectors.file_can_view(stored_file=document.file, user=request.user):
        raise Http404
    link = services.file_link(
        stored_file=document.file,
        ttl_seconds=PAGE_LINK_SECONDS,
        as_attachment=document.file.content_type not in INLINE_TYPES,
    )
    return redirect(link)


@login_required
@require_POST
def organisation_document_review_view(request: HttpRequest, organisation_id: int, document_id: int) -> HttpResponse:
    """A platform operator verifies or rejects a document (the same service hubs call for their reviews)."""
    _public_site_only(request)
    user: User = request.user  # type: ignore[assignment]
    if not user.is_operator:
        raise Http404
    document = selectors.organisation_document_get(organisation_id=organisation_id, document_id=document_id)
    if document is None:
        raise Http404
    form = DocumentReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择审核结果。"))
    else:
        try:
            services.organisation_document_review(
                document=document,
                actor=user,
                decision=form.cleaned_data["decision"],
                note=form.cleaned_data["note"],
                reviewer_label=PLATFORM_REVIEWER_LABEL,
            )
        except ApplicationError as exc:
            messages.error(request, str(exc.message))
        else:
            if form.cleaned_data["decision"] == DocumentStatus.VERIFIED:
                messages.success(request, _("已核验。"))
            else:
                messages.success(request, _("已退回，组织负责人会收到邮件。"))
    return redirect("storage:organisation_documents", organisation_id=organisation_id)


@require_GET
def download_view(request: HttpRequest, token: str) -> FileResponse:
    """Stream a file for a filesystem link (``services.file_link``). The token is the whole permission: it names the
    file and the schema of the host it was issued on, so it answers 404 on another hub's host, for a deleted file,
    for an edited token, or after it expires."""
    grant = services.file_link_verify(token=token, schema=connection.schema_name)
    if grant is None:
        raise Http404
    stored = selectors.file_get(file_id=grant.file_id)
    if stored is None:
        raise Http404
    try:
        handle = default_storage.open(stored.key, "rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    response = FileResponse(
        handle,
        as_attachment=grant.as_attachment,
        filename=services.file_download_name(stored),
        content_type=stored.content_type,
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    # Whatever the bytes are, the browser runs nothing from them on our origin. (Only detected PDF, image, Office
    # and text types are ever stored; sandboxing an inline PDF would stop browsers' PDF viewers, so it is left out.)
    policy = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    if grant.as_attachment or stored.content_type != "application/pdf":
        policy += "; sandbox"
    response["Content-Security-Policy"] = policy
    return response
