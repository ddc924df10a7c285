from django.urls import URLPattern, URLResolver, path

from hubs.needs import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("needs/phone-code", api.PhoneCodeView.as_view(), name="api-needs-phone-code"),
    path("needs/phone-verify", api.PhoneVerifyView.as_view(), name="api-needs-phone-verify"),
    path("needs/submit", api.NeedSubmitView.as_view(), name="api-needs-submit"),
    path("needs/track/<str:token>", api.NeedTrackView.as_view(), name="api-needs-track"),
    path("needs/stats", api.NeedStatsView.as_view(), name="api-needs-stats"),
    path("needs/rounds", api.RoundListView.as_view(), name="api-needs-rounds"),
    path("needs/rounds/<int:pk>", api.RoundDetailView.as_view(), name="api-needs-round"),
    path("needs/rounds/<int:pk>/close", api.RoundCloseView.as_view(), name="api-needs-round-close"),
    path("needs/rounds/<int:pk>/ideas/<int:idea_id>/support", api.SupportView.as_view(), name="api-needs-support"),
    path("needs/rounds/<int:pk>/ideas/<int:idea_id>/objections", api.ObjectionView.as_view(), name="api-needs-object"),
    path("needs/objections/<int:pk>/answer", api.ObjectionAnswerView.as_view(), name="api-needs-answer"),
    path("needs/flags", api.FlagListView.as_view(), name="api-needs-flags"),
    path("needs/rounds/<int:pk>/flags", api.RoundFlagsView.as_view(), name="api-needs-round-flags"),
    path("needs/flags/<int:pk>/review", api.FlagReviewView.as_view(), name="api-needs-flag-review"),
    path("needs/ideas", api.IdeaListView.as_view(), name="api-needs-ideas"),
    path("needs/ideas/<int:pk>", api.IdeaDetailView.as_view(), name="api-needs-idea"),
    path("needs/ideas/<int:pk>/scores", api.IdeaScoreView.as_view(), name="api-needs-idea-scores"),
    path("needs/ideas/<int:pk>/<str:action>", api.IdeaActionView.as_view(), name="api-needs-idea-action"),
    path("needs/criteria", api.CriterionListView.as_view(), name="api-needs-criteria"),
    path("needs/fairs", api.FairListView.as_view(), name="api-needs-fairs"),
    path("needs/fairs/<int:pk>", api.FairDetailView.as_view(), name="api-needs-fair"),
    path("needs/fairs/<int:pk>/claims", api.ClaimCreateView.as_view(), name="api-needs-claims"),
    path("needs/fairs/<int:pk>/<str:action>", api.FairActionView.as_view(), name="api-needs-fair-action"),
    path("needs/claims/<int:pk>/<str:action>", api.ClaimActionView.as_view(), name="api-needs-claim-action"),
    path("needs", api.NeedListView.as_view(), name="api-needs"),
    path("needs/<int:pk>", api.NeedDetailView.as_view(), name="api-need"),
    path("needs/<int:pk>/<str:action>", api.NeedActionView.as_view(), name="api-need-action"),
]
