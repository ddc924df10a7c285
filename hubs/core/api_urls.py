from django.urls import path

from hubs.core import api

urlpatterns = [
    path("hub", api.HubInfoView.as_view(), name="api-hub"),
    path("hub/members", api.MemberListView.as_view(), name="api-hub-members"),
    path("hub/members/<int:pk>", api.MemberDetailView.as_view(), name="api-hub-member"),
    path("hub/audit", api.HubAuditView.as_view(), name="api-hub-audit"),
]
