"""REST endpoints of recommendations.

``GET /api/users/{user_id}/recommendations`` reads the user's precomputed list
(:func:`podsight.recs.serving.recommendations_for`): a token tied to that user reads its
own, a token with the ``staff`` scope reads anyone's, the rule of ``/history``.
``GET /api/episodes/{id}/also-played`` asks the serving version which episodes the
listeners of one also played. ``GET /api/recs/models`` lists every version with its
parameters, data version, offline (validation) and online (play-through) metrics.

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

from podsight.accounts.auth import ApiTokenAuthentication, require_own_or_staff
from podsight.api.pagination import INT64
from podsight.api.params import choice_param, int_param, text_param
from podsight.api.schema import error_response
from podsight.pipeline.steps import STEPS

__all__ = [
    "AlsoPlayedView",
    "ModelsView",
    "RecommendationsView",
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
