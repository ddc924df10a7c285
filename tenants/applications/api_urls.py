from django.urls import path

from tenants.applications import views

urlpatterns = [
    path("my/applications", views.MyApplicationsAllHubsView.as_view(), name="api-my-applications-all-hubs"),
]
