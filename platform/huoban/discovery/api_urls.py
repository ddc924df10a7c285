from django.urls import path

from huoban.discovery import api

urlpatterns = [
    path("discover", api.DiscoverView.as_view(), name="api-discover"),
    path("discover/saved", api.SavedSearchListView.as_view(), name="api-discover-saved"),
    path("discover/saved/<int:pk>", api.SavedSearchDetailView.as_view(), name="api-discover-saved-detail"),
    path("discover/interests", api.InterestsView.as_view(), name="api-discover-interests"),
    path("discover/recommendations", api.RecommendationsView.as_view(), name="api-discover-recommendations"),
]
