from django.urls import URLPattern, URLResolver, path

from huoban.storage import api

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "organisations/<int:organisation_id>/documents",
        api.OrganisationDocumentsView.as_view(),
        name="api-organisation-documents",
    ),
    path(
        "organisations/<int:organisation_id>/documents/<int:document_id>/review",
        api.OrganisationDocumentReviewView.as_view(),
        name="api-organisation-document-review",
    ),
    path("files/<uuid:file_id>/link", api.FileLinkView.as_view(), name="api-file-link"),
]
