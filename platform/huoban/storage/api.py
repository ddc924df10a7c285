"""API: organisations' documents (members read, owners and admins upload, operators review) and file links.

Served on every host. Hubs review documents and link hub files through their own (hub-side) endpoints, which make
the hub's part of the decision and call the same services.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from huoban.api.permissions import IsOperator
from huoban.identity.models import Organisation, OrganisationMember
from huoban.storage import selectors, services
from huoban.storage.models import (
    PLATFORM_REVIEWER_LABEL,
    DocumentKind,
    DocumentStatus,
    OrganisationDocument,
    StoredFile,
)

LINK_SECONDS = 300


class StoredFileSerializer(serializers.ModelSerializer):
    class Meta:
        model = StoredFile
        fields = ["id", "original_name", "size", "content_type", "sha256", "purpose", "created_at"]
        read_only_fields = fields


class OrganisationDocumentSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    file = StoredFileSerializer(read_only=True)
    reviewer_name = serializers.SerializerMethodField()
    uploaded_by_name = serializers.SerializerMethodField()

    class Meta:
        model = OrganisationDocument
        fields = [
            "id",
            "organisation",
            "kind",
            "kind_label",
            "year",
            "status",
            "status_label",
            "file",
            "reviewer_label",
            "reviewer_name",
            "reviewer_hub_id",
            "reviewed_at",
            "review_note",
            "uploaded_by_name",
            "created_at",
            "superseded_at",
        ]
        read_only_fields = fields

    def get_reviewer_name(self, obj: OrganisationDocument) -> str:
        return obj.reviewer.name if obj.reviewer else ""

    def get_uploaded_by_name(self, obj: OrganisationDocument) -> str:
        return obj.uploaded_by.name if obj.uploaded_by else ""


class DocumentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    year = serializers.IntegerField(required=False, allow_null=True, default=None)
    file = serializers.FileField(allow_empty_file=True)  # the service refuses empty files with its own code


class DocumentReviewSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[DocumentStatus.VERIFIED.value, DocumentStatus.REJECTED.value])
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class FileLinkSerializer(serializers.Serializer):
    url = serializers.CharField()
    expires_at = serializers.DateTimeField()


def _organisation_for_viewer(request: Request, organisation_id: int) -> Organisation:
    """Members of the organisation and platform operators; anyone else 404."""
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    user = request.user
    if organisation is None:
        raise NotFound()
    is_member = OrganisationMember.objects.filter(organisation=organisation, user_id=user.pk or 0).exists()
    if not is_member and not getattr(user, "is_operator", False):
        raise NotFound()
    return organisation


class OrganisationDocumentsView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        parameters=[OpenApiParameter("history", bool, description="Include superseded versions.")],
        responses=OrganisationDocumentSerializer(many=True),
        operation_id="organisation_documents_list",
    )
    def get(self, request: Request, organisation_id: int) -> Response:
        organisation = _organisation_for_viewer(request, organisation_id)
        history = request.query_params.get("history", "").lower() in ("1", "true", "yes")
        documents = selectors.organisation_documents(organisation_id=organisation.pk, include_history=history)
        return Response(OrganisationDocumentSerializer(documents, many=True).data)

    @extend_schema(
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={201: OrganisationDocumentSerializer},
        operation_id="organisation_documents_create",
    )
    def post(self, request: Request, organisation_id: int) -> Response:
        organisation = _organisation_for_viewer(request, organisation_id)
        data = DocumentUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        document = services.organisation_document_upload(
            organisation=organisation,
            actor=request.user,  # type: ignore[arg-type]
            kind=data.validated_data["kind"],
            year=data.validated_data["year"],
            fileobj=upload,
            original_name=upload.name,
        )
        return Response(OrganisationDocumentSerializer(document).data, status=status.HTTP_201_CREATED)


class OrganisationDocumentReviewView(APIView):
    """Platform review by an operator. Hubs review through their own endpoints with their name as the label."""

    permission_classes = [IsOperator]

    @extend_schema(
        request=DocumentReviewSerializer,
        responses=OrganisationDocumentSerializer,
        operation_id="organisation_documents_review",
    )
    def post(self, request: Request, organisation_id: int, document_id: int) -> Response:
        document = selectors.organisation_document_get(organisation_id=organisation_id, document_id=document_id)
        if document is None:
            raise NotFound()
        data = DocumentReviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        document = services.organisation_document_review(
            document=document,
            actor=request.user,  # type: ignore[arg-type]
            reviewer_label=PLATFORM_REVIEWER_LABEL,
            **data.validated_data,
        )
        return Response(OrganisationDocumentSerializer(document).data)


class FileLinkView(APIView):
    """A short-lived download link for a file the caller may see (``selectors.file_can_view``); 404 otherwise.

    This platform endpoint does not know hub roles, so a hub's own files are linked by hub-side endpoints.
    """

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=FileLinkSerializer, operation_id="files_link_create")
    def post(self, request: Request, file_id: str) -> Response:
        stored = selectors.file_get(file_id=file_id)
        hub = getattr(request, "hub", None)
        if stored is None or not selectors.file_can_view(
            stored_file=stored, user=request.user, viewer_hub_id=hub.pk if hub is not None else None
        ):
            raise NotFound()
        expires_at = timezone.now() + timedelta(seconds=LINK_SECONDS)
        url = services.file_link(stored_file=stored, ttl_seconds=LINK_SECONDS)
        if url.startswith("/"):
            url = request.build_absolute_uri(url)
        return Response(FileLinkSerializer({"url": url, "expires_at": expires_at}).data)
