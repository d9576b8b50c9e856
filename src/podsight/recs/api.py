"""REST endpoints of recommendations.

``GET /api/users/{user_id}/recommendations`` reads the user's precomputed list
(:func:`podsight.recs.serving.recommendations_for`): a token tied to that user reads its
own, a token with the ``staff`` scope reads anyone's, the rule of ``/history``.
``GET /api/episodes/{id}/also-played`` asks the serving version which episodes the
listeners of one also played. ``GET /api/recs/models`` lists every version with its
parameters, data version, offline (validation) and online (play-through) metrics.

For the dashboard: ``GET /api/recs/users`` lists the listeners (staff) with their play
counts; ``POST /api/recs/try`` answers what a new listener who finished a few chosen
episodes would get (any signed-in caller: it reads nobody's data);
``POST /api/recs/models/{version}/promote`` and ``POST /api/recs/rollback`` (staff) run the
``recs.promote`` and ``recs.rollback`` steps.

Before any model is trained the first two answer 409 ``no_model`` saying to run
``podsight recs train`` (the server works; its state is what is missing).
"""

from __future__ import annotations

import re

import orjson
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from podsight.accounts.auth import ApiTokenAuthentication, HasScope, require_own_or_staff
from podsight.accounts.models import SCOPE_STAFF
from podsight.api.pagination import INT64, InvalidCursor, sign_cursor, unsign_cursor
from podsight.api.params import NO_NUL, choice_param, int_param, text_param
from podsight.api.schema import error_response
from podsight.pipeline.steps import STEPS

__all__ = [
    "AlsoPlayedView",
    "ListenersView",
    "ModelsView",
    "PromoteView",
    "RecommendationsView",
    "RollbackView",
    "TryView",
]

LANGUAGE = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$"
NO_MODEL = error_response(
    "`no_model`: no recommendation model is trained and serving yet; run `podsight recs train`."
)


class ItemSerializer(serializers.Serializer):
    episode = serializers.CharField(help_text="Canonical episode id (as text).")
    title = serializers.CharField(allow_blank=True)
    show = serializers.CharField(allow_null=True, help_text="Canonical channel id (as text).")
    show_title = serializers.CharField(allow_blank=True)
    language = serializers.CharField(allow_blank=True, help_text="Primary subtag, e.g. `en`.")
    score = serializers.FloatField(help_text="Blended; comparable within one list only.")
    sources = serializers.ListField(
        child=serializers.CharField(),
        help_text="The candidate models that proposed it, strongest first.",
    )
    reason = serializers.CharField(help_text='Why, for people: "because you finished …".')


class RecommendationsSerializer(serializers.Serializer):
    user_id = serializers.CharField()
    model_version = serializers.CharField(help_text="The model version that computed the list.")
    kind = serializers.ChoiceField(choices=["episodes", "shows"])
    language = serializers.CharField(allow_null=True)
    cached = serializers.BooleanField(help_text="false: computed for this request.")
    computed_at = serializers.DateTimeField()
    results = serializers.ListField(
        child=serializers.DictField(),
        help_text="Best first. `kind=episodes`: `episode`, `title`, `show`, `show_title`, "
        "`language`, `score`, `sources`, `reason`; `kind=shows`: `show`, `show_title`, "
        "`language`, `score`, `sources`, `reason` (its best episode's) and `episodes` "
        "(`episode`, `title`), the show's recommended episodes.",
    )


class AlsoPlayedSerializer(serializers.Serializer):
    episode = serializers.IntegerField()
    model_version = serializers.CharField()
    in_model = serializers.BooleanField(
        help_text="false: the episode had no listening when the model was trained."
    )
    results = ItemSerializer(many=True)


class RecommendationsView(APIView):
    authentication_classes = [ApiTokenAuthentication]

    @extend_schema(
        operation_id="user_recommendations",
        summary="Recommended episodes (or shows) for a user, with reasons",
        description=(
            "The user's precomputed list from the model version serving them (an A/B test "
            "serves a share of users a challenger), read from the cache; a user with no "
            "cached list (never seen) gets one computed now (cold start: popular in their "
            "languages, what their subscriptions imply). A token tied to the user reads its "
            "own; the `staff` scope reads anyone's. Each item says which candidate models "
            "proposed it (`sources`) and why (`reason`). Every list served is logged as an "
            "impression of its model version."
        ),
        parameters=[
            OpenApiParameter(
                "n",
                {"type": "integer", "minimum": 1, "maximum": 100},
                description="How many, 1–100 (default 20).",
            ),
            OpenApiParameter(
                "kind",
                str,
                enum=["episodes", "shows"],
                description="`episodes` (default) or `shows`: episodes grouped by show.",
            ),
            OpenApiParameter(
                "language",
                {"type": "string", "pattern": LANGUAGE},
                description="Only episodes in this language (`en` matches `en-us`).",
            ),
        ],
        responses={200: RecommendationsSerializer, 409: NO_MODEL},
    )
    def get(self, request, user_id: str):
        require_own_or_staff(request, user_id, "recommendations")
        params = request.query_params
        n = int_param(params, "n", 20, 1, 100)
        kind = choice_param(params, "kind", ("episodes", "shows")) or "episodes"
        language = text_param(params, "language")
        if language is not None:
            if not re.fullmatch(LANGUAGE, language):
                raise exceptions.ValidationError(
                    {"language": ["a language tag such as `en` or `pt-BR`"]}
                )
        from podsight.recs.serving import recommendations_for

        found = recommendations_for(user_id, n=n, kind=kind, language=language)
        # orjson, not DRF's renderer: the hot path of a cached read (docs/recs.md "Measured").
        return HttpResponse(orjson.dumps(found.as_dict()), content_type="application/json")


class AlsoPlayedView(APIView):
    @extend_schema(
        operation_id="episode_also_played",
        summary='"Listeners also played": episodes played by those who played this one',
        parameters=[
            OpenApiParameter(
                "n",
                {"type": "integer", "minimum": 1, "maximum": 100},
                description="How many, 1–100 (default 10).",
            )
        ],
        responses={200: AlsoPlayedSerializer, 409: NO_MODEL},
    )
    def get(self, request, pk: int):
        from podsight.catalog.services import resolve_episode
        from podsight.recs.serving import NotInModel, active, also_played

        n = int_param(request.query_params, "n", 10, 1, 100)
        episode = resolve_episode(pk) if pk <= INT64 else None
        if episode is None:
            raise exceptions.NotFound(f"No episode with id {pk}.")
        try:
            version, results = also_played(episode.pk, n)
            in_model = True
        except NotInModel:
            version, results, in_model = active().serving, [], False
        return Response(
            {"episode": episode.pk, "model_version": version, "in_model": in_model,
             "results": results}
        )  # fmt: skip


class ModelsView(APIView):
    @extend_schema(
        operation_id="recs_models",
        summary="Recommendation model versions with their offline and online metrics",
        description=(
            "Every trained version, newest first: status (`serving`, `challenger` with its "
            "`share` of users, `candidate`, `retired`, `rejected` with a `note` saying "
            "why), parameters and blend weights, the Delta version of `engagement_daily` "
            "it was trained on, offline metrics on its validation split, and online, over "
            "the last 7 days' impressions whose 24 h window has closed (recomputed at most "
            "once a minute): `impressions` served, `shown` (user, episode) pairs, `played` "
            "within 24 h and their `rate` (docs/recs.md)."
        ),
        responses={200: dict},
    )
    def get(self, request):
        listed = STEPS["recs.models"]()
        return Response(
            {
                "promote_tolerance": listed.tolerance,
                "results": [m.as_dict() for m in listed.models],
            }
        )


# --------------------------------------------------------------------------- the dashboard's

MAX_LISTENER_PAGE = 200
DEFAULT_LISTENER_PAGE = 50
MAX_QUERY = 150  # a user id's width


class ListenerSerializer(serializers.Serializer):
    user_id = serializers.CharField(help_text="The listener id events carry (a username).")
    plays = serializers.IntegerField(help_text="`play` events over the whole lake.")
    episodes = serializers.IntegerField(help_text="Distinct episodes they engaged with.")
    last_active_at = serializers.DateTimeField(allow_null=True)


class ListenerPageSerializer(serializers.Serializer):
    results = ListenerSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)


def _listener_cursor(raw: str | None) -> tuple[int, str] | None:
    if raw is None:
        return None
    # Tagged ({"l": [plays, user]}): a bare pair would look like other lists' cursors.
    wrapped = unsign_cursor(raw)
    payload = wrapped.get("l") if isinstance(wrapped, dict) and set(wrapped) == {"l"} else None
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or isinstance(payload[0], bool)
        or not isinstance(payload[0], int)
        or not 0 <= payload[0] <= INT64
        or not isinstance(payload[1], str)
        or not 0 < len(payload[1]) <= MAX_QUERY
    ):
        raise InvalidCursor("not a cursor of the listeners list")
    return payload[0], payload[1]


class ListenersView(APIView):
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [HasScope.for_scope(SCOPE_STAFF)]

    @extend_schema(
        operation_id="recs_users",
        summary="Listeners with their play counts, most plays first (token with staff)",
        description=(
            "Every listener in the lake's `engagement_daily`, with their `play` events, "
            "distinct episodes and last activity; `q` keeps ids containing it "
            "(case-insensitive). The ids to read `/api/users/{id}/history` and "
            "`/recommendations` with."
        ),
        parameters=[
            OpenApiParameter(
                "q",
                {"type": "string", "minLength": 1, "maxLength": MAX_QUERY, "pattern": NO_NUL},
                description="A part of the listener id.",
            ),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": MAX_LISTENER_PAGE},
                description=f"1–{MAX_LISTENER_PAGE} (default {DEFAULT_LISTENER_PAGE}).",
            ),
            OpenApiParameter(
                "cursor", str, description="`next_cursor` of the previous page (signed)."
            ),
        ],
        responses={200: ListenerPageSerializer},
    )
    def get(self, request):
        from podsight.recs.queries import listeners

        params = request.query_params
        q = text_param(params, "q")
        if q is not None and len(q) > MAX_QUERY:
            raise exceptions.ValidationError({"q": [f"at most {MAX_QUERY} characters"]})
        size = int_param(params, "page_size", DEFAULT_LISTENER_PAGE, 1, MAX_LISTENER_PAGE)
        after = _listener_cursor(params.get("cursor"))  # an empty one too: invalid_cursor
        page = listeners(q=q, size=size, after=after)
        next_cursor = sign_cursor({"l": list(page.after)}) if page.after else None
        return Response({"results": page.results, "next_cursor": next_cursor})


class TryBody(serializers.Serializer):
    episodes = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=INT64),
        min_length=0,
        max_length=20,
        help_text="Episode ids the made-up listener finished (0–20; none: a listener "
        "with no history at all).",
    )
    n = serializers.IntegerField(
        min_value=1, max_value=100, default=10, help_text="How many to recommend."
    )


class HistoryItemSerializer(serializers.Serializer):
    episode = serializers.CharField()
    title = serializers.CharField(allow_blank=True)
    show = serializers.CharField(allow_null=True)
    show_title = serializers.CharField(allow_blank=True)
    language = serializers.CharField(allow_blank=True)


class TrySerializer(serializers.Serializer):
    model_version = serializers.CharField(help_text="The serving version that answered.")
    history = HistoryItemSerializer(
        many=True, help_text="The episodes taken as finished, as the model knows them."
    )
    not_in_model = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Chosen episodes the model was not trained with (published since): left out.",
    )
    results = ItemSerializer(many=True)


class TryView(APIView):
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [HasScope]  # any token: no scope required

    @extend_schema(
        operation_id="recs_try",
        summary="Cold start, tried: what a new listener who finished these episodes gets",
        description=(
            "The serving version's own recommendation path for a listener it has never "
            "seen whose history is the chosen episodes, each finished once: blended, "
            "filtered, capped per show, each item with its `sources` and `reason`. Nothing "
            "is cached or logged as an impression. Any token (it reads nobody's data). "
            "Ids merged into another count as the survivor; an id of no episode is a 404."
        ),
        request=TryBody,
        responses={
            200: TrySerializer,
            404: error_response("No episode with one of these ids"),
            409: NO_MODEL,
        },
    )
    def post(self, request):
        from podsight.recs.serving import try_history

        body = TryBody(data=request.data)
        body.is_valid(raise_exception=True)
        answer = try_history(body.validated_data["episodes"], body.validated_data["n"])
        return Response(answer)


class LifecycleSerializer(serializers.Serializer):
    action = serializers.CharField(help_text="`promote` or `rollback`.")
    version = serializers.CharField(help_text="The version serving now.")
    status = serializers.CharField()
    previous = serializers.CharField(
        allow_null=True, help_text="The version that served before (rolled back: the one "
        "taken off)."
    )  # fmt: skip
    note = serializers.CharField(allow_blank=True)
    cached = serializers.IntegerField(help_text="Listeners whose lists were recomputed.")


class PromoteBody(serializers.Serializer):
    force = serializers.BooleanField(
        default=False, help_text="Promote even when the promotion gate refuses."
    )


def _lifecycle(report) -> dict:
    return {
        "action": report.action,
        "version": report.version,
        "status": report.status,
        "previous": report.previous,
        "note": report.note,
        "cached": report.cached,
    }


VERSION = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class PromoteView(APIView):
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [HasScope.for_scope(SCOPE_STAFF)]

    @extend_schema(
        operation_id="recs_promote",
        summary="Make a trained model version the serving one (token with staff)",
        description=(
            "Step `recs.promote`: through the promotion gate (validation NDCG@10 not lower "
            "than the serving version's by more than PODSIGHT_RECS_PROMOTE_TOLERANCE) "
            "unless `force`; ends any A/B test, then recomputes every known listener's "
            "list with it (seconds on a large audience)."
        ),
        request=PromoteBody,
        responses={
            200: LifecycleSerializer,
            404: error_response("No such version"),
            409: error_response("`gate_refused`: below the serving version's NDCG@10"),
            503: error_response("`unavailable`: another promotion is running"),
        },
    )
    def post(self, request, version: str):
        if not re.fullmatch(VERSION, version):
            raise exceptions.NotFound(f"No model version {version[:80]!r}.")
        body = PromoteBody(data=request.data or {})
        body.is_valid(raise_exception=True)
        report = STEPS["recs.promote"](version, force=body.validated_data["force"])
        return Response(_lifecycle(report))


class RollbackView(APIView):
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [HasScope.for_scope(SCOPE_STAFF)]

    @extend_schema(
        operation_id="recs_rollback",
        summary="Bring back the version that served before (token with staff)",
        description=(
            "Step `recs.rollback`: the version promoted before the serving one serves "
            "again (its lists recomputed); the rolled-back one becomes a candidate."
        ),
        request=None,
        responses={
            200: LifecycleSerializer,
            409: error_response("`no_previous`: no version served before; or `no_model`"),
            503: error_response("`unavailable`: another promotion is running"),
        },
    )
    def post(self, request):
        return Response(_lifecycle(STEPS["recs.rollback"]()))
