from django.urls import URLPattern, URLResolver, path

from hubs.calls import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("calls", api.CallListView.as_view(), name="api-calls"),
    path("calls/public", api.PublicCallListView.as_view(), name="api-calls-public"),
    path("calls/<int:pk>", api.CallDetailView.as_view(), name="api-call"),
    path("calls/<int:pk>/public", api.PublicCallDetailView.as_view(), name="api-call-public"),
    path("calls/<int:pk>/transition", api.CallTransitionView.as_view(), name="api-call-transition"),
    path("calls/<int:pk>/applications", api.CallApplicationsView.as_view(), name="api-call-applications"),
    path("calls/<int:pk>/ranking", api.CallRankingView.as_view(), name="api-call-ranking"),
    path("calls/<int:pk>/auto-assign", api.CallAutoAssignView.as_view(), name="api-call-auto-assign"),
    path("calls/<int:pk>/export.xlsx", api.CallExportView.as_view(), name="api-call-export"),
    path("calls/<int:pk>/results.pdf", api.CallResultsPdfView.as_view(), name="api-call-results-pdf"),
    path("calls/<int:pk>/apply", api.ApplyView.as_view(), name="api-call-apply"),
    path("call-applications/<int:pk>", api.ApplicationStaffView.as_view(), name="api-call-application"),
    path("call-applications/<int:pk>/screen", api.ApplicationScreenView.as_view(), name="api-call-application-screen"),
    path(
        "call-applications/<int:pk>/info-requests",
        api.ApplicationInfoRequestView.as_view(),
        name="api-call-application-info",
    ),
    path(
        "call-applications/<int:pk>/reviewers", api.ApplicationAssignView.as_view(), name="api-call-application-assign"
    ),
    path(
        "call-applications/<int:pk>/determine",
        api.ApplicationDetermineView.as_view(),
        name="api-call-application-determine",
    ),
    path("my/call-applications", api.MyApplicationsView.as_view(), name="api-my-applications"),
    path("my/call-applications/<int:pk>", api.MyApplicationDetailView.as_view(), name="api-my-application"),
    path(
        "my/call-applications/<int:pk>/submit", api.MyApplicationSubmitView.as_view(), name="api-my-application-submit"
    ),
    path(
        "my/call-applications/<int:pk>/withdraw",
        api.MyApplicationWithdrawView.as_view(),
        name="api-my-application-withdraw",
    ),
    path(
        "my/call-applications/<int:pk>/info-requests/<int:request_id>/answer",
        api.MyApplicationAnswerView.as_view(),
        name="api-my-application-answer",
    ),
    path("reviews", api.ReviewQueueView.as_view(), name="api-reviews"),
    path("reviews/<int:pk>", api.ReviewDetailView.as_view(), name="api-review"),
    path("reviews/<int:pk>/declare", api.ReviewDeclareView.as_view(), name="api-review-declare"),
    path("reviews/<int:pk>/scores", api.ReviewScoreView.as_view(), name="api-review-scores"),
]
