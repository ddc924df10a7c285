from django.urls import URLPattern, URLResolver, path

from huoban.storage import views

app_name = "storage"

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "organisations/<int:organisation_id>/documents/",
        views.organisation_documents_view,
        name="organisation_documents",
    ),
    path(
        "organisations/<int:organisation_id>/documents/<int:document_id>/download/",
        views.organisation_document_download_view,
        name="organisation_document_download",
    ),
    path(
        "organisations/<int:organisation_id>/documents/<int:document_id>/review/",
        views.organisation_document_review_view,
        name="organisation_document_review",
    ),
    # A filesystem link (services.file_link); S3 links go to the bucket instead.
    path("<str:token>/", views.download_view, name="download"),
]
