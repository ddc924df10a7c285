"""API of a hub's partner network. Thin views: a serializer validates, one service or selector call, a response.

Staff endpoints need a staff role (outsiders 404, weaker roles 403). The organisation side (its own applications,
invitation links) and the public list need no hub role; the organisation side needs sign-in.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hubs.core.permissions import STAFF, HubAPIView
from hubs.partners import documents, imports, selectors, services
from hubs.partners.downloads import CONTENT_TYPES, file_response
from hubs.partners.models import (
    ImportJob,
    PartnerContact,
    PartnerInvitation,
    PartnerNote,
    Partnership,
    PartnershipStatus,
    ServiceArea,
)
from huoban.identity.models import OrganisationKind
from huoban.regions import region_label
from huoban.storage.api import DocumentReviewSerializer, OrganisationDocumentSerializer


class HubSignedIn(permissions.BasePermission):
    """On a hub host, anyone signed in: organisations apply and accept invitations without a hub role."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if getattr(request, "hub", None) is None:
            raise exceptions.NotFound()
        if not (request.user and request.user.is_authenticated):
            raise exceptions.NotAuthenticated()
        return True


class OrganisationSideView(HubAPIView):
    """Base of the organisation-side endpoints: marked public for the hub-role checks (the caller needs no role
    and only ever sees their own organisations), with sign-in required instead."""

    hub_public = True

    def get_permissions(self) -> list[Any]:
        return [HubSignedIn()]


def _areas_field(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(child=serializers.ChoiceField(choices=ServiceArea.choices), **kwargs)


# --- Serializers --------------------------------------------------------------------------------------------------


class PartnerOrganisationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    name_en = serializers.CharField()
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    credit_code = serializers.CharField(allow_null=True)
    region_code = serializers.CharField()
    region_label = serializers.SerializerMethodField()

    def get_region_label(self, obj: Any) -> str:
        return region_label(obj.region_code)


class PartnershipSerializer(serializers.ModelSerializer):
    organisation = PartnerOrganisationSerializer(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    verified = serializers.SerializerMethodField()

    class Meta:
        model = Partnership
        fields = [
            "id",
            "organisation",
            "status",
            "status_label",
            "status_reason",
            "source",
            "service_areas",
            "public_profile",
            "joined_at",
            "verified",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_verified(self, obj: Partnership) -> bool | None:
        return getattr(obj, "verified", None)


class PartnerPublicOrganisationSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    region_label = serializers.SerializerMethodField()

    def get_region_label(self, obj: Any) -> str:
        return region_label(obj.region_code)


class PublicPartnerSerializer(serializers.ModelSerializer):
    """Only what the public page shows: no contacts, notes, reasons or staff data."""

    organisation = PartnerPublicOrganisationSerializer(read_only=True)

    class Meta:
        model = Partnership
        fields = ["id", "organisation", "service_areas", "public_profile", "joined_at"]
        read_only_fields = fields


class MyPartnershipSerializer(serializers.ModelSerializer):
    organisation = PartnerOrganisationSerializer(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Partnership
        fields = ["id", "organisation", "status", "status_label", "status_reason", "service_areas", "joined_at"]
        read_only_fields = fields


class PartnerDirectoryQuerySerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    kind = serializers.ChoiceField(choices=OrganisationKind.choices, required=False, allow_blank=True, default="")
    tag = serializers.ChoiceField(choices=ServiceArea.choices, required=False, allow_blank=True, default="")
    status = serializers.ChoiceField(choices=PartnershipStatus.choices, required=False, allow_blank=True, default="")
    region = serializers.RegexField(r"^\d{6}$", required=False, allow_blank=True, default="")
    verified = serializers.BooleanField(required=False, allow_null=True, default=None)
    sort = serializers.ChoiceField(choices=list(selectors.SORTS), required=False, allow_blank=True, default="")

    def filters(self) -> selectors.DirectoryFilters:
        return selectors.DirectoryFilters(**self.validated_data)


class PartnerContactInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    role = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")


class PartnerContactUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    role = serializers.CharField(max_length=100, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)


class PartnerContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = PartnerContact
        fields = ["id", "name", "role", "phone", "email", "created_at", "updated_at"]
        read_only_fields = fields


class PartnerStaffAddSerializer(serializers.Serializer):
    credit_code = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=OrganisationKind.choices, required=False, allow_blank=True, default="")
    region_code = serializers.CharField(max_length=6, required=False, allow_blank=True, default="")
    service_areas = _areas_field(required=False, default=list)
    public_profile = serializers.CharField(required=False, allow_blank=True, default="")
    status = serializers.ChoiceField(
        choices=[PartnershipStatus.ACTIVE.value, PartnershipStatus.UNDER_REVIEW.value],
        required=False,
        default=PartnershipStatus.ACTIVE.value,
    )
    contact = PartnerContactInputSerializer(required=False, allow_null=True, default=None)


class PartnershipUpdateSerializer(serializers.Serializer):
    service_areas = _areas_field(required=False)
    public_profile = serializers.CharField(required=False, allow_blank=True)


class PartnerTransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=PartnershipStatus.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class PartnerNoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = PartnerNote
        fields = ["id", "author", "author_label", "body", "created_at"]
        read_only_fields = fields


class PartnerNoteInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=10_000)


class PartnerInviteSerializer(serializers.Serializer):
    email = serializers.EmailField()
    credit_code = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    message = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class PartnerInvitationSerializer(serializers.ModelSerializer):
    class Meta:
        model = PartnerInvitation
        fields = [
            "id",
            "email",
            "organisation",
            "partnership",
            "message",
            "created_at",
            "expires_at",
            "accepted_at",
            "revoked_at",
        ]
        read_only_fields = fields


class PartnerInvitationPublicSerializer(serializers.Serializer):
    email = serializers.EmailField()
    organisation_name = serializers.SerializerMethodField()
    message = serializers.CharField()
    expires_at = serializers.DateTimeField()

    def get_organisation_name(self, obj: PartnerInvitation) -> str | None:
        return obj.organisation.name if obj.organisation else None


class PartnerNewOrganisationSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=OrganisationKind.choices)
    credit_code = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    region_code = serializers.CharField(max_length=6)


class PartnerAcceptSerializer(serializers.Serializer):
    organisation = serializers.IntegerField(required=False, allow_null=True, default=None)
    new_organisation = PartnerNewOrganisationSerializer(required=False, allow_null=True, default=None)
    service_areas = _areas_field(required=False, default=list)
    public_profile = serializers.CharField(required=False, allow_blank=True, default="")


class PartnerApplySerializer(serializers.Serializer):
    organisation = serializers.IntegerField()
    service_areas = _areas_field(required=False, default=list)
    public_profile = serializers.CharField(required=False, allow_blank=True, default="")


class PartnerLeaveSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class PartnerImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)  # the service refuses empty files with its own code
    update_existing = serializers.BooleanField(required=False, default=True)


class PartnerImportJobSerializer(serializers.ModelSerializer):
    processed_rows = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "file_name",
            "file_format",
            "status",
            "update_existing",
            "total_rows",
            "processed_rows",
            "created_count",
            "updated_count",
            "unchanged_count",
            "refused_count",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_processed_rows(self, obj: ImportJob) -> int:
        return imports.import_job_progress(job=obj)


class PartnerImportRowSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    name = serializers.CharField()
    credit_code = serializers.CharField()
    outcome = serializers.ChoiceField(choices=list(imports.OUTCOME_LABELS))
    messages = serializers.ListField(child=serializers.CharField())
    warnings = serializers.ListField(child=serializers.CharField())
    changes = serializers.ListField(child=serializers.CharField())


class PartnerImportJobDetailSerializer(PartnerImportJobSerializer):
    report = PartnerImportRowSerializer(many=True, read_only=True)

    class Meta(PartnerImportJobSerializer.Meta):
        fields = [*PartnerImportJobSerializer.Meta.fields, "report"]
        read_only_fields = fields


class PartnerDocumentsSerializer(serializers.Serializer):
    verified = serializers.BooleanField()
    summary = serializers.ListField(child=serializers.DictField())
    documents = OrganisationDocumentSerializer(many=True)


class PartnerStatsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_kind = serializers.DictField(child=serializers.DictField(child=serializers.IntegerField()))
    growth = serializers.ListField(child=serializers.DictField())


# --- Staff: directory and a partner ---------------------------------------------------------------------------


class PartnerListView(HubAPIView):
    """The directory (staff): search, filters, sorting, pages. POST adds a partner by hand."""

    hub_roles = STAFF
    serializer_class = PartnershipSerializer

    @extend_schema(
        parameters=[PartnerDirectoryQuerySerializer],
        responses=PartnershipSerializer(many=True),
        operation_id="partners_list",
    )
    def get(self, request: Request) -> Response:
        query = PartnerDirectoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        qs = selectors.with_verified(selectors.partnership_list(filters=query.filters()))
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(PartnershipSerializer(page, many=True).data)

    @extend_schema(
        request=PartnerStaffAddSerializer, responses={201: PartnershipSerializer}, operation_id="partners_add"
    )
    def post(self, request: Request) -> Response:
        data = PartnerStaffAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        organisation_data = None
        if d["name"]:
            organisation_data = services.organisation_data_check(
                name=d["name"], kind=d["kind"], region_code=d["region_code"], credit_code=d["credit_code"] or None
            )
        partnership = services.partnership_staff_add(
            actor=request.user,  # type: ignore[arg-type]
            credit_code=d["credit_code"],
            organisation_data=organisation_data,
            service_areas=d["service_areas"],
            public_profile=d["public_profile"],
            status=d["status"],
            contact=d["contact"],
        )
        return Response(PartnershipSerializer(partnership).data, status=status.HTTP_201_CREATED)


def _partnership(pk: int) -> Partnership:
    return get_object_or_404(Partnership.objects.select_related("organisation"), pk=pk)


class PartnerDetailView(HubAPIView):
    hub_roles = STAFF
    serializer_class = PartnershipSerializer

    @extend_schema(operation_id="partners_get")
    def get(self, request: Request, pk: int) -> Response:
        qs = selectors.with_verified(Partnership.objects.select_related("organisation"))
        return Response(PartnershipSerializer(get_object_or_404(qs, pk=pk)).data)

    @extend_schema(request=PartnershipUpdateSerializer, responses=PartnershipSerializer, operation_id="partners_update")
    def patch(self, request: Request, pk: int) -> Response:
        data = PartnershipUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        partnership = services.partnership_update(
            partnership=_partnership(pk),
            actor=request.user,  # type: ignore[arg-type]
            **data.validated_data,
        )
        return Response(PartnershipSerializer(partnership).data)


class PartnerTransitionView(HubAPIView):
    """Move a partnership to another status (staff): under_review, active, rejected, suspended or left."""

    hub_roles = STAFF
    serializer_class = PartnerTransitionSerializer

    @extend_schema(
        request=PartnerTransitionSerializer, responses=PartnershipSerializer, operation_id="partners_transition"
    )
    def post(self, request: Request, pk: int) -> Response:
        data = PartnerTransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        partnership = services.partnership_transition(
            partnership=_partnership(pk),
            actor=request.user,  # type: ignore[arg-type]
            **data.validated_data,
        )
        return Response(PartnershipSerializer(partnership).data)


class PartnerContactListView(HubAPIView):
    """A partner's contact persons (personal data: staff only)."""

    hub_roles = STAFF
    serializer_class = PartnerContactSerializer
    pagination_class = None

    @extend_schema(responses=PartnerContactSerializer(many=True), operation_id="partners_contacts_list")
    def get(self, request: Request, pk: int) -> Response:
        return Response(PartnerContactSerializer(_partnership(pk).contacts.all(), many=True).data)

    @extend_schema(
        request=PartnerContactInputSerializer,
        responses={201: PartnerContactSerializer},
        operation_id="partners_contacts_add",
    )
    def post(self, request: Request, pk: int) -> Response:
        data = PartnerContactInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contact = services.partner_contact_add(
            partnership=_partnership(pk),
            actor=request.user,  # type: ignore[arg-type]
            **data.validated_data,
        )
        return Response(PartnerContactSerializer(contact).data, status=status.HTTP_201_CREATED)


class PartnerContactDetailView(HubAPIView):
    hub_roles = STAFF
    serializer_class = PartnerContactSerializer

    def _contact(self, pk: int, contact_id: int) -> PartnerContact:
        return get_object_or_404(
            PartnerContact.objects.select_related("partnership__organisation"), pk=contact_id, partnership_id=pk
        )

    @extend_schema(
        request=PartnerContactUpdateSerializer,
        responses=PartnerContactSerializer,
        operation_id="partners_contacts_update",
    )
    def patch(self, request: Request, pk: int, contact_id: int) -> Response:
        data = PartnerContactUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contact = services.partner_contact_update(
            contact=self._contact(pk, contact_id),
            actor=request.user,  # type: ignore[arg-type]
            **data.validated_data,
        )
        return Response(PartnerContactSerializer(contact).data)

    @extend_schema(responses={204: None}, operation_id="partners_contacts_remove")
    def delete(self, request: Request, pk: int, contact_id: int) -> Response:
        services.partner_contact_remove(contact=self._contact(pk, contact_id), actor=request.user)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


class PartnerNoteListView(HubAPIView):
    """Staff-only notes on a partner."""

    hub_roles = STAFF
    serializer_class = PartnerNoteSerializer

    @extend_schema(responses=PartnerNoteSerializer(many=True), operation_id="partners_notes_list")
    def get(self, request: Request, pk: int) -> Response:
        page = self.paginate_queryset(_partnership(pk).notes.all())
        return self.get_paginated_response(PartnerNoteSerializer(page, many=True).data)

    @extend_schema(
        request=PartnerNoteInputSerializer, responses={201: PartnerNoteSerializer}, operation_id="partners_notes_add"
    )
    def post(self, request: Request, pk: int) -> Response:
        data = PartnerNoteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        note = services.partner_note_add(
            partnership=_partnership(pk),
            actor=request.user,  # type: ignore[arg-type]
            body=data.validated_data["body"],
        )
        return Response(PartnerNoteSerializer(note).data, status=status.HTTP_201_CREATED)


class PartnerDocumentListView(HubAPIView):
    """The partner's documents on the platform, their verification state and who verified them."""

    hub_roles = STAFF
    serializer_class = PartnerDocumentsSerializer

    @extend_schema(responses=PartnerDocumentsSerializer, operation_id="partners_documents")
    def get(self, request: Request, pk: int) -> Response:
        docs = documents.partner_documents(partnership=_partnership(pk))
        summary = [
            {
                "kind": k.kind,
                "label": k.label,
                "status": k.status,
                "status_label": k.status_label,
                "document_id": k.document_id,
                "year": k.year,
                "reviewer_label": k.reviewer_label,
                "reviewer_hub_id": k.reviewer_hub_id,
                "reviewed_at": k.reviewed_at,
                "review_note": k.review_note,
            }
            for k in docs.summary.kinds
        ]
        return Response(
            {
                "verified": docs.summary.complete,
                "summary": summary,
                "documents": OrganisationDocumentSerializer(docs.documents, many=True).data,
            }
        )


class PartnerDocumentReviewView(HubAPIView):
    """Verify or reject one of the partner's documents in this hub's name."""

    hub_roles = STAFF
    serializer_class = DocumentReviewSerializer

    @extend_schema(
        request=DocumentReviewSerializer,
        responses=OrganisationDocumentSerializer,
        operation_id="partners_documents_review",
    )
    def post(self, request: Request, pk: int, document_id: int) -> Response:
        data = DocumentReviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        document = documents.partner_document_review(
            partnership=_partnership(pk),
            document_id=document_id,
            actor=request.user,  # type: ignore[arg-type]
            **data.validated_data,
        )
        return Response(OrganisationDocumentSerializer(document).data)


class PartnerStatsView(HubAPIView):
    hub_roles = STAFF
    serializer_class = PartnerStatsSerializer

    @extend_schema(responses=PartnerStatsSerializer, operation_id="partners_stats")
    def get(self, request: Request) -> Response:
        figures = selectors.network_stats()
        return Response(
            {
                "total": figures.total,
                "by_status": {s: n for s, _l, n in figures.by_status},
                "by_kind": {kind: cells for kind, _l, cells, _t in figures.by_kind},
                "growth": [{"month": m.strftime("%Y-%m"), "joined": n, "total": t} for m, n, t in figures.growth],
            }
        )


# --- Staff: invitations -------------------------------------------------------------------------------------------


class PartnerInvitationListView(HubAPIView):
    hub_roles = STAFF
    serializer_class = PartnerInvitationSerializer

    @extend_schema(responses=PartnerInvitationSerializer(many=True), operation_id="partners_invitations_list")
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(PartnerInvitation.objects.all())
        return self.get_paginated_response(PartnerInvitationSerializer(page, many=True).data)

    @extend_schema(
        request=PartnerInviteSerializer, responses={201: PartnerInvitationSerializer}, operation_id="partners_invite"
    )
    def post(self, request: Request) -> Response:
        data = PartnerInviteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation, _token = services.partner_invite(actor=request.user, **data.validated_data)  # type: ignore[arg-type]
        return Response(PartnerInvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class PartnerInvitationDetailView(HubAPIView):
    hub_roles = STAFF
    serializer_class = PartnerInvitationSerializer

    @extend_schema(responses=PartnerInvitationSerializer, operation_id="partners_invitations_revoke")
    def delete(self, request: Request, pk: int) -> Response:
        invitation = services.partner_invitation_revoke(
            invitation=get_object_or_404(PartnerInvitation, pk=pk),
            actor=request.user,  # type: ignore[arg-type]
        )
        return Response(PartnerInvitationSerializer(invitation).data)


# --- Organisation side and public -------------------------------------------------------------------------------


class PartnerJoinView(HubAPIView):
    """An invitation link: anyone holding the token may read it; a signed-in person accepts it for an organisation
    (new accounts are made on the web page, where a password can be set)."""

    hub_public = True
    serializer_class = PartnerInvitationPublicSerializer

    def get_permissions(self) -> list[Any]:
        return list(super().get_permissions()) if self.request.method == "GET" else [HubSignedIn()]

    @extend_schema(responses=PartnerInvitationPublicSerializer, operation_id="partners_invitation_get")
    def get(self, request: Request, token: str) -> Response:
        return Response(PartnerInvitationPublicSerializer(services.partner_invitation_find(token=token)).data)

    @extend_schema(
        request=PartnerAcceptSerializer,
        responses={201: MyPartnershipSerializer},
        operation_id="partners_invitation_accept",
    )
    def post(self, request: Request, token: str) -> Response:
        data = PartnerAcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        partnership, _user = services.partner_invitation_accept(
            token=token,
            user=request.user,  # type: ignore[arg-type]
            organisation_id=d["organisation"],
            new_organisation=dict(d["new_organisation"]) if d["new_organisation"] else None,
            service_areas=d["service_areas"],
            public_profile=d["public_profile"],
        )
        return Response(MyPartnershipSerializer(partnership).data, status=status.HTTP_201_CREATED)


class MyPartnershipsView(OrganisationSideView):
    """The caller's organisations in this hub; POST applies to join for one the caller manages."""

    serializer_class = MyPartnershipSerializer
    pagination_class = None

    @extend_schema(responses=MyPartnershipSerializer(many=True), operation_id="partners_mine")
    def get(self, request: Request) -> Response:
        mine = selectors.partnerships_of_user(user=request.user)  # type: ignore[arg-type]
        return Response(MyPartnershipSerializer(mine, many=True).data)

    @extend_schema(
        request=PartnerApplySerializer, responses={201: MyPartnershipSerializer}, operation_id="partners_apply"
    )
    def post(self, request: Request) -> Response:
        data = PartnerApplySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        managed = selectors.organisations_managed_by(user=request.user)  # type: ignore[arg-type]
        organisation = managed.filter(pk=data.validated_data["organisation"]).first()
        if organisation is None:
            raise exceptions.NotFound()
        partnership = services.partnership_apply(
            organisation=organisation,
            actor=request.user,  # type: ignore[arg-type]
            service_areas=data.validated_data["service_areas"],
            public_profile=data.validated_data["public_profile"],
        )
        return Response(MyPartnershipSerializer(partnership).data, status=status.HTTP_201_CREATED)


class MyPartnershipLeaveView(OrganisationSideView):
    """Withdraw an application, decline an invitation, or leave the network (the organisation's managers)."""

    serializer_class = MyPartnershipSerializer

    @extend_schema(request=PartnerLeaveSerializer, responses=MyPartnershipSerializer, operation_id="partners_leave")
    def post(self, request: Request, pk: int) -> Response:
        data = PartnerLeaveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        partnership = selectors.partnerships_of_user(user=request.user).filter(pk=pk).first()  # type: ignore[arg-type]
        if partnership is None:
            raise exceptions.NotFound()
        partnership = services.partnership_leave(
            partnership=partnership,
            actor=request.user,  # type: ignore[arg-type]
            reason=data.validated_data["reason"],
        )
        return Response(MyPartnershipSerializer(partnership).data)


class PublicPartnerListView(HubAPIView):
    """Active partners with their public profile (anyone)."""

    hub_public = True
    serializer_class = PublicPartnerSerializer

    @extend_schema(
        parameters=[PartnerDirectoryQuerySerializer(partial=True)],
        responses=PublicPartnerSerializer(many=True),
        operation_id="partners_public",
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        qs = selectors.partnership_public_list(
            q=params.get("q", "")[:100],
            kind=params.get("kind", ""),
            tag=params.get("tag", ""),
            region=params.get("region", ""),
        )
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(PublicPartnerSerializer(page, many=True).data)


# --- Staff: import and export ---------------------------------------------------------------------------------


class ImportListView(HubAPIView):
    """Import jobs. POST uploads a file and returns its dry run, row by row (nothing is written yet)."""

    hub_roles = STAFF
    serializer_class = PartnerImportJobSerializer

    @extend_schema(responses=PartnerImportJobSerializer(many=True), operation_id="partners_imports_list")
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(ImportJob.objects.defer("file_bytes", "report"))
        return self.get_paginated_response(PartnerImportJobSerializer(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": PartnerImportUploadSerializer},
        responses={201: PartnerImportJobDetailSerializer},
        operation_id="partners_imports_check",
    )
    def post(self, request: Request) -> Response:
        data = PartnerImportUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        job = imports.import_job_create(
            actor=request.user,  # type: ignore[arg-type]
            file_name=upload.name,
            data=upload.read(imports.MAX_FILE_BYTES + 1),
            update_existing=data.validated_data["update_existing"],
        )
        return Response(PartnerImportJobDetailSerializer(job).data, status=status.HTTP_201_CREATED)


class ImportDetailView(HubAPIView):
    """An import job: status and counters (poll while it runs) and its row-by-row report."""

    hub_roles = STAFF
    serializer_class = PartnerImportJobDetailSerializer

    @extend_schema(operation_id="partners_imports_get")
    def get(self, request: Request, pk: int) -> Response:
        job = get_object_or_404(ImportJob.objects.defer("file_bytes"), pk=pk)
        return Response(PartnerImportJobDetailSerializer(job).data)


class ImportConfirmView(HubAPIView):
    """Confirm a checked import: it runs in the background, all or nothing."""

    hub_roles = STAFF
    serializer_class = PartnerImportJobSerializer

    @extend_schema(request=None, responses={202: PartnerImportJobSerializer}, operation_id="partners_imports_confirm")
    def post(self, request: Request, pk: int) -> Response:
        job = get_object_or_404(ImportJob.objects.defer("file_bytes", "report"), pk=pk)
        job = imports.import_job_confirm(job=job, actor=request.user)  # type: ignore[arg-type]
        job.refresh_from_db()
        return Response(PartnerImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class FileRenderer(BaseRenderer):
    """Lets clients ask for the file's own type (Accept: text/csv, ...); error bodies stay JSON."""

    media_type = "*/*"
    format = "file"
    charset = None

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode()


FILE_RESPONSE = {(200, ct.split(";")[0]): OpenApiResponse(OpenApiTypes.BINARY) for ct in CONTENT_TYPES.values()}


class _FileView(HubAPIView):
    hub_roles = STAFF
    renderer_classes = [JSONRenderer, FileRenderer]
    serializer_class = PartnerDirectoryQuerySerializer
    file_format = "xlsx"


class _ExportView(_FileView):
    """The directory (same filters as the list) as xlsx or CSV, in the import template's columns."""

    @extend_schema(parameters=[PartnerDirectoryQuerySerializer], responses=FILE_RESPONSE)
    def get(self, request: Request) -> HttpResponse:
        query = PartnerDirectoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        partnerships = selectors.partnership_list(filters=query.filters())
        data = imports.export_file(partnerships=partnerships, file_format=self.file_format)
        return file_response(data, self.file_format, f"partners-{timezone.localdate():%Y%m%d}")


@extend_schema_view(get=extend_schema(operation_id="partners_export_xlsx"))
class ExportXlsxView(_ExportView):
    file_format = "xlsx"


@extend_schema_view(get=extend_schema(operation_id="partners_export_csv"))
class ExportCsvView(_ExportView):
    file_format = "csv"


class _ImportTemplateView(_FileView):
    """An empty import file with the columns (and, in xlsx, a sheet explaining them)."""

    @extend_schema(responses=FILE_RESPONSE)
    def get(self, request: Request) -> HttpResponse:
        data = imports.export_file(partnerships=None, file_format=self.file_format, template=True)
        return file_response(data, self.file_format, "partners-import-template")


@extend_schema_view(get=extend_schema(operation_id="partners_import_template_xlsx"))
class ImportTemplateXlsxView(_ImportTemplateView):
    file_format = "xlsx"


@extend_schema_view(get=extend_schema(operation_id="partners_import_template_csv"))
class ImportTemplateCsvView(_ImportTemplateView):
    file_format = "csv"
