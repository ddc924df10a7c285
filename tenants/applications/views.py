"""The applicant's one page, on the public site: every application of their organisations, in every hub."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework import permissions, serializers
from rest_framework.generics import ListAPIView

from tenants.applications.models import ApplicationIndex
from tenants.applications.services import applications_of_user


@login_required
def my_applications(request: HttpRequest) -> HttpResponse:
    rows = list(applications_of_user(user=request.user)[:500])
    return render(request, "hub_applications/mine.html", {"rows": rows})


class ApplicationIndexSerializer(serializers.ModelSerializer):
    hub = serializers.CharField(source="hub.slug")
    hub_name = serializers.CharField(source="hub.display_name")
    organisation = serializers.CharField(source="organisation.name")
    status_label = serializers.CharField(source="get_status_display")

    class Meta:
        model = ApplicationIndex
        fields = [
            "hub",
            "hub_name",
            "application_id",
            "call_id",
            "call_title",
            "call_title_en",
            "organisation",
            "title",
            "status",
            "status_label",
            "status_reason",
            "requested_amount",
            "awarded_amount",
            "closes_at",
            "submitted_at",
            "link_url",
            "updated_at",
        ]
        read_only_fields = fields


class MyApplicationsAllHubsView(ListAPIView):
    """Every application of the caller's organisations across all hubs (from the public index)."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = ApplicationIndexSerializer

    def get_queryset(self) -> QuerySet[ApplicationIndex]:
        return applications_of_user(user=self.request.user)
