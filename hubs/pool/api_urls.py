from django.urls import URLPattern, URLResolver, path

from hubs.pool import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("pools", api.PoolListView.as_view(), name="api-pools"),
    path("pools/<int:pk>", api.PoolDetailView.as_view(), name="api-pool"),
    path("pools/<int:pk>/rules", api.PoolRulesView.as_view(), name="api-pool-rules"),
    path("pools/<int:pk>/delinquency", api.PoolDelinquencyView.as_view(), name="api-pool-delinquency"),
    path("pools/<int:pk>/members", api.MemberListView.as_view(), name="api-pool-members"),
    path(
        "pools/<int:pk>/members/<int:mid>/decision", api.MemberDecisionView.as_view(), name="api-pool-member-decision"
    ),
    path(
        "pools/<int:pk>/members/<int:mid>/contributions",
        api.MemberContributionView.as_view(),
        name="api-pool-member-contributions",
    ),
    path("pools/<int:pk>/members/<int:mid>/leave", api.MemberLeaveView.as_view(), name="api-pool-member-leave"),
    path("pools/<int:pk>/loans", api.LoanListView.as_view(), name="api-pool-loans"),
    path("pools/<int:pk>/loans/<int:lid>", api.LoanDetailView.as_view(), name="api-pool-loan"),
    path("pools/<int:pk>/loans/<int:lid>/<str:action>", api.LoanActionView.as_view(), name="api-pool-loan-action"),
]
