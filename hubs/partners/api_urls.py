from django.urls import URLPattern, URLResolver, path

from hubs.partners import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("partners", api.PartnerListView.as_view(), name="api-partners"),
    path("partners/public", api.PublicPartnerListView.as_view(), name="api-partners-public"),
    path("partners/stats", api.PartnerStatsView.as_view(), name="api-partners-stats"),
    path("partners/mine", api.MyPartnershipsView.as_view(), name="api-partners-mine"),
    path("partners/mine/<int:pk>/leave", api.MyPartnershipLeaveView.as_view(), name="api-partners-leave"),
    path("partners/invitations", api.PartnerInvitationListView.as_view(), name="api-partners-invitations"),
    path("partners/invitations/<int:pk>", api.PartnerInvitationDetailView.as_view(), name="api-partners-invitation"),
    path("partners/join/<str:token>", api.PartnerJoinView.as_view(), name="api-partners-join"),
    path("partners/imports", api.ImportListView.as_view(), name="api-partners-imports"),
    path("partners/imports/<int:pk>", api.ImportDetailView.as_view(), name="api-partners-import"),
    path("partners/imports/<int:pk>/confirm", api.ImportConfirmView.as_view(), name="api-partners-import-confirm"),
    path("partners/import-template.xlsx", api.ImportTemplateXlsxView.as_view(), name="api-partners-template-xlsx"),
    path("partners/import-template.csv", api.ImportTemplateCsvView.as_view(), name="api-partners-template-csv"),
    path("partners/export.xlsx", api.ExportXlsxView.as_view(), name="api-partners-export-xlsx"),
    path("partners/export.csv", api.ExportCsvView.as_view(), name="api-partners-export-csv"),
    path("partners/<int:pk>", api.PartnerDetailView.as_view(), name="api-partner"),
    path("partners/<int:pk>/transition", api.PartnerTransitionView.as_view(), name="api-partner-transition"),
    path("partners/<int:pk>/contacts", api.PartnerContactListView.as_view(), name="api-partner-contacts"),
    path(
        "partners/<int:pk>/contacts/<int:contact_id>",
        api.PartnerContactDetailView.as_view(),
        name="api-partner-contact",
    ),
    path("partners/<int:pk>/notes", api.PartnerNoteListView.as_view(), name="api-partner-notes"),
    path("partners/<int:pk>/documents", api.PartnerDocumentListView.as_view(), name="api-partner-documents"),
    path(
        "partners/<int:pk>/documents/<int:document_id>/review",
        api.PartnerDocumentReviewView.as_view(),
        name="api-partner-document-review",
    ),
]
