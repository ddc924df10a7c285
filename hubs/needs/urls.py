from django.urls import URLPattern, URLResolver, path

from hubs.needs import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="needs-home"),
    path("verify/", views.verify, name="needs-verify"),
    path("submit/", views.submit, name="needs-submit"),
    path("track/<str:token>/", views.track, name="needs-track"),
    path("notice/<int:pk>/", views.notice, name="needs-notice"),
    path("notice/<int:pk>/support/<int:idea_id>/", views.notice_support, name="needs-support"),
    path("notice/<int:pk>/object/<int:idea_id>/", views.notice_object, name="needs-object"),
    path("notice/<int:pk>/flags/", views.round_flags, name="needs-round-flags"),
    path("notice/<int:pk>/export/<str:what>.<str:fmt>", views.round_export, name="needs-round-export"),
    path("notice/<int:pk>/<str:action>/", views.round_action, name="needs-round-action"),
    path("fairs/<int:pk>/", views.fair_page, name="needs-fair"),
    path("fairs/<int:pk>/board/", views.fair_board, name="needs-fair-board"),
    path("fairs/<int:pk>/claim/", views.fair_claim, name="needs-fair-claim"),
    path("fairs/<int:pk>/<str:action>/", views.fair_action, name="needs-fair-action"),
    path("claims/<int:pk>/", views.claim_detail, name="needs-claim"),
    path("claims/<int:pk>/<str:action>/", views.claim_action, name="needs-claim-action"),
    path("staff/", views.staff_needs, name="needs-staff"),
    path("staff/<int:pk>/", views.staff_need, name="needs-staff-need"),
    path("ideas/", views.ideas, name="needs-ideas"),
    path("ideas/<int:pk>/", views.idea_detail, name="needs-idea"),
]
