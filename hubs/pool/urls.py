from django.urls import URLPattern, URLResolver, path

from hubs.pool import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.pool_list, name="pool-list"),
    path("<int:pk>/", views.dashboard, name="pool-dashboard"),
    path("<int:pk>/join/", views.join, name="pool-join"),
    path("<int:pk>/rules/", views.rules, name="pool-rules"),
    path("<int:pk>/seats/", views.seat, name="pool-seat"),
    path("<int:pk>/members/", views.members, name="pool-members"),
    path("<int:pk>/members/<int:mid>/<str:action>/", views.member_action, name="pool-member-action"),
    path(
        "<int:pk>/members/<int:mid>/statement.xlsx",
        views.member_statement,
        {"file_format": "xlsx"},
        name="pool-member-xlsx",
    ),
    path(
        "<int:pk>/members/<int:mid>/statement.pdf",
        views.member_statement,
        {"file_format": "pdf"},
        name="pool-member-pdf",
    ),
    path("<int:pk>/statement.xlsx", views.pool_statement, {"file_format": "xlsx"}, name="pool-statement-xlsx"),
    path("<int:pk>/statement.pdf", views.pool_statement, {"file_format": "pdf"}, name="pool-statement-pdf"),
    path("<int:pk>/annual/<int:year>/", views.annual, name="pool-annual"),
    path("<int:pk>/loans/apply/", views.loan_apply, name="pool-loan-apply"),
    path("<int:pk>/loans/<int:lid>/", views.loan_detail, name="pool-loan"),
    path("<int:pk>/loans/<int:lid>/<str:action>/", views.loan_action, name="pool-loan-action"),
]
