from django.urls import path

from tenants import api

urlpatterns = [
    path("hubs", api.HubListView.as_view(), name="api-hubs"),
    path("me/hubs", api.MyHubsView.as_view(), name="api-me-hubs"),
    path("operator/hubs", api.OperatorHubsView.as_view(), name="api-operator-hubs"),
    path("operator/hubs/<slug:slug>", api.OperatorHubDetailView.as_view(), name="api-operator-hub"),
]
