from django.urls import URLPattern, URLResolver, path

from hubs.projects import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("projects", api.ProjectListView.as_view(), name="api-projects"),
    path("projects/public", api.PublicProjectListView.as_view(), name="api-projects-public"),
    path("projects/public/stats", api.PublicStatsView.as_view(), name="api-projects-public-stats"),
    path("projects/public/<int:pk>", api.PublicProjectDetailView.as_view(), name="api-projects-public-detail"),
    path("projects/public/<int:pk>/survey", api.SurveyView.as_view(), name="api-projects-survey"),
    path("projects/<int:pk>", api.ProjectDetailView.as_view(), name="api-project"),
    path("projects/<int:pk>/transition", api.ProjectTransitionView.as_view(), name="api-project-transition"),
    path("projects/<int:pk>/budget-lines", api.BudgetLineView.as_view(), name="api-project-budget-lines"),
    path(
        "projects/<int:pk>/budget-lines/<int:line_id>",
        api.BudgetLineDetailView.as_view(),
        name="api-project-budget-line",
    ),
    path("projects/<int:pk>/funding-sources", api.FundingView.as_view(), name="api-project-funding"),
    path("projects/<int:pk>/receipts", api.ReceiptView.as_view(), name="api-project-receipts"),
    path("projects/<int:pk>/milestones", api.MilestoneView.as_view(), name="api-project-milestones"),
    path(
        "projects/<int:pk>/milestones/<int:milestone_id>",
        api.MilestoneDetailView.as_view(),
        name="api-project-milestone",
    ),
    path("projects/<int:pk>/ambassadors", api.AmbassadorView.as_view(), name="api-project-ambassadors"),
    path("projects/<int:pk>/tranches", api.TrancheListView.as_view(), name="api-project-tranches"),
    path(
        "projects/<int:pk>/tranches/<int:tranche_id>/review",
        api.TrancheReviewView.as_view(),
        name="api-project-tranche-review",
    ),
    path("projects/<int:pk>/expenses", api.ExpenseListView.as_view(), name="api-project-expenses"),
    path(
        "projects/<int:pk>/expenses/<int:expense_id>/review",
        api.ExpenseReviewView.as_view(),
        name="api-project-expense-review",
    ),
    path("projects/<int:pk>/visits", api.VisitView.as_view(), name="api-project-visits"),
    path(
        "projects/<int:pk>/photos/<str:file_id>/visibility",
        api.PhotoVisibilityView.as_view(),
        name="api-project-photo-visibility",
    ),
    path("projects/<int:pk>/reports", api.ReportView.as_view(), name="api-project-reports"),
    path("projects/<int:pk>/indicators", api.IndicatorView.as_view(), name="api-project-indicators"),
    path("projects/<int:pk>/evaluations", api.EvaluationView.as_view(), name="api-project-evaluations"),
]
