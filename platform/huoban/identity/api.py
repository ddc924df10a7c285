"""API: the signed-in person, their organisations and their API tokens. Served on every host."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from huoban.identity import selectors, services
from huoban.identity.models import ApiToken, Organisation, OrganisationKind, User
from huoban.regions import region_label


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "name", "email", "mobile", "email_verified_at", "preferred_language", "is_operator"]
        read_only_fields = fields


class UserUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    preferred_language = serializers.ChoiceField(choices=["", "zh-hans", "en"], required=False)


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=UserSerializer, operation_id="me_retrieve")
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(request.user).data)

    @extend_schema(request=UserUpdateSerializer, responses=UserSerializer, operation_id="me_update")
    def patch(self, request: Request) -> Response:
        data = UserUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_update(user=request.user, **data.validated_data)  # type: ignore[arg-type]
        return Response(UserSerializer(user).data)


class OrganisationSerializer(serializers.ModelSerializer):
    region_name = serializers.SerializerMethodField()
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Organisation
        fields = [
            "id",
            "name",
            "name_en",
            "kind",
            "kind_label",
            "credit_code",
            "region_code",
            "region_name",
            "description",
            "website",
            "contact_email",
            "contact_phone",
            "created_at",
        ]
        read_only_fields = fields

    def get_region_name(self, obj: Organisation) -> str:
        return region_label(obj.region_code)


class OrganisationCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    name_en = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=OrganisationKind.choices)
    credit_code = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    region_code = serializers.CharField(max_length=6)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    website = serializers.URLField(required=False, allow_blank=True, default="")
    contact_email = serializers.EmailField(required=False, allow_blank=True, default="")
    contact_phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")


class OrganisationUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    name_en = serializers.CharField(max_length=200, required=False, allow_blank=True)
    region_code = serializers.CharField(max_length=6, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    website = serializers.URLField(required=False, allow_blank=True)
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    contact_phone = serializers.CharField(max_length=30, required=False, allow_blank=True)


class MembershipOrganisationSerializer(serializers.Serializer):
    role = serializers.CharField()
    organisation = OrganisationSerializer()


class MyOrganisationsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MembershipOrganisationSerializer(many=True), operation_id="me_organisations_list")
    def get(self, request: Request) -> Response:
        rows = selectors.user_organisations(user=request.user)  # type: ignore[arg-type]
        return Response(MembershipOrganisationSerializer(rows, many=True).data)

    @extend_schema(
        request=OrganisationCreateSerializer,
        responses={201: OrganisationSerializer},
        operation_id="me_organisations_create",
    )
    def post(self, request: Request) -> Response:
        data = OrganisationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        org = services.organisation_create(creator=request.user, **data.validated_data)  # type: ignore[arg-type]
        return Response(OrganisationSerializer(org).data, status=status.HTTP_201_CREATED)


class OrganisationDetailView(APIView):
    """An organisation its member can read; owners and admins can change its profile."""

    permission_classes = [IsAuthenticated]

    def _get(self, request: Request, pk: int) -> Organisation:
        org = selectors.organisation_for_member(user=request.user, organisation_id=pk)  # type: ignore[arg-type]
        if org is None:
            from rest_framework.exceptions import NotFound

            raise NotFound()
        return org

    @extend_schema(responses=OrganisationSerializer, operation_id="organisations_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return Response(OrganisationSerializer(self._get(request, pk)).data)

    @extend_schema(
        request=OrganisationUpdateSerializer, responses=OrganisationSerializer, operation_id="organisations_update"
    )
    def patch(self, request: Request, pk: int) -> Response:
        org = self._get(request, pk)
        data = OrganisationUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        org = services.organisation_update(organisation=org, actor=request.user, **data.validated_data)  # type: ignore[arg-type]
        return Response(OrganisationSerializer(org).data)


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "key_id", "created_at", "last_used_at", "expires_at", "revoked_at"]
        read_only_fields = fields


class ApiTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ApiTokenIssuedSerializer(ApiTokenSerializer):
    secret = serializers.CharField(read_only=True, help_text="Shown once; store it now.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class MyTokensView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ApiTokenSerializer(many=True), operation_id="me_tokens_list")
    def get(self, request: Request) -> Response:
        tokens = ApiToken.objects.filter(user_id=request.user.pk)  # type: ignore[misc]
        return Response(ApiTokenSerializer(tokens, many=True).data)

    @extend_schema(
        request=ApiTokenCreateSerializer, responses={201: ApiTokenIssuedSerializer}, operation_id="me_tokens_create"
    )
    def post(self, request: Request) -> Response:
        data = ApiTokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        issued = services.api_token_create(user=request.user, **data.validated_data)  # type: ignore[arg-type]
        body: dict[str, Any] = dict(ApiTokenSerializer(issued.token).data)
        body["secret"] = issued.secret
        return Response(body, status=status.HTTP_201_CREATED)


class MyTokenDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None}, operation_id="me_tokens_revoke")
    def delete(self, request: Request, pk: int) -> Response:
        token = get_object_or_404(ApiToken, pk=pk, user_id=request.user.pk)
        services.api_token_revoke(token=token, actor=request.user)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)
