"""REST API of episode content: search, and an episode's transcript (segments, or the
document).

``GET /api/search`` (:class:`SearchView`) finds episodes by what is said in them: it reads
its parameters by the API's one rule (absent: the default; given: valid, else a 400 naming
it) and calls the ``search`` step the CLI calls.

``GET /api/episodes/{id}/transcript`` pages through the current transcript's segments
(``page_size`` 1–500, default 50, signed ``cursor`` from ``next``, as every list of this
API); ``?format=vtt|srt|txt`` answers the whole transcript as that document instead.
:class:`TranscriptStateSerializer` is the ``transcript`` field of ``GET /api/episodes/{id}``.
"""

from __future__ import annotations

import re

from django import forms
from django.http import HttpResponse
from django_filters.fields import IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, generics, serializers
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from podsight.api.pagination import INT64, InvalidCursor, sign_cursor, unsign_cursor, valid_id
from podsight.api.params import choice_param, int_param, query_schema, text_param
from podsight.api.schema import error_response
from podsight.catalog.models import Episode
from podsight.catalog.services import resolve_episode
from podsight.content.formats import TranscriptFormatError, to_srt, to_txt, to_vtt
from podsight.content.models import EpisodeTranscript, TranscriptStatus
from podsight.content.search import (
    DEFAULT_LIMIT,
    LANGUAGE_TAG,
    MAX_LIMIT,
    MAX_QUERY_LENGTH,
    InvalidSearch,
)
from podsight.content.segments import Transcript
from podsight.content.transcripts import read_segments, segment_at, version_facts
from podsight.pipeline.steps import STEPS

__all__ = [
    "AnalysisStateSerializer",
    "ChapterSerializer",
    "EXPORTS",
    "EpisodeAnalysisView",
    "EpisodeContentFields",
    "EpisodeContentSerializer",
    "EpisodeSimilarView",
    "EpisodeTranscriptView",
    "KeywordSerializer",
    "NoTimes",
    "SearchView",
    "SimilarEpisodesSerializer",
    "SponsorSerializer",
    "TopicSerializer",
    "TranscriptPageSerializer",
    "TranscriptStateSerializer",
    "episode_analysis",
    "transcript_state",
]

PAGE_SIZE, MAX_PAGE_SIZE = 50, 500
MAX_AT = 10**7  # seconds (~116 days): beyond any recording
# ?format= → (writer, Content-Type).
EXPORTS = {
    "vtt": (to_vtt, "text/vtt"),
    "srt": (to_srt, "application/x-subrip"),
    "txt": (to_txt, "text/plain"),
}
_FORMATS = ("json", *EXPORTS)


class TranscriptStateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=TranscriptStatus.choices,
        help_text="`ok`: stored (`version` is current); `pending`: links not fetched yet; "
        "`none`: no link (and no speech recognition); `error`: see `error`; "
        "`no_speech_model`: no speech model for the episode's language.",
    )
    source = serializers.CharField(help_text="`rss` (the feed's link) or `asr`; empty before any.")
    language = serializers.CharField()
    format = serializers.CharField(help_text="vtt, srt, json, html, markdown, text or asr.")
    version = serializers.IntegerField(help_text="Current version; 0 when none is stored.")
    segments = serializers.IntegerField()
    duration_s = serializers.FloatField(allow_null=True)
    error = serializers.CharField(help_text="Why the last attempt failed; empty when it did not.")
    checked_at = serializers.DateTimeField(allow_null=True)


def transcript_state(episode: Episode) -> dict:
    """The ``transcript`` field of an episode (its state row, or what no row means)."""
    try:
        state = episode.transcript_state
    except EpisodeTranscript.DoesNotExist:
        status = TranscriptStatus.PENDING if episode.transcripts else TranscriptStatus.NONE
        return {
            "status": status, "source": "", "language": "", "format": "", "version": 0,
            "segments": 0, "duration_s": None, "error": "", "checked_at": None,
        }  # fmt: skip
    return {
        "status": state.status,
        "source": state.source,
        "language": state.language,
        "format": state.format,
        "version": state.version,
        "segments": state.segments,
        "duration_s": state.duration_s,
        "error": state.error,
        "checked_at": state.checked_at,
    }


class SegmentSerializer(serializers.Serializer):
    start_s = serializers.FloatField(allow_null=True, help_text="Seconds; null when not given.")
    end_s = serializers.FloatField(allow_null=True)
    speaker = serializers.CharField(help_text="Empty when unknown.")
    text = serializers.CharField()


class TranscriptPageSerializer(serializers.Serializer):
    episode = serializers.IntegerField()
    version = serializers.IntegerField()
    source = serializers.CharField()
    format = serializers.CharField(help_text="The document's format (vtt, json, srt, html…).")
    language = serializers.CharField()
    segments = serializers.IntegerField(help_text="Segments in the whole transcript.")
    offset = serializers.IntegerField(
        help_text="Segments of the transcript before this page's first (0 on the first page)."
    )
    results = SegmentSerializer(many=True)
    next = serializers.URLField(allow_null=True)
    page_size = serializers.IntegerField()


class NoTimes(exceptions.APIException):
    """409: VTT or SRT asked of a transcript without times (read from plain text)."""

    status_code = 409
    default_code = "no_times"


def _decode(token: str) -> tuple[int, int, int]:
    """(episode, version, first segment) of a cursor this view handed out."""
    payload = unsign_cursor(token)
    if not isinstance(payload, dict) or set(payload) != {"e", "v", "s"}:
        raise InvalidCursor("not a cursor of a transcript")
    episode, version, start = payload["e"], payload["v"], payload["s"]
    if not (valid_id(episode) and valid_id(version) and valid_id(start)):
        raise InvalidCursor("the episode, version or segment is not a positive whole number")
    return episode, version, start


class EpisodeTranscriptView(generics.GenericAPIView):
    """The episode's current transcript: its segments (start and end in seconds, speaker,
    text), a page at a time; or, with `format=vtt|srt|txt`, the whole transcript as that
    document. `at=SECONDS` starts the first page at the segment being spoken then (a
    search result's moment). 404 when the episode has no stored transcript (the message
    says why)."""

    serializer_class = TranscriptPageSerializer
    pagination_class = None

    def perform_content_negotiation(self, request, force=False):
        # `format` is this endpoint's own parameter (the export), not DRF's renderer switch.
        renderer = self.get_renderers()[0]
        return renderer, renderer.media_type

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format",
                str,
                enum=list(_FORMATS),
                description="`json` (default): segments, paginated; `vtt`, `srt`, `txt`: the "
                "whole transcript as that document (vtt and srt need times: a transcript "
                "without any, read from plain text, is a 409 `no_times`).",
            ),
            OpenApiParameter(
                "version",
                {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                description="An earlier version of the transcript (default: the current "
                "one); one that does not exist is a 404.",
            ),
            OpenApiParameter(
                "cursor",
                str,
                description="Opaque cursor from a previous page's `next` link (signed: "
                "anything else is a 400 `invalid_cursor`).",
            ),
            OpenApiParameter(
                "at",
                {"type": "integer", "minimum": 0, "maximum": MAX_AT},
                description="Whole seconds into the episode: the page starts at the segment "
                "being spoken then (the last one starting at or before it; the first "
                "segment when the transcript has no times). For a first page only: with "
                "`cursor` it is a 400, and `next` links leave it out.",
            ),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
                description=f"Segments per page, 1–{MAX_PAGE_SIZE} (default {PAGE_SIZE}); "
                "more is a 400, not clamped.",
            ),
        ],
        responses={
            (200, "application/json"): TranscriptPageSerializer,
            (200, "text/vtt"): OpenApiResponse(OpenApiTypes.STR, description="WebVTT"),
            (200, "application/x-subrip"): OpenApiResponse(OpenApiTypes.STR, description="SRT"),
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="Plain text"),
            409: error_response(
                "`no_times`: VTT or SRT asked of a transcript without times (use `txt`)."
            ),
        },
    )
    def get(self, request, pk: int):
        params = request.query_params
        fmt = choice_param(params, "format", _FORMATS) or "json"
        size = int_param(params, "page_size", PAGE_SIZE, 1, MAX_PAGE_SIZE)
        # Any cursor given, empty included, is checked as a cursor (400 invalid_cursor), as
        # on every paged list.
        token = params.get("cursor")
        asked = int_param(params, "version", 0, 1, 2**31 - 1) or None
        at = int_param(params, "at", 0, 0, MAX_AT) if "at" in params else None
        if at is not None and token is not None:
            raise exceptions.ValidationError(
                {"at": ["starts a first page: leave it out when following a cursor"]}
            )
        # Input first: a bad cursor is a 400 whichever episode it names.
        cursor = _decode(token) if token is not None else None
        episode = resolve_episode(pk) if pk <= INT64 else None
        if episode is None:
            raise exceptions.NotFound(f"No episode with id {pk}.")
        state = EpisodeTranscript.objects.filter(episode_id=episode.pk).first()
        if state is None or state.version == 0:
            raise exceptions.NotFound(_why_none(episode, state))
        version, start = asked or state.version, 0
        if cursor is not None:
            named, version, start = cursor
            if named != episode.pk:
                raise InvalidCursor("the cursor belongs to another episode")
            if version > state.version or (asked is not None and asked != version):
                raise InvalidCursor("the cursor belongs to another version of the transcript")
        facts = None
        if version != state.version:
            # An earlier version says what it is itself: the state row is the current one's.
            facts = version_facts(episode.pk, version) if version < state.version else None
            if facts is None:
                raise exceptions.NotFound(
                    f"Episode {episode.pk} has no transcript version {version}; the current "
                    f"one is {state.version}."
                )
        source = facts.source if facts else state.source
        fmt_read = facts.format if facts else state.format
        language = facts.language if facts else state.language
        count = facts.segments if facts else state.segments
        if fmt in EXPORTS:
            writer, content_type = EXPORTS[fmt]
            transcript = Transcript(read_segments(episode.pk, version), fmt_read)
            try:
                body = writer(transcript)
            except TranscriptFormatError as exc:
                raise NoTimes(str(exc)) from None
            response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
            name = f"episode-{episode.pk}-v{version}.{fmt}"
            response["Content-Disposition"] = f'inline; filename="{name}"'
            return response
        if at is not None:
            start = segment_at(episode.pk, version, at)
        # One more than a page: whether there is a next one.
        rows = read_segments(episode.pk, version, offset=start, limit=size + 1)
        following = None
        if len(rows) > size:
            rows = rows[:size]
            following = replace_query_param(
                remove_query_param(request.build_absolute_uri(), "at"),
                "cursor",
                sign_cursor({"e": episode.pk, "v": version, "s": start + size}),
            )
        data = {
            "episode": episode.pk,
            "version": version,
            "source": source,
            "format": fmt_read,
            "language": language,
            "segments": count,
            "offset": start,
            "results": [
                {"start_s": s.start_s, "end_s": s.end_s, "speaker": s.speaker, "text": s.text}
                for s in rows
            ],
            "next": following,
            "page_size": size,
        }
        return Response(self.get_serializer(data).data)


def _why_none(episode: Episode, state: EpisodeTranscript | None) -> str:
    base = f"Episode {episode.pk} has no transcript"
    if state is not None and state.error:
        return f"{base}: {state.error}"
    if state is not None and state.status == TranscriptStatus.NONE:
        return f"{base}: its feed links none (`podsight content transcripts --asr` transcribes)."
    if episode.transcripts:
        return f"{base} yet: its feed links one; run `podsight content transcripts`."
    return f"{base}: its feed links none."


# --- search ----------------------------------------------------------------------------------

_ID = re.compile(r"[1-9][0-9]{0,18}")


class PassageSerializer(serializers.Serializer):
    passage_no = serializers.IntegerField()
    start_s = serializers.FloatField(allow_null=True, help_text="Seconds from the start")
    end_s = serializers.FloatField(allow_null=True)
    text = serializers.CharField()
    score = serializers.FloatField()
    kind = serializers.ChoiceField(
        choices=["transcript", "notes"], help_text="`notes`: title and show notes only"
    )
    link = serializers.CharField(
        allow_null=True, help_text="The enclosure at this moment (`#t=seconds`)"
    )
    sponsor = serializers.CharField(
        allow_null=True,
        allow_blank=True,
        help_text="Set on an ad read: its sponsor (empty when the read names none); ad reads "
        "rank below content unless the query names the sponsor.",
    )


class SearchResultSerializer(serializers.Serializer):
    episode_id = serializers.IntegerField()
    title = serializers.CharField(allow_blank=True)
    channel_id = serializers.IntegerField()
    channel_title = serializers.CharField(allow_blank=True)
    published_at = serializers.DateTimeField(allow_null=True)
    language = serializers.CharField(allow_blank=True)
    score = serializers.FloatField(help_text="The best passage's score (higher first)")
    link = serializers.CharField(allow_null=True, help_text="Deep link to the best passage")
    passages = PassageSerializer(many=True)


class SearchPageSerializer(serializers.Serializer):
    query = serializers.CharField()
    method = serializers.CharField()
    results = SearchResultSerializer(many=True)
    passages_indexed = serializers.IntegerField(help_text="Passages searched (after filters)")
    index = serializers.ChoiceField(
        choices=["exact", "ann"], allow_null=True, help_text="null: nothing indexed yet"
    )


def _channel(params) -> int | None:
    value = text_param(params, "channel")
    if value is not None and (not _ID.fullmatch(value) or int(value) >= 2**63):
        raise exceptions.ValidationError({"channel": ["must be a channel id (1 or more)"]})
    return None if value is None else int(value)


def _published_after(params) -> str | None:
    value = text_param(params, "published_after")
    if value is None:
        return None
    try:
        moment = IsoDateTimeField().clean(value)
    except forms.ValidationError:
        moment = None
    if moment is None:
        raise exceptions.ValidationError(
            {"published_after": ["must be an ISO 8601 date-time, e.g. 2024-01-31T00:00:00Z"]}
        )
    return moment.isoformat()


class SearchView(APIView):
    """Episodes whose transcripts (or show notes) best answer a query."""

    @extend_schema(
        summary="Search episodes by what is said in them (hybrid vector + keyword)",
        description="Each result carries its best passages with their times and a deep "
        "link to the moment (`enclosure_url#t=seconds`). Ranking: reciprocal-rank fusion "
        "of passage similarity (all-MiniLM-L6-v2) and BM25 (docs/content.md, Search).",
        parameters=[
            OpenApiParameter(
                "q",
                query_schema(MAX_QUERY_LENGTH),
                required=True,
                description="What was said, in any words",
            ),
            OpenApiParameter(
                "channel",
                {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
                description="Only this channel's episodes",
            ),
            OpenApiParameter(
                "language",
                {"type": "string", "pattern": f"^{LANGUAGE_TAG.pattern}$"},
                description="The channel's language, e.g. `en` (matches en-us)",
            ),
            OpenApiParameter(
                "published_after",
                {"type": "string", "format": "date-time"},
                description="Only episodes published at or after this time",
            ),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                description=f"Episodes to return, 1–{MAX_LIMIT} (default {DEFAULT_LIMIT})",
            ),
        ],
        responses={
            200: SearchPageSerializer,
            503: error_response(
                "`unavailable`: the search index cannot be read, or is being built by "
                "another process (retry)"
            ),
        },
    )
    def get(self, request):
        params = request.query_params
        query = text_param(params, "q")
        if query is None:
            raise exceptions.ValidationError({"q": ["this parameter is required"]})
        limit = int_param(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        try:
            report = STEPS["search"](
                query,
                channel=_channel(params),
                language=text_param(params, "language"),
                published_after=_published_after(params),
                limit=limit,
            )
        except InvalidSearch as error:
            raise exceptions.ValidationError({error.field: [error.message]}) from None
        return Response(report.as_dict())


# --- analysis: the detail's keywords, topics, chapters, sponsors; similar episodes ----------


class KeywordSerializer(serializers.Serializer):
    keyword = serializers.CharField()
    score = serializers.FloatField(help_text="YAKE's score: lower is more relevant.")


class TopicSerializer(serializers.Serializer):
    topic = serializers.CharField(help_text="A Podcast Index category name.")
    id = serializers.IntegerField(help_text="Its Podcast Index category id.")
    parent = serializers.CharField(help_text="The category it sits under; empty at the top.")
    score = serializers.FloatField(help_text="Similarity above the category's bias; higher fits.")


class ChapterSerializer(serializers.Serializer):
    start_s = serializers.FloatField(allow_null=True, help_text="null: the transcript has no times")
    end_s = serializers.FloatField(allow_null=True)
    title = serializers.CharField()
    url = serializers.CharField(required=False, help_text="Feed chapters: the chapter's link.")
    img = serializers.CharField(required=False, help_text="Feed chapters: the chapter's image.")
    keywords = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Automatic chapters: its title."
    )
    passages = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="Automatic chapters: the first and last passage number.",
    )


class SponsorSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The sponsor as the read names it; empty when unnamed.")
    start_s = serializers.FloatField(allow_null=True)
    end_s = serializers.FloatField(allow_null=True)
    passages = serializers.ListField(child=serializers.IntegerField())
    cues = serializers.ListField(
        child=serializers.CharField(), help_text='Why it is an ad read ("promo code", …).'
    )
    url = serializers.CharField(help_text="The web address read out, if any.")
    code = serializers.CharField(help_text="The promo code read out, if any.")
    repeated = serializers.BooleanField(help_text="Also read in another episode of the show.")
    text = serializers.CharField(help_text="The read's first words.")


class AnalysisStateSerializer(serializers.Serializer):
    transcript_version = serializers.IntegerField(help_text="0: from the title and notes only.")
    notes_only = serializers.BooleanField()
    passages = serializers.IntegerField()
    embedder = serializers.CharField()
    analyzed_at = serializers.DateTimeField()


def episode_analysis(episode: Episode):
    """The episode's :class:`EpisodeAnalysis`, or None before ``content analyze`` ran."""
    from podsight.content.models import EpisodeAnalysis

    try:
        return episode.analysis
    except EpisodeAnalysis.DoesNotExist:
        return None


class SimilarResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    channel = serializers.IntegerField()
    channel_title = serializers.CharField()
    published_at = serializers.DateTimeField(allow_null=True)
    score = serializers.FloatField(help_text="Cosine of the two episodes' vectors.")
    relation = serializers.ChoiceField(
        choices=["earlier", "later", ""],
        help_text="Published before or after this episode; empty when a date is missing.",
    )
    shared_topics = serializers.ListField(child=serializers.CharField())
    shared_keywords = serializers.ListField(child=serializers.CharField())


class SimilarEpisodesSerializer(serializers.Serializer):
    episode = serializers.IntegerField()
    analyzed = serializers.BooleanField(
        help_text="false: the episode has not been analysed yet (`podsight content analyze`)."
    )
    results = SimilarResultSerializer(many=True)


class EpisodeSimilarView(generics.GenericAPIView):
    """Episodes like this one, earlier and later ones alike, best first: the cosine of
    their vectors (the mean of their passages, ad reads left out) with the topics and
    keywords they share. Episodes merged into another are left out (their survivor
    stands for them). `k`: how many (1–50, default 10)."""

    serializer_class = SimilarEpisodesSerializer
    pagination_class = None

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "k",
                {"type": "integer", "minimum": 1, "maximum": 50},
                description="How many episodes, 1–50 (default 10); more is a 400.",
            )
        ],
        responses={200: SimilarEpisodesSerializer},
    )
    def get(self, request, pk: int):
        from podsight.content.similar import DEFAULT_K, MAX_K, similar_episodes

        k = int_param(request.query_params, "k", DEFAULT_K, 1, MAX_K)
        episode = resolve_episode(pk) if pk <= INT64 else None
        if episode is None:
            raise exceptions.NotFound(f"No episode with id {pk}.")
        found = similar_episodes(episode.pk, k=k)
        results = []
        if found:
            others = Episode.objects.select_related("channel").in_bulk(
                [s.episode_id for s in found]
            )
            for s in found:
                other = others[s.episode_id]
                results.append(
                    {
                        "id": other.pk,
                        "title": other.title,
                        "channel": other.channel_id,
                        "channel_title": other.channel.title,
                        "published_at": other.published_at,
                        "score": s.score,
                        "relation": s.relation,
                        "shared_topics": list(s.shared_topics),
                        "shared_keywords": list(s.shared_keywords),
                    }
                )
        data = {"episode": episode.pk, "analyzed": found is not None, "results": results}
        return Response(self.get_serializer(data).data)


# --- one episode's content at once: the dashboard's episode page ---------------------------


class EpisodeContentFields(serializers.Serializer):
    """An episode's transcript state and what ``podsight content analyze`` found, as both
    ``GET /api/episodes/{id}`` and ``…/analysis`` answer them (one definition)."""

    transcript = serializers.SerializerMethodField(
        help_text="The stored transcript's state (`status`, `source` rss|asr, `language`, "
        "`version`…); its segments: …/transcript."
    )
    keywords = serializers.SerializerMethodField(help_text="Keywords, most relevant first.")
    topics = serializers.SerializerMethodField(
        help_text="Podcast Index categories the episode is about, best first."
    )
    chapters = serializers.SerializerMethodField(
        help_text="The feed's chapters (`chapters_source` feed) or ones found at topic shifts "
        "(`auto`), in time order; empty before analysis."
    )
    chapters_source = serializers.SerializerMethodField(help_text="feed, auto, or empty.")
    sponsors = serializers.SerializerMethodField(
        help_text="Ad reads: the sponsor named, times, promo code and address."
    )
    analysis = serializers.SerializerMethodField(
        help_text="What the analysis was made from; null before `podsight content analyze`."
    )

    @extend_schema_field(TranscriptStateSerializer)
    def get_transcript(self, obj: Episode) -> dict:
        return TranscriptStateSerializer(transcript_state(obj)).data

    @extend_schema_field(KeywordSerializer(many=True))
    def get_keywords(self, obj: Episode) -> list:
        analysis = episode_analysis(obj)
        return KeywordSerializer(analysis.keywords if analysis else [], many=True).data

    @extend_schema_field(TopicSerializer(many=True))
    def get_topics(self, obj: Episode) -> list:
        analysis = episode_analysis(obj)
        return TopicSerializer(analysis.topics if analysis else [], many=True).data

    @extend_schema_field(ChapterSerializer(many=True))
    def get_chapters(self, obj: Episode) -> list:
        analysis = episode_analysis(obj)
        return ChapterSerializer(analysis.chapters if analysis else [], many=True).data

    def get_chapters_source(self, obj: Episode) -> str:
        analysis = episode_analysis(obj)
        return analysis.chapters_source if analysis else ""

    @extend_schema_field(SponsorSerializer(many=True))
    def get_sponsors(self, obj: Episode) -> list:
        analysis = episode_analysis(obj)
        return SponsorSerializer(analysis.sponsors if analysis else [], many=True).data

    @extend_schema_field(AnalysisStateSerializer(allow_null=True))
    def get_analysis(self, obj: Episode) -> dict | None:
        analysis = episode_analysis(obj)
        return AnalysisStateSerializer(analysis).data if analysis else None


class EpisodeContentSerializer(EpisodeContentFields):
    """The facts of an episode a content view shows, with the same names and shapes as in
    ``GET /api/episodes/{id}``."""

    id = serializers.IntegerField()
    title = serializers.CharField(allow_blank=True)
    channel = serializers.IntegerField(source="channel_id")
    channel_title = serializers.CharField(source="channel.title", allow_blank=True)
    published_at = serializers.DateTimeField(allow_null=True)
    duration_s = serializers.IntegerField(allow_null=True)
    enclosure_url = serializers.CharField(allow_blank=True)
    enclosure_type = serializers.CharField(allow_blank=True)


class EpisodeAnalysisView(generics.GenericAPIView):
    """An episode's content at once: title, show, date, length and audio; its transcript's
    state; and what `podsight content analyze` found (keywords, topics, chapters, sponsor
    segments; `analysis` null before it ran). The same fields as the episode detail has,
    in one database query, without the detail's per-source metrics (a lake read): what an
    episode page of content needs beside …/transcript and …/similar. An id merged into
    another episode answers with the survivor."""

    serializer_class = EpisodeContentSerializer
    pagination_class = None

    @extend_schema(responses={200: EpisodeContentSerializer})
    def get(self, request, pk: int):
        from podsight.content.queries import episode_content

        episode = episode_content(pk) if pk <= INT64 else None
        if episode is None:
            raise exceptions.NotFound(f"No episode with id {pk}.")
        return Response(self.get_serializer(episode).data)
