from django.urls import path

from hubs.core import views

urlpatterns = [
    path("", views.home, name="hub-home"),
    path("members/", views.members, name="hub-members"),
    path("members/invite/", views.member_invite, name="hub-member-invite"),
    path("members/<int:pk>/", views.member_edit, name="hub-member-edit"),
    path("audit/", views.audit, name="hub-audit"),
    path("invitations/<str:token>/", views.invitation_accept, name="hub-invitation"),
]
