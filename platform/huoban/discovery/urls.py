from django.urls import path

from huoban.discovery import views

app_name = "discovery"

urlpatterns = [
    path("", views.discover_view, name="discover"),
    path("saved/", views.saved_view, name="saved"),
    path("saved/<int:pk>/delete/", views.saved_delete_view, name="saved_delete"),
    path("saved/<int:pk>/digest/", views.saved_digest_view, name="saved_digest"),
    path("saved/interests/", views.interests_view, name="interests"),
]
