from django.urls import URLPattern, URLResolver, path

from hubs.partners import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.directory, name="partners-directory"),
    path("public/", views.public_list, name="partners-public"),
    path("apply/", views.apply, name="partners-apply"),
    path("mine/<int:pk>/leave/", views.leave, name="partners-leave"),
    path("join/<str:token>/", views.join, name="partners-join"),
    path("stats/", views.stats, name="partners-stats"),
    path("invite/", views.invite, name="partners-invite"),
    path("invitations/<int:pk>/revoke/", views.invitation_revoke, name="partners-invitation-revoke"),
    path("add/", views.add, name="partners-add"),
    path("export.xlsx", views.export, {"file_format": "xlsx"}, name="partners-export-xlsx"),
    path("export.csv", views.export, {"file_format": "csv"}, name="partners-export-csv"),
    path("import/", views.import_upload, name="partners-import"),
    path("import/template.xlsx", views.import_template, {"file_format": "xlsx"}, name="partners-template-xlsx"),
    path("import/template.csv", views.import_template, {"file_format": "csv"}, name="partners-template-csv"),
    path("import/<int:pk>/", views.import_job, name="partners-import-job"),
    path("import/<int:pk>/progress/", views.import_progress, name="partners-import-progress"),
    path("import/<int:pk>/confirm/", views.import_confirm, name="partners-import-confirm"),
    path("<int:pk>/", views.partner_detail, name="partners-detail"),
    path("<int:pk>/transition/", views.partner_transition, name="partners-transition"),
    path("<int:pk>/edit/", views.partner_edit, name="partners-edit"),
    path("<int:pk>/contacts/", views.contact_add, name="partners-contact-add"),
    path("<int:pk>/contacts/<int:contact_id>/delete/", views.contact_remove, name="partners-contact-remove"),
    path("<int:pk>/notes/", views.note_add, name="partners-note-add"),
    path("<int:pk>/documents/<int:document_id>/review/", views.document_review, name="partners-document-review"),
    path("<int:pk>/documents/<int:document_id>/download/", views.document_download, name="partners-document-download"),
]
