"""API of a hub's own host: the hub, its members and invitations, its audit trail."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from hubs.core import services
from hubs.core.models import HubMembership
from hubs.core.permissions import HUB_ADMIN, STAFF, HubAPIView
from huoban.audit.models import AuditEvent
from huoban.audit.selectors import audit_event_list
from tenants.api import HubPublicSerializer
from tenants.models import HubRole


class HubInfoView(HubAPIView):
    """This hub's public profile (anyone)."""

    hub_public = True
    serializer_class = HubPublicSerializer

    def get(self, request: Request) -> Response:
        return Response(HubPublicSerializer(self.hub).data)


class MemberSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="user.name", read_only=True)
    email = serializers.CharField(source="user.email", read_only=True)

    class Meta:
        model = HubMembership
        fields = ["id", "user", "name", "email", "roles", "created_at"]
        read_only_fields = fields


class InviteSerializer(serializers.Serializer):
    email = serializers.EmailField()
    roles = serializers.ListField(child=serializers.ChoiceField(choices=HubRole.choices), min_length=1)


class InvitationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    roles = serializers.ListField(child=serializers.CharField())
    expires_at = serializers.DateTimeField()


class RolesSerializer(serializers.Serializer):
    roles = serializers.ListField(child=serializers.ChoiceField(choices=HubRole.choices), min_length=1)


class MemberListView(HubAPIView):
    """Staff read the member list; hub admins invite."""

    hub_roles = STAFF
    hub_write_roles = HUB_ADMIN
    serializer_class = MemberSerializer

    def get_queryset(self):
        return HubMembership.objects.select_related("user").order_by("created_at")

    @extend_schema(responses=MemberSerializer(many=True), operation_id="hub_members_list")
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(MemberSerializer(page, many=True).data)

    @extend_schema(request=InviteSerializer, responses={201: InvitationSerializer}, operation_id="hub_members_invite")
    def post(self, request: Request) -> Response:
        data = InviteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = services.member_invite(actor=request.user, **data.validated_data)  # type: ignore[arg-type]
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class MemberDetailView(HubAPIView):
    hub_roles = STAFF
    hub_write_roles = HUB_ADMIN
    serializer_class = MemberSerializer

    def get(self, request: Request, pk: int) -> Response:
        return Response(MemberSerializer(get_object_or_404(HubMembership, pk=pk)).data)

    @extend_schema(request=RolesSerializer, responses=MemberSerializer, operation_id="hub_members_roles")
    def patch(self, request: Request, pk: int) -> Response:
        membership = get_object_or_404(HubMembership, pk=pk)
        data = RolesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.membership_set_roles(
            membership=membership,
            roles=data.validated_data["roles"],
            actor=request.user,  # type: ignore[arg-type]
        )
        return Response(MemberSerializer(membership).data)

    @extend_schema(responses={204: None}, operation_id="hub_members_remove")
    def delete(self, request: Request, pk: int) -> Response:
        services.membership_remove(membership=get_object_or_404(HubMembership, pk=pk), actor=request.user)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "actor",
            "actor_label",
            "action",
            "object_type",
            "object_id",
            "object_label",
            "before",
            "after",
            "request_id",
        ]
        read_only_fields = fields


class HubAuditView(HubAPIView):
    """This hub's audit trail (hub admins)."""

    hub_roles = HUB_ADMIN
    serializer_class = AuditEventSerializer

    @extend_schema(
        parameters=[OpenApiParameter("action", str)],
        responses=AuditEventSerializer(many=True),
        operation_id="hub_audit_list",
    )
    def get(self, request: Request) -> Response:
        qs = audit_event_list(action=request.query_params.get("action", ""))
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(AuditEventSerializer(page, many=True).data)
