"""REST endpoints of listening: ``POST /api/events``, ``GET /api/stats/live``,
``GET /api/users/{id}/history``, and the dashboard's statistics: ``GET /api/stats/overview``,
``/api/stats/engagement`` and ``/api/stats/completion``."""

from __future__ import annotations

import logging

import orjson
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from podsight.accounts.auth import (
    NO_CREDENTIALS,
    ApiTokenAuthentication,
    HasScope,
    require_own_or_staff,
)
from podsight.accounts.models import SCOPE_EVENTS_WRITE, SCOPE_STAFF, ApiToken
from podsight.api.body import BodyTooLarge, read_body
from podsight.api.errors import error_body
from podsight.api.params import int_param, text_param
from podsight.api.schema import error_response
from podsight.events import queries, stats
from podsight.events.log import LogUnavailable
from podsight.events.schema import MAX_BATCH
from podsight.events.services import ingest

__all__ = [
    "CompletionView",
    "EngagementView",
    "EventsView",
    "HistoryView",
    "LiveStatsView",
    "OverviewView",
]

log = logging.getLogger(__name__)

# A full batch of 5,000 events with long URLs stays far below this.
MAX_BODY_BYTES = 32 * 1024 * 1024


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class LogDown(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "log_unavailable"


class EventsView(APIView):
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [HasScope.for_scope(SCOPE_EVENTS_WRITE)]
    # The body is parsed here (orjson), not by DRF's parsers.
    parser_classes: list = []

    @extend_schema(
        operation_id="events_ingest",
        summary="Send a batch of listening events",
        description=(
            f'Body: `{{"events": [...]}}` (or a bare array) of at most {MAX_BATCH:,} events '
            "(an empty batch is accepted and stores nothing). "
            "Each is checked on its own: invalid items are listed in `errors` with their "
            "index, valid ones are stored. 202 once the batch is durably in the event log; "
            "an `event_id` already stored is listed in `duplicates` and not stored again. "
            "A field that does not apply to an event's type is ignored and listed in "
            "`warnings`. A token tied to a user writes only that user's events."
        ),
        request=inline_serializer(
            "EventBatch",
            {"events": serializers.ListField(child=serializers.DictField())},
        ),
        responses={
            202: inline_serializer(
                "EventBatchResult",
                {
                    "accepted": serializers.IntegerField(),
                    "duplicates": serializers.ListField(child=serializers.CharField()),
                    "rejected": serializers.IntegerField(),
                    "errors": serializers.ListField(child=serializers.DictField()),
                    "warnings": serializers.ListField(child=serializers.DictField()),
                },
            ),
            413: error_response(
                f"More than {MAX_BATCH:,} events (`batch_too_large`), or a body over "
                f"{MAX_BODY_BYTES >> 20} MB (`too_large`); nothing was stored."
            ),
            415: error_response("The body is not sent as `application/json`."),
        },
    )
    def post(self, request):
        media_type = request._request.content_type
        if media_type != "application/json" and not media_type.endswith("+json"):
            sent = f"not {media_type!r}" if media_type else "this request has none"
            raise exceptions.UnsupportedMediaType(
                media_type, f"Events are JSON: send `Content-Type: application/json` ({sent})."
            )
        try:
            body = read_body(request._request, MAX_BODY_BYTES)
        except BodyTooLarge as exc:
            raise PayloadTooLarge(str(exc)) from None
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return Response(
                error_body(400, "malformed_json", f"The body is not valid JSON: {exc}"),
                status=400,
            )
        items = data.get("events") if isinstance(data, dict) else data
        if not isinstance(items, list):
            return Response(
                error_body(
                    400,
                    "invalid",
                    'The body must be {"events": [...]} or a JSON array of events.',
                ),
                status=400,
            )
        if len(items) > MAX_BATCH:
            return Response(
                error_body(
                    413,
                    "batch_too_large",
                    f"A batch holds at most {MAX_BATCH:,} events; this one has {len(items):,}. "
                    "Nothing was stored: split it and send the parts.",
                ),
                status=413,
            )
        token: ApiToken = request.auth
        # A token tied to a user writes that user's events only (docs/events.md).
        user = token.user.get_username() if token.user is not None else None
        try:
            result = ingest(items, client=token.name, for_user=user)
        except LogUnavailable as exc:
            log.error("event log unavailable: %s", exc)
            raise LogDown(
                "The event log could not store the batch; nothing of it was stored. "
                "Retry later (event ids make retries safe)."
            ) from exc
        body = result.as_dict()
        if result.errors and not result.accepted and not result.duplicates:
            body = {
                **error_body(400, "invalid", "No event of the batch is valid."),
                **body,
            }
            return Response(body, status=400)
        return Response(body, status=202)


class LiveStatsView(APIView):
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [HasScope.for_scope(SCOPE_STAFF)]

    @extend_schema(
        operation_id="stats_live",
        summary="Listening in the last minutes",
        parameters=[
            OpenApiParameter(
                "window",
                {"type": "string", "pattern": r"^([0-9]+(\.[0-9]+)?[smhd]?)+$"},
                description="1m … 24h, e.g. 15m, 2h, 1h30m; default 15m",
                required=False,
            ),
            OpenApiParameter(
                "top",
                {"type": "integer", "minimum": 1, "maximum": 100},
                description="Top episodes listed (default 10)",
                required=False,
            ),
        ],
        responses={200: dict},
    )
    def get(self, request):
        window = queries.parse_window(text_param(request.query_params, "window") or "15m")
        top = int_param(request.query_params, "top", 10, 1, 100)
        return Response(queries.live_stats(window, top=top))


class HistoryView(APIView):
    authentication_classes = [ApiTokenAuthentication]

    @extend_schema(
        operation_id="user_history",
        summary="A user's listening history, newest first",
        parameters=[
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": 1000},
                required=False,
                description="default 100",
            ),
            OpenApiParameter(
                "before",
                {"type": "string", "format": "date-time"},
                required=False,
                description="Only events older than this time (UTC when without a zone).",
            ),
        ],
        responses={200: dict},
    )
    def get(self, request, user_id: str):
        require_own_or_staff(request, user_id, "history")
        limit = int_param(request.query_params, "limit", 100, 1, 1000)
        before = queries.parse_before(text_param(request.query_params, "before"))
        return Response(queries.history(user_id, limit=limit, before=before))


def _token(request) -> ApiToken:
    token = request.auth
    if not isinstance(token, ApiToken):
        raise exceptions.NotAuthenticated(NO_CREDENTIALS)
    return token


def _listener(request) -> str | None:
    """Whose listening a statistic covers: ``user`` if the caller may read it (their own,
    or anyone's for staff); without it, everyone's for staff and the caller's own for a
    token acting for a user."""
    token = _token(request)
    user = text_param(request.query_params, "user")
    if user is not None:
        require_own_or_staff(request, user, "listening statistics")
        return user
    if token.has_scope(SCOPE_STAFF):
        return None
    if token.user is None:
        raise exceptions.PermissionDenied(
            "Listening statistics are a user's own (a token acting for a user) or, for "
            "everyone's, need the staff scope."
        )
    return token.user.get_username()


_USER = OpenApiParameter(
    "user",
    {"type": "string", "pattern": r"^[^\x00]+$"},
    required=False,
    description="One listener's statistics. Default: everyone's for a staff token, the "
    "caller's own for a token acting for a user (another user's needs staff).",
)
_DAYS = OpenApiParameter(
    "days",
    {"type": "integer", "minimum": 1, "maximum": stats.MAX_DAYS},
    required=False,
    description="The last N UTC days, today included (default 30).",
)


class OverviewView(APIView):
    authentication_classes = [ApiTokenAuthentication]

    @extend_schema(
        operation_id="stats_overview",
        summary="The catalog, sources, matching, serving model and listening at a glance",
        description=(
            "Any token: `catalog` (canonical channels and episodes), `sources` (per source: "
            "channel and episode records not vanished, and how many of them are linked to a "
            "record of another source), `model` (the serving version and its offline "
            "NDCG@10; null before training). A staff token also gets `review` (links "
            "needing review), `sync` (per source: last sync, status, last error), "
            "`youtube_quota` (units used in the current quota day) and `listening` (events "
            "and active users in the last hour, per minute); for others these are null."
        ),
        responses={200: dict},
    )
    def get(self, request):
        token = _token(request)
        return Response(stats.overview(staff=token.has_scope(SCOPE_STAFF)))


class EngagementView(APIView):
    authentication_classes = [ApiTokenAuthentication]

    @extend_schema(
        operation_id="stats_engagement",
        summary="Listening per day: listeners, plays, hours, finished, likes, skips",
        description=(
            "One entry per UTC day of the span, quiet days as zeros, from the lake's "
            "`engagement_daily`. `finished`: (listener, episode) pairs that reached 90 %."
        ),
        parameters=[_DAYS, _USER],
        responses={200: dict},
    )
    def get(self, request):
        user = _listener(request)
        days = int_param(request.query_params, "days", 30, 1, stats.MAX_DAYS)
        return Response(stats.engagement(days, user=user))


class CompletionView(APIView):
    authentication_classes = [ApiTokenAuthentication]

    @extend_schema(
        operation_id="stats_completion",
        summary="Per show: how far listeners got and where they skipped",
        description=(
            "The shows with the most listeners over the span. `completion`: (listener, "
            "episode) pairs per tenth of the episode reached (the best position over the "
            "span); `skip_positions`: skip events per tenth of the episode where they "
            "happened (those whose episode length is known); `finished_share` and "
            "`skipped_share` of the pairs. `bins` labels the tenths."
        ),
        parameters=[
            _DAYS,
            _USER,
            OpenApiParameter(
                "shows",
                {"type": "integer", "minimum": 1, "maximum": 50},
                required=False,
                description="Shows listed (default 8).",
            ),
        ],
        responses={200: dict},
    )
    def get(self, request):
        user = _listener(request)
        days = int_param(request.query_params, "days", 30, 1, stats.MAX_DAYS)
        shows = int_param(request.query_params, "shows", 8, 1, 50)
        return Response(stats.completion(days, shows=shows, user=user))
