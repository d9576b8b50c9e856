"""Read-only REST API of the canonical catalog: channels, episodes and their source records."""

from __future__ import annotations

from django import forms
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, generics, serializers
from rest_framework.response import Response

from podsight.api.pagination import INT64, KeysetPagination
from podsight.api.params import EMPTY, DigitsField, text_param
from podsight.catalog.models import Channel, ChannelCategory, Episode
from podsight.catalog.search import fulltext_filter
from podsight.catalog.services import channel_metrics, resolve_channel, resolve_episode
from podsight.content.api import EpisodeContentFields, transcript_state
from podsight.content.models import TranscriptStatus
from podsight.lake.metrics import latest_metrics, metric_series
from podsight.matching.review import public_explanation
from podsight.sources.models import Source, SourceChannel, SourceEpisode

__all__ = [
    "ChannelDetailView",
    "ChannelEpisodesView",
    "ChannelListView",
    "ChannelMetricsView",
    "EpisodeDetailView",
    "EpisodeListView",
    "EpisodeMetricsView",
]


def resolve_channel_id(pk: int) -> int | None:
    channel = resolve_channel(pk)
    return channel.pk if channel else None


# --- serializers -------------------------------------------------------------------------


class _ExplanationField(serializers.CharField):
    """A link's explanation as anyone may read it: without the name of who decided."""

    def to_representation(self, value) -> str:
        return public_explanation(super().to_representation(value))


class SourceRecordSerializer(serializers.Serializer):
    record_id = serializers.IntegerField(source="pk")
    source = serializers.CharField()
    external_id = serializers.CharField()
    url = serializers.CharField()
    method = serializers.CharField(source="link_method")
    confidence = serializers.FloatField(source="link_confidence", allow_null=True)
    explanation = _ExplanationField(source="link_explanation")
    status = serializers.CharField(
        source="link_status",
        help_text="auto, needs_review or confirmed for matched links; empty for own/key links",
    )
    fetched_at = serializers.DateTimeField()
    first_seen_at = serializers.DateTimeField()
    vanished_at = serializers.DateTimeField(allow_null=True)


class SourceRecordDetailSerializer(SourceRecordSerializer):
    content_hash = serializers.CharField()
    data = serializers.JSONField(help_text="The source's normalised fields.")
    latest_metrics = serializers.SerializerMethodField(
        help_text="Newest snapshot of each metric this source reports (views, likes…): "
        '{"views": {"value": 80702.0, "observed_at": "…"}}. History: …/metrics.'
    )

    @extend_schema_field(serializers.DictField(child=serializers.DictField()))
    def get_latest_metrics(self, obj) -> dict:
        latest = self.context.get("latest_metrics") or {}
        return latest.get((obj.source, obj.external_id), {})


class TranscriptSerializer(serializers.Serializer):
    url = serializers.CharField()
    type = serializers.CharField(allow_null=True)
    language = serializers.CharField(allow_null=True)
    rel = serializers.CharField(allow_null=True)


class ChannelSerializer(serializers.ModelSerializer):
    description = serializers.CharField(source="description_text")
    categories = serializers.SerializerMethodField()
    episode_count = serializers.IntegerField(read_only=True)
    sources = SourceRecordSerializer(source="source_records", many=True)

    class Meta:
        model = Channel
        fields = [
            "id", "title", "description", "link", "language", "author", "owner_name",
            "image_url", "categories", "explicit", "itunes_type", "podcast_guid",
            "episode_count", "sources", "created_at", "updated_at",
        ]  # fmt: skip

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_categories(self, obj: Channel) -> list[str]:
        return [c.path for c in obj.categories.all()]


class ChannelDetailSerializer(ChannelSerializer):
    sources = SourceRecordDetailSerializer(source="source_records", many=True)

    class Meta(ChannelSerializer.Meta):
        fields = ChannelSerializer.Meta.fields + [
            "description_html", "owner_email", "funding", "persons", "field_sources",
        ]  # fmt: skip


class EpisodeSerializer(serializers.ModelSerializer):
    channel = serializers.IntegerField(source="channel_id")
    channel_title = serializers.CharField(source="channel.title")
    description = serializers.CharField(source="description_text")
    transcripts = TranscriptSerializer(many=True)
    transcript_status = serializers.SerializerMethodField(
        help_text="The stored transcript's status (`ok` stored, `pending` linked but not "
        "fetched yet, `none`, `error`, `no_speech_model`); the detail's `transcript` has more. "
        "`has_transcript` only says the feed links one."
    )
    sources = SourceRecordSerializer(source="source_records", many=True)

    class Meta:
        model = Episode
        fields = [
            "id", "title", "channel", "channel_title", "guid", "description", "published_at",
            "duration_s", "enclosure_url", "enclosure_type", "enclosure_length",
            "episode_number", "season_number", "episode_type", "explicit", "image_url", "link",
            "transcripts", "has_transcript", "transcript_status", "available", "sources",
            "created_at", "updated_at",
        ]  # fmt: skip

    @extend_schema_field(serializers.ChoiceField(choices=TranscriptStatus.choices))
    def get_transcript_status(self, obj: Episode) -> str:
        return str(transcript_state(obj)["status"])


class EpisodeDetailSerializer(EpisodeContentFields, EpisodeSerializer):
    sources = SourceRecordDetailSerializer(source="source_records", many=True)
    # `chapters` (EpisodeContentFields) holds the chapters themselves (the feed's or
    # automatic ones); the feed's reference to its chapters document, which `chapters`
    # held before, is `chapters_feed` (docs/content.md).
    chapters_feed = serializers.JSONField(
        source="chapters",
        allow_null=True,
        help_text='The feed\'s chapters reference: {"url", "type", "inline": [[start_s, '
        "title, href], …]} (podcast:chapters or Podlove Simple Chapters); null without.",
    )

    class Meta(EpisodeSerializer.Meta):
        fields = EpisodeSerializer.Meta.fields + [
            "description_html", "chapters", "chapters_source", "chapters_feed", "persons",
            "field_sources", "transcript", "keywords", "topics", "sponsors", "analysis",
        ]  # fmt: skip


# --- filters ----------------------------------------------------------------------------


class StrictBooleanField(forms.Field):
    """true/false/1/0/yes/no; anything else is an error (django-filter would ignore it)."""

    TRUE, FALSE = {"true", "1", "yes"}, {"false", "0", "no"}

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise forms.ValidationError(_("must be true or false"), code="invalid")


@extend_schema_field({"type": "boolean"})
class StrictBooleanFilter(filters.Filter):
    field_class = StrictBooleanField


INT32 = 2**31 - 1  # what an IntegerField column holds on every database


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": INT64})
class IdFilter(filters.NumberFilter):
    """A canonical id: a whole number that fits the id column (a huge one used to reach
    the database and overflow it)."""

    field_class = DigitsField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=INT64, **kwargs)


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": INT32})
class SecondsFilter(filters.NumberFilter):
    field_class = DigitsField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=0, max_value=INT32, **kwargs)


class StrictFilterSet(filters.FilterSet):
    """A filter given with an empty value (``?source=``) is a 400, as for every query
    parameter of the API (:mod:`podsight.api.params`), not "no filter"."""

    def get_form_class(self):
        names = list(self.filters)

        class Form(super().get_form_class()):
            def clean(self):
                cleaned = super().clean()
                for name in names:
                    values = self.data.getlist(name) if hasattr(self.data, "getlist") else []
                    if values and all(v == "" for v in values):
                        self.add_error(name, EMPTY)
                return cleaned

        return Form


def _language_q(prefix: str, value: str) -> Q:
    value = value.strip().lower()
    return Q(**{f"{prefix}language": value}) | Q(**{f"{prefix}language__startswith": f"{value}-"})


def _category_exists(channel_ref: str, value: str) -> Exists:
    name = value.strip()
    return Exists(
        ChannelCategory.objects.filter(channel_id=OuterRef(channel_ref)).filter(
            Q(name__iexact=name) | Q(path__iexact=name)
        )
    )


class ChannelFilter(StrictFilterSet):
    language = filters.CharFilter(method="filter_language", help_text="e.g. `en` (matches en-us)")
    category = filters.CharFilter(method="filter_category", help_text="Category name or path")
    explicit = StrictBooleanFilter(field_name="explicit")
    source = filters.ChoiceFilter(choices=Source.choices, method="filter_source")
    q = filters.CharFilter(method="filter_q", help_text="Full-text search in title and description")

    class Meta:
        model = Channel
        fields: list[str] = []

    def filter_language(self, qs, name, value):
        return qs.filter(_language_q("", value))

    def filter_category(self, qs, name, value):
        return qs.filter(_category_exists("pk", value))

    def filter_source(self, qs, name, value):
        return qs.filter(
            Exists(SourceChannel.objects.filter(channel_id=OuterRef("pk"), source=value))
        )

    def filter_q(self, qs, name, value):
        return fulltext_filter(qs, value)


class EpisodeFilter(StrictFilterSet):
    channel = IdFilter(method="filter_channel", help_text="Canonical channel id")
    language = filters.CharFilter(method="filter_language", help_text="Channel language, e.g. `en`")
    category = filters.CharFilter(
        method="filter_category", help_text="Channel category name or path"
    )
    published_after = filters.IsoDateTimeFilter(field_name="published_at", lookup_expr="gte")
    published_before = filters.IsoDateTimeFilter(field_name="published_at", lookup_expr="lt")
    duration_min = SecondsFilter(field_name="duration_s", lookup_expr="gte", help_text="seconds")
    duration_max = SecondsFilter(field_name="duration_s", lookup_expr="lte", help_text="seconds")
    has_transcript = StrictBooleanFilter(field_name="has_transcript")
    explicit = StrictBooleanFilter(field_name="explicit")
    source = filters.ChoiceFilter(choices=Source.choices, method="filter_source")
    q = filters.CharFilter(method="filter_q", help_text="Full-text search in title and description")

    class Meta:
        model = Episode
        fields: list[str] = []

    def filter_channel(self, qs, name, value):
        channel = resolve_channel(value)
        return qs.filter(channel_id=channel.pk) if channel else qs.none()

    def filter_language(self, qs, name, value):
        return qs.filter(_language_q("channel__", value))

    def filter_category(self, qs, name, value):
        return qs.filter(_category_exists("channel_id", value))

    def filter_source(self, qs, name, value):
        return qs.filter(
            Exists(SourceEpisode.objects.filter(episode_id=OuterRef("pk"), source=value))
        )

    def filter_q(self, qs, name, value):
        return fulltext_filter(qs, value)


# --- views ------------------------------------------------------------------------------


def _episode_count():
    live = (
        Episode.objects.filter(channel_id=OuterRef("pk"), merged_into__isnull=True)
        .order_by()
        .values("channel_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(live, output_field=IntegerField()), 0)


def _channels():
    return (
        Channel.objects.alive()
        .annotate(episode_count=_episode_count())
        .prefetch_related("categories", "source_records")
    )


def _episodes():
    return (
        Episode.objects.alive()
        .select_related("channel", "transcript_state")
        .prefetch_related("source_records")
    )


class ChannelListView(generics.ListAPIView):
    """Canonical channels (shows)."""

    serializer_class = ChannelSerializer
    filterset_class = ChannelFilter
    pagination_class = KeysetPagination
    ordering_fields = {"id": "id", "title": "title", "created_at": "created_at"}
    default_ordering = "id"

    def get_queryset(self):
        return _channels()


class ChannelDetailView(generics.RetrieveAPIView):
    """One channel with its episode count and every per-source record linked to it.

    An id that was merged into another channel answers with the surviving channel."""

    serializer_class = ChannelDetailSerializer

    def get_object(self):
        channel = resolve_channel(self.kwargs["pk"])
        if channel is None:
            raise exceptions.NotFound(f"No channel with id {self.kwargs['pk']}.")
        return _channels().get(pk=channel.pk)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        records = SourceChannel.objects.filter(channel_id=resolve_channel_id(self.kwargs["pk"]))
        context["latest_metrics"] = latest_metrics(
            "channel", [(r.source, r.external_id) for r in records]
        )
        return context


EPISODE_ORDERING = {
    "published_at": "published_at",
    "duration_s": "duration_s",
    "title": "title",
    "id": "id",
}


class EpisodeListView(generics.ListAPIView):
    """Canonical episodes across all channels."""

    serializer_class = EpisodeSerializer
    filterset_class = EpisodeFilter
    pagination_class = KeysetPagination
    ordering_fields = EPISODE_ORDERING
    default_ordering = "-published_at"

    def get_queryset(self):
        return _episodes()


class ChannelEpisodesView(EpisodeListView):
    """Episodes of one channel (same filters as /api/episodes)."""

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI document: no channel
            return Episode.objects.none()
        channel = resolve_channel(self.kwargs["pk"])
        if channel is None:
            raise exceptions.NotFound(f"No channel with id {self.kwargs['pk']}.")
        return _episodes().filter(channel_id=channel.pk)


class EpisodeDetailView(generics.RetrieveAPIView):
    """One episode with every per-source record linked to it.

    An id that was merged into another episode answers with the surviving episode."""

    serializer_class = EpisodeDetailSerializer

    def get_object(self):
        episode = resolve_episode(self.kwargs["pk"])
        if episode is None:
            raise exceptions.NotFound(f"No episode with id {self.kwargs['pk']}.")
        return _episodes().select_related("analysis").get(pk=episode.pk)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        episode = resolve_episode(self.kwargs["pk"])
        records = SourceEpisode.objects.filter(episode_id=episode.pk) if episode else []
        context["latest_metrics"] = latest_metrics(
            "episode", [(r.source, r.external_id) for r in records]
        )
        return context


class MetricPointSerializer(serializers.Serializer):
    observed_at = serializers.DateTimeField()
    value = serializers.FloatField()


class MetricSeriesSerializer(serializers.Serializer):
    source = serializers.CharField()
    external_id = serializers.CharField()
    metric = serializers.CharField()
    points = MetricPointSerializer(many=True)


class EpisodeMetricsSerializer(serializers.Serializer):
    episode = serializers.IntegerField()
    series = MetricSeriesSerializer(many=True)


class EpisodeMetricsView(generics.GenericAPIView):
    """Time series of the metrics (views, likes, comments…) every linked source reported
    for this episode, one series per source record and metric, oldest point first.

    `?metric=views` keeps one metric."""

    serializer_class = EpisodeMetricsSerializer
    pagination_class = None

    @extend_schema(
        parameters=[OpenApiParameter("metric", str, description="Only this metric.")],
        responses={200: EpisodeMetricsSerializer},
    )
    def get(self, request, pk: int):
        episode = resolve_episode(pk)
        if episode is None:
            raise exceptions.NotFound(f"No episode with id {pk}.")
        records = SourceEpisode.objects.filter(episode_id=episode.pk)
        metric = text_param(request.query_params, "metric")
        series = metric_series("episode", [(r.source, r.external_id) for r in records], metric)
        return Response(self.get_serializer({"episode": episode.pk, "series": series}).data)


class MetricTotalPointSerializer(serializers.Serializer):
    day = serializers.DateField(help_text="A UTC day on which a snapshot was taken")
    value = serializers.FloatField(help_text="Sum of each record's latest value by that day's end")
    records = serializers.IntegerField(help_text="Episode records the sum covers")


class MetricTotalSerializer(serializers.Serializer):
    source = serializers.CharField()
    metric = serializers.CharField()
    points = MetricTotalPointSerializer(many=True)


class ChannelMetricsSerializer(serializers.Serializer):
    channel = serializers.IntegerField()
    series = MetricSeriesSerializer(
        many=True,
        help_text="What the show's own source records reported (YouTube subscribers and "
        "views, episode counts…), one series per record and metric, oldest point first.",
    )
    episodes = MetricTotalSerializer(
        many=True,
        help_text="What the show's episodes add up to per source and metric (views, likes, "
        "comments…), by UTC day.",
    )


class ChannelMetricsView(generics.GenericAPIView):
    """A show's metrics over time, per platform: its own records' series (subscribers,
    views…) and the daily totals of its episodes' metrics (views, likes, comments).

    `?metric=views` keeps one metric. An id merged into another channel answers for the
    surviving channel."""

    serializer_class = ChannelMetricsSerializer
    pagination_class = None

    @extend_schema(
        parameters=[OpenApiParameter("metric", str, description="Only this metric.")],
        responses={200: ChannelMetricsSerializer},
    )
    def get(self, request, pk: int):
        channel = resolve_channel(pk)
        if channel is None:
            raise exceptions.NotFound(f"No channel with id {pk}.")
        metric = text_param(request.query_params, "metric")
        return Response(self.get_serializer(channel_metrics(channel, metric)).data)
