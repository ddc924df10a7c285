"""API: cross-hub search (anyone), and a signed-in person's saved searches, interests and recommendations."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from huoban.discovery import matching
from huoban.discovery.models import DiscoveryEntry, EntryKind, SavedSearch, ServiceArea
from huoban.discovery.params import QUERY_MAX, SORTS, search_params, search_params_from_dict
from huoban.discovery.selectors import LIMIT_MAX, discovery_interests_for, discovery_recommend, discovery_search_params
from huoban.regions import region_label


class CommaListField(serializers.ListField):
    """A list in a query string, repeated (``kinds=call&kinds=fair``) or comma-separated (``kinds=call,fair``)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str):
            data = [data]
        split = [part.strip() for item in data for part in str(item).split(",") if part.strip()]
        return super().to_internal_value(split)


class DiscoverQuerySerializer(serializers.Serializer):
    query = serializers.CharField(required=False, allow_blank=True, max_length=QUERY_MAX, default="")
    kinds = CommaListField(child=serializers.ChoiceField(choices=EntryKind.choices), required=False, default=list)
    region = serializers.CharField(required=False, allow_blank=True, max_length=6, default="")
    service_areas = CommaListField(
        child=serializers.ChoiceField(choices=ServiceArea.choices), required=False, default=list
    )
    amount_min = serializers.IntegerField(required=False, min_value=0, allow_null=True, default=None)
    amount_max = serializers.IntegerField(required=False, min_value=0, allow_null=True, default=None)
    deadline_before = serializers.DateField(required=False, allow_null=True, default=None)
    hub_ids = CommaListField(child=serializers.IntegerField(min_value=1), required=False, default=list)
    sort = serializers.ChoiceField(choices=SORTS, required=False, default="relevance")
    cursor = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=LIMIT_MAX, default=20)
    facets = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Count and facets: by default with the first page only; false skips them (faster).",
    )


class HubSnapshotSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="hub_id")
    slug = serializers.CharField(source="hub_slug")
    name = serializers.CharField(source="hub_name")
    name_en = serializers.CharField(source="hub_name_en")


class EntrySerializer(serializers.ModelSerializer):
    hub = HubSnapshotSerializer(source="*")
    kind_label = serializers.CharField(source="get_kind_display")
    status_label = serializers.CharField(source="get_status_display")
    region_name = serializers.SerializerMethodField()

    class Meta:
        model = DiscoveryEntry
        fields = [
            "id",
            "kind",
            "kind_label",
            "hub",
            "title",
            "summary",
            "region_code",
            "region_name",
            "service_areas",
            "amount",
            "currency",
            "opens_on",
            "closes_on",
            "deadline",
            "status",
            "status_label",
            "url",
            "published_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_region_name(self, obj: DiscoveryEntry) -> str:
        return region_label(obj.region_code) if obj.region_code else ""


class HitSerializer(serializers.Serializer):
    entry = EntrySerializer()
    rank = serializers.FloatField()
    title_html = serializers.CharField(help_text="The title, HTML-escaped, with the query's words in <mark>.")
    snippet_html = serializers.CharField(help_text="A part of the summary around the first match, escaped.")


class FacetValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # the stubs take it for Field.label
    count = serializers.IntegerField()
    selected = serializers.BooleanField()


class FacetsSerializer(serializers.Serializer):
    kind = FacetValueSerializer(many=True)
    province = FacetValueSerializer(many=True)
    service_area = FacetValueSerializer(many=True)
    hub = FacetValueSerializer(many=True)


class SearchResultSerializer(serializers.Serializer):
    results = HitSerializer(many=True, source="hits")
    next_cursor = serializers.CharField(allow_null=True)
    total = serializers.IntegerField(allow_null=True, help_text="Hits in all; with the first page only.")
    match = serializers.ChoiceField(
        choices=["full_text", "similar", "partial", "all"],
        help_text="full_text: every word matched; similar: no such entry, titles like the query; partial: some "
        "of the words; all: no query.",
    )
    facets = FacetsSerializer(allow_null=True, help_text="Counts per value under every other filter; first page.")


class DiscoverThrottle(SimpleRateThrottle):
    """Per client address: search is open to anyone and a broad query costs the database real work."""

    scope = "discover"

    def get_rate(self) -> str:
        return str(getattr(settings, "HUOBAN_DISCOVER_API_RATE", "120/min"))

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class DiscoverView(APIView):
    """Search every hub's open calls, projects and partners at once. No sign-in needed."""

    permission_classes = [AllowAny]
    throttle_classes = [DiscoverThrottle]

    @extend_schema(
        parameters=[DiscoverQuerySerializer], responses=SearchResultSerializer, operation_id="discover_search"
    )
    def get(self, request: Request) -> Response:
        data = DiscoverQuerySerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        cursor, limit, facets = values.pop("cursor"), values.pop("limit"), values.pop("facets")
        result = discovery_search_params(
            params=search_params(**values), cursor=cursor or None, limit=limit, with_facets=facets
        )
        return Response(SearchResultSerializer(result).data)


# --- saved searches, interests, recommendations --------------------------------------------------------------


class SearchParamsSerializer(serializers.Serializer):
    """The parameters of a search, as ``GET /api/v1/discover`` takes them (amounts in fen)."""

    query = serializers.CharField(required=False, allow_blank=True, max_length=QUERY_MAX)
    kinds = serializers.ListField(child=serializers.ChoiceField(choices=EntryKind.choices), required=False)
    region = serializers.CharField(required=False, allow_blank=True, max_length=6)
    service_areas = serializers.ListField(child=serializers.ChoiceField(choices=ServiceArea.choices), required=False)
    amount_min = serializers.IntegerField(required=False, min_value=0, allow_null=True)
    amount_max = serializers.IntegerField(required=False, min_value=0, allow_null=True)
    deadline_before = serializers.DateField(required=False, allow_null=True)
    hub_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)
    sort = serializers.ChoiceField(choices=SORTS, required=False)


class SavedSearchSerializer(serializers.ModelSerializer):
    params = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField(help_text="The search on the public discovery page.")

    class Meta:
        model = SavedSearch
        fields = ["id", "name", "params", "email_digest", "last_sent_at", "created_at", "url"]
        read_only_fields = fields

    @extend_schema_field(SearchParamsSerializer)
    def get_params(self, obj: SavedSearch) -> dict[str, Any]:
        return dict(obj.params)

    def get_url(self, obj: SavedSearch) -> str:
        try:
            return matching.discover_url(search_params_from_dict(obj.params))
        except Exception:  # parameters that are no longer valid: the page itself says so
            return ""


class SavedSearchCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    params = SearchParamsSerializer()
    email_digest = serializers.BooleanField(required=False, default=False)


class SavedSearchUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    email_digest = serializers.BooleanField(required=False)


class SavedSearchListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=SavedSearchSerializer(many=True), operation_id="discover_saved_list")
    def get(self, request: Request) -> Response:
        rows = SavedSearch.objects.filter(user_id=request.user.pk)  # type: ignore[misc]
        return Response(SavedSearchSerializer(rows, many=True).data)

    @extend_schema(
        request=SavedSearchCreateSerializer,
        responses={201: SavedSearchSerializer},
        operation_id="discover_saved_create",
    )
    def post(self, request: Request) -> Response:
        data = SavedSearchCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = search_params(**data.validated_data["params"])
        saved = matching.saved_search_create(
            user=request.user,  # type: ignore[arg-type]
            name=data.validated_data["name"],
            params=params,
            email_digest=data.validated_data["email_digest"],
        )
        return Response(SavedSearchSerializer(saved).data, status=status.HTTP_201_CREATED)


class SavedSearchDetailView(APIView):
    """One of the signed-in person's saved searches; anyone else's answers 404."""

    permission_classes = [IsAuthenticated]

    def _get(self, request: Request, pk: int) -> SavedSearch:
        return get_object_or_404(SavedSearch, pk=pk, user_id=request.user.pk)

    @extend_schema(responses=SavedSearchSerializer, operation_id="discover_saved_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return Response(SavedSearchSerializer(self._get(request, pk)).data)

    @extend_schema(
        request=SavedSearchUpdateSerializer, responses=SavedSearchSerializer, operation_id="discover_saved_update"
    )
    def patch(self, request: Request, pk: int) -> Response:
        saved = self._get(request, pk)
        data = SavedSearchUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        saved = matching.saved_search_update(saved=saved, **data.validated_data)
        return Response(SavedSearchSerializer(saved).data)

    @extend_schema(responses={204: None}, operation_id="discover_saved_delete")
    def delete(self, request: Request, pk: int) -> Response:
        matching.saved_search_delete(saved=self._get(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class InterestsSerializer(serializers.Serializer):
    service_areas = serializers.ListField(child=serializers.ChoiceField(choices=ServiceArea.choices), default=list)
    region_codes = serializers.ListField(child=serializers.CharField(max_length=6), default=list, max_length=20)
    kinds = serializers.ListField(child=serializers.ChoiceField(choices=EntryKind.choices), default=list)
    amount_min = serializers.IntegerField(min_value=0, allow_null=True, required=False, default=None)
    amount_max = serializers.IntegerField(min_value=0, allow_null=True, required=False, default=None)


class InterestsView(APIView):
    """What the signed-in person cares about. Without interests set, GET shows what their saved searches and
    organisations suggest (what recommendations then use)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=InterestsSerializer, operation_id="discover_interests_retrieve")
    def get(self, request: Request) -> Response:
        interests = discovery_interests_for(user=request.user)
        return Response(InterestsSerializer(interests).data)

    @extend_schema(request=InterestsSerializer, responses=InterestsSerializer, operation_id="discover_interests_set")
    def put(self, request: Request) -> Response:
        data = InterestsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        interest = matching.interests_set(user=request.user, **data.validated_data)  # type: ignore[arg-type]
        return Response(InterestsSerializer(interest).data)


class RecommendationQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(required=False, min_value=1, max_value=LIMIT_MAX, default=10)


class RecommendationSerializer(serializers.Serializer):
    entry = EntrySerializer(source="*")
    score = serializers.FloatField(source="rank")


class RecommendationsView(APIView):
    """ "Projects that fit you": listed entries ranked by the person's interests and by how new they are."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[RecommendationQuerySerializer],
        responses=RecommendationSerializer(many=True),
        operation_id="discover_recommendations",
    )
    def get(self, request: Request) -> Response:
        data = RecommendationQuerySerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        entries = discovery_recommend(user=request.user, limit=data.validated_data["limit"])
        return Response(RecommendationSerializer(entries, many=True).data)
