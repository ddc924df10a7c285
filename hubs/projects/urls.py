from django.urls import URLPattern, URLResolver, path

from hubs.projects import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.project_list, name="projects-list"),
    path("new/", views.project_new, name="projects-new"),
    path("public/", views.public_list, name="projects-public"),
    path("public/export.csv", views.public_export, {"file_format": "csv"}, name="projects-export-csv"),
    path("public/export.xlsx", views.public_export, {"file_format": "xlsx"}, name="projects-export-xlsx"),
    path("public/<int:pk>/", views.public_detail, name="projects-public-detail"),
    path("public/<int:pk>/report.pdf", views.public_pdf, name="projects-public-pdf"),
    path("public/<int:pk>/survey/", views.survey, name="projects-survey"),
    path("<int:pk>/", views.project_detail, name="projects-detail"),
    path("<int:pk>/transition/", views.project_transition, name="projects-transition"),
    path("<int:pk>/budget/", views.budget_line_add, name="projects-budget"),
    path("<int:pk>/funding/", views.funding_add, name="projects-funding"),
    path("<int:pk>/receipts/", views.funds_receive, name="projects-receipts"),
    path("<int:pk>/milestones/", views.milestone_add, name="projects-milestones"),
    path("<int:pk>/ambassadors/", views.ambassador_assign, name="projects-ambassadors"),
    path("<int:pk>/tranches/", views.tranche_request, name="projects-tranches"),
    path("<int:pk>/tranches/<int:tranche_id>/review/", views.tranche_review, name="projects-tranche-review"),
    path("<int:pk>/expenses/", views.expense_report, name="projects-expenses"),
    path("<int:pk>/expenses/<int:expense_id>/review/", views.expense_review, name="projects-expense-review"),
    path("<int:pk>/visits/", views.visit_add, name="projects-visits"),
    path("<int:pk>/reports/", views.report_add, name="projects-reports"),
    path("<int:pk>/indicators/", views.indicator_add, name="projects-indicators"),
    path("<int:pk>/evaluations/", views.evaluation_add, name="projects-evaluations"),
    path("<int:pk>/files/<str:file_id>/", views.file_open, name="projects-file"),
]
