"""API: the hubs a person belongs to, the public hub list, and operator provisioning."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from huoban.api.permissions import IsOperator
from huoban.regions import region_label
from tenants import selectors, services
from tenants.models import Hub, HubKind, HubStatus


class HubPublicSerializer(serializers.ModelSerializer):
    url = serializers.CharField(read_only=True)
    region_name = serializers.SerializerMethodField()
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Hub
        fields = ["slug", "name_zh", "name_en", "kind", "kind_label", "region_code", "region_name", "status", "url"]
        read_only_fields = fields

    def get_region_name(self, obj: Hub) -> str:
        return region_label(obj.region_code)


class HubOperatorSerializer(HubPublicSerializer):
    # None until the hub's first usage count (hubs.core.tasks.hub_usage_refresh) has run
    members = serializers.IntegerField(source="usage.members", read_only=True, allow_null=True)
    schema_bytes = serializers.IntegerField(source="usage.schema_bytes", read_only=True, allow_null=True)

    class Meta(HubPublicSerializer.Meta):
        fields = [
            *HubPublicSerializer.Meta.fields,
            "id",
            "schema_name",
            "status_reason",
            "plan",
            "created_at",
            "members",
            "schema_bytes",
        ]
        read_only_fields = fields


class HubListView(generics.ListAPIView):
    """Open hubs (anyone)."""

    permission_classes = [AllowAny]
    serializer_class = HubPublicSerializer

    def get_queryset(self):
        return selectors.hub_list_public()


class MyHubSerializer(serializers.Serializer):
    roles = serializers.ListField(child=serializers.CharField())
    hub = HubPublicSerializer()


class MyHubsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MyHubSerializer(many=True), operation_id="me_hubs_list")
    def get(self, request: Request) -> Response:
        rows = selectors.user_hub_accesses(user=request.user)  # type: ignore[arg-type]
        return Response(MyHubSerializer(rows, many=True).data)


class HubProvisionSerializer(serializers.Serializer):
    slug = serializers.CharField(max_length=30)
    name_zh = serializers.CharField(max_length=200)
    name_en = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=HubKind.choices)
    region_code = serializers.CharField(max_length=6)
    admin_email = serializers.EmailField()


class OperatorHubsView(generics.ListAPIView):
    """Operators: every hub with status and usage; POST provisions a new hub."""

    permission_classes = [IsOperator]
    serializer_class = HubOperatorSerializer

    def get_queryset(self):
        return selectors.hub_list_all_hubs()

    @extend_schema(
        request=HubProvisionSerializer,
        responses={201: HubOperatorSerializer, 200: HubOperatorSerializer},
        operation_id="operator_hubs_provision",
    )
    def post(self, request: Request) -> Response:
        data = HubProvisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.hub_provision(actor=request.user, **data.validated_data)  # type: ignore[arg-type]
        return Response(
            HubOperatorSerializer(result.hub).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class HubStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=HubStatus.choices)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class OperatorHubDetailView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(responses=HubOperatorSerializer, operation_id="operator_hubs_retrieve")
    def get(self, request: Request, slug: str) -> Response:
        return Response(HubOperatorSerializer(get_object_or_404(selectors.hub_list_all_hubs(), slug=slug)).data)

    @extend_schema(request=HubStatusSerializer, responses=HubOperatorSerializer, operation_id="operator_hubs_status")
    def patch(self, request: Request, slug: str) -> Response:
        hub = get_object_or_404(selectors.hub_list_all_hubs(), slug=slug)
        data = HubStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hub = services.hub_status_set(hub=hub, actor=request.user, **data.validated_data)  # type: ignore[arg-type]
        return Response(HubOperatorSerializer(hub).data)
