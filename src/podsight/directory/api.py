"""``/api/directory``: search the imported Podcast Index dump; add a feed to the catalog.

Searching is open like the catalog; adding needs an API token with the ``staff`` scope
(``podsight tokens create NAME --scope staff``). Both call the pipeline steps the CLI
calls (``directory.search``, ``directory.add``).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from podsight.accounts.auth import ApiTokenAuthentication, HasScope
from podsight.accounts.models import SCOPE_STAFF
from podsight.api.pagination import InvalidCursor as ApiInvalidCursor
from podsight.api.params import int_param, query_schema, text_param
from podsight.api.schema import error_response
from podsight.directory.service import (
    DEFAULT_PAGE_SIZE,
    LANGUAGE_TAG,
    MAX_PAGE_SIZE,
    MAX_QUERY_LENGTH,
    DirectoryUnavailable,
    FeedNotFound,
    InvalidCursor,
    InvalidSearch,
)
from podsight.pipeline.steps import STEPS
from podsight.sources.sync import SourcesFileError

__all__ = ["DirectoryAddView", "DirectorySearchView"]


class _Unavailable(exceptions.APIException):
    status_code = 503
    default_code = "directory_unavailable"


class _SourcesFileInvalid(exceptions.APIException):
    status_code = 503
    default_code = "sources_file_invalid"


class DirectoryFeedSerializer(serializers.Serializer):
    podcastindex_id = serializers.IntegerField()
    title = serializers.CharField()
    author = serializers.CharField()
    url = serializers.CharField(help_text="The feed URL")
    language = serializers.CharField(allow_null=True)
    categories = serializers.ListField(child=serializers.CharField())
    episode_count = serializers.IntegerField(allow_null=True)
    popularity = serializers.IntegerField(allow_null=True, help_text="Podcast Index's 0–30")
    dead = serializers.BooleanField(allow_null=True)
    channel = serializers.IntegerField(
        allow_null=True, help_text="The canonical channel when the catalog holds the show"
    )
    score = serializers.FloatField(help_text="Relevance (higher first)")


class DirectoryPageSerializer(serializers.Serializer):
    results = DirectoryFeedSerializer(many=True)
    next = serializers.URLField(allow_null=True)
    page_size = serializers.IntegerField()


class DirectoryAddSerializer(serializers.Serializer):
    podcastindex_id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.CharField()
    channel = serializers.IntegerField(allow_null=True)
    record = serializers.IntegerField(help_text="The catalog's podcastindex source record")
    added_to_sources = serializers.BooleanField(help_text="False when already listed")
    feed = serializers.DictField(help_text="The RSS ingest: status, error, episodes")


def _unavailable(error: DirectoryUnavailable) -> _Unavailable:
    # The CLI's advice names commands: in the API it says the same to an operator.
    return _Unavailable(str(error))


class DirectorySearchView(APIView):
    """Search every feed of the imported Podcast Index dump."""

    @extend_schema(
        summary="Search the Podcast Index directory (the imported dump)",
        parameters=[
            OpenApiParameter(
                "q",
                query_schema(MAX_QUERY_LENGTH),
                required=True,
                description="Words of the title, author or description (all must match); "
                "one with no letters or digits finds nothing",
            ),
            OpenApiParameter(
                "language",
                {"type": "string", "pattern": f"^{LANGUAGE_TAG.pattern}$"},
                description="A language tag, e.g. `en` (matches en-us) or `pt-BR`",
            ),
            OpenApiParameter("category", str, description="A Podcast Index category name"),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
                description=f"Results per page, 1–{MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE})",
            ),
            OpenApiParameter(
                "cursor", str, description="Opaque cursor from a previous page's `next` link"
            ),
        ],
        responses={
            200: DirectoryPageSerializer,
            503: error_response("`directory_unavailable`: no dump imported yet"),
        },
    )
    def get(self, request):
        params = request.query_params
        # The API's one rule for parameters: absent is the default, empty or NUL is a 400.
        page_size = int_param(params, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        try:
            page = STEPS["directory.search"](
                text_param(params, "q"),
                language=text_param(params, "language"),
                category=text_param(params, "category"),
                page_size=page_size,
                # Any cursor given, empty included, is checked as a cursor (400 invalid_cursor).
                cursor=params.get("cursor"),
            )
        except InvalidCursor as error:
            raise ApiInvalidCursor(error.message) from None
        except InvalidSearch as error:
            raise exceptions.ValidationError({error.field: [error.message]}) from None
        except DirectoryUnavailable as error:
            raise _unavailable(error) from None
        next_link = None
        if page.next_cursor:
            next_link = replace_query_param(
                request.build_absolute_uri(), "cursor", page.next_cursor
            )
        return Response({"results": page.results, "next": next_link, "page_size": page.page_size})


class DirectoryAddView(APIView):
    """Add a directory feed to the sources file and the catalog (token with ``staff``)."""

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [HasScope.for_scope(SCOPE_STAFF)]

    @extend_schema(
        summary="Add a Podcast Index feed to the catalog and ingest it (token with staff)",
        request=None,
        responses={
            200: DirectoryAddSerializer,
            404: error_response("No such feed in the dump"),
            503: error_response(
                "`directory_unavailable`: no dump imported yet; or `sources_file_invalid`: "
                "the server's sources file cannot be read (an operator must fix it)"
            ),
        },
    )
    def post(self, request, podcastindex_id: int):
        try:
            result = STEPS["directory.add"](podcastindex_id)
        except FeedNotFound as error:
            raise exceptions.NotFound(str(error)) from None
        except DirectoryUnavailable as error:
            raise _unavailable(error) from None
        except SourcesFileError as error:
            raise _SourcesFileInvalid(str(error)) from None
        return Response(result.as_dict())
