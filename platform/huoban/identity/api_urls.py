from django.urls import path

from huoban.identity import api

urlpatterns = [
    path("me", api.MeView.as_view(), name="api-me"),
    path("me/organisations", api.MyOrganisationsView.as_view(), name="api-me-organisations"),
    path("me/tokens", api.MyTokensView.as_view(), name="api-me-tokens"),
    path("me/tokens/<int:pk>", api.MyTokenDetailView.as_view(), name="api-me-token"),
    path("organisations/<int:pk>", api.OrganisationDetailView.as_view(), name="api-organisation"),
]
