from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.metadata import BaseMetadata

if TYPE_CHECKING:  # DRF imports this module while rest_framework.views is still loading
    from rest_framework.request import Request
    from rest_framework.views import APIView


class ApiMetadata(BaseMetadata):
    """What an OPTIONS request answers: the view's name, description and formats.

    DRF's default also describes each write action's serializer, which needs a ``serializer_class`` on every view
    (views here pick their input serializer per method) and duplicates the OpenAPI schema at /api/v1/schema, the
    one description of every operation.
    """

    def determine_metadata(self, request: Request, view: APIView) -> dict[str, Any]:
        return {
            "name": view.get_view_name(),
            "description": view.get_view_description(),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
            "schema": "/api/v1/schema",
        }
