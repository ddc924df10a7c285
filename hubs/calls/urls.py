from django.urls import URLPattern, URLResolver, path

from hubs.calls import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.call_list, name="calls-list"),
    path("new/", views.call_new, name="calls-new"),
    path("open/", views.public_list, name="calls-public"),
    path("reviews/", views.review_queue, name="calls-reviews"),
    path("reviews/<int:pk>/", views.review_detail, name="calls-review"),
    path("applications/<int:pk>/", views.application_edit, name="calls-application"),
    path("applications/<int:pk>/save/", views.application_autosave, name="calls-application-save"),
    path("applications/<int:pk>/submit/", views.application_submit, name="calls-application-submit"),
    path("applications/<int:pk>/withdraw/", views.application_withdraw, name="calls-application-withdraw"),
    path("applications/<int:pk>/upload/<slug:key>/", views.application_upload, name="calls-application-upload"),
    path(
        "applications/<int:pk>/requests/<int:request_id>/answer/",
        views.application_answer,
        name="calls-application-answer",
    ),
    path("applications/<int:pk>/staff/", views.application_staff, name="calls-application-staff"),
    path("<int:pk>/", views.call_detail, name="calls-detail"),
    path("<int:pk>/public/", views.public_detail, name="calls-public-detail"),
    path("<int:pk>/apply/", views.apply, name="calls-apply"),
    path("<int:pk>/transition/", views.call_transition, name="calls-transition"),
    path("<int:pk>/auto-assign/", views.call_auto_assign, name="calls-auto-assign"),
    path("<int:pk>/ranking/", views.call_ranking, name="calls-ranking"),
    path("<int:pk>/export.xlsx", views.call_export, name="calls-export"),
    path("<int:pk>/results.pdf", views.call_results_pdf, name="calls-results-pdf"),
]
