"""Routes of the REST API (``/api/…``)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from podsight.accounts import api as accounts
from podsight.catalog import api as catalog
from podsight.content import api as content
from podsight.directory import api as directory
from podsight.events import api as events
from podsight.jobs import api as jobs
from podsight.matching import api as matching
from podsight.recs import api as recs

__all__ = ["urlpatterns"]

urlpatterns = [
    path("auth/token", accounts.TokenView.as_view(), name="auth-token"),
    path("auth/me", accounts.MeView.as_view(), name="auth-me"),
    path("channels", catalog.ChannelListView.as_view(), name="channel-list"),
    path("channels/<int:pk>", catalog.ChannelDetailView.as_view(), name="channel-detail"),
    path(
        "channels/<int:pk>/episodes", catalog.ChannelEpisodesView.as_view(), name="channel-episodes"
    ),
    path("channels/<int:pk>/metrics", catalog.ChannelMetricsView.as_view(), name="channel-metrics"),
    path("episodes", catalog.EpisodeListView.as_view(), name="episode-list"),
    path("episodes/<int:pk>", catalog.EpisodeDetailView.as_view(), name="episode-detail"),
    path(
        "episodes/<int:pk>/metrics",
        catalog.EpisodeMetricsView.as_view(),
        name="episode-metrics",
    ),
    path(
        "episodes/<int:pk>/transcript",
        content.EpisodeTranscriptView.as_view(),
        name="episode-transcript",
    ),
    path(
        "episodes/<int:pk>/analysis",
        content.EpisodeAnalysisView.as_view(),
        name="episode-analysis",
    ),
    path(
        "episodes/<int:pk>/similar",
        content.EpisodeSimilarView.as_view(),
        name="episode-similar",
    ),
    path(
        "episodes/<int:pk>/also-played",
        recs.AlsoPlayedView.as_view(),
        name="episode-also-played",
    ),
    path("links", matching.LinkListView.as_view(), name="link-list"),
    path("links/force", matching.LinkForceView.as_view(), name="link-force"),
    path(
        "links/<str:entity>/<int:record_id>",
        matching.LinkDetailView.as_view(),
        name="link-detail",
    ),
    # Before the actions' pattern, which would take "history" for an action.
    path(
        "links/<str:entity>/<int:record_id>/history",
        matching.LinkHistoryView.as_view(),
        name="link-history",
    ),
    path(
        "links/<str:entity>/<int:record_id>/<str:action>",
        matching.LinkActionView.as_view(),
        name="link-action",
    ),
    path("directory", directory.DirectorySearchView.as_view(), name="directory-search"),
    path(
        "directory/<int:podcastindex_id>/add",
        directory.DirectoryAddView.as_view(),
        name="directory-add",
    ),
    path("events", events.EventsView.as_view(), name="events"),
    path("stats/live", events.LiveStatsView.as_view(), name="stats-live"),
    path("stats/overview", events.OverviewView.as_view(), name="stats-overview"),
    path("stats/engagement", events.EngagementView.as_view(), name="stats-engagement"),
    path("stats/completion", events.CompletionView.as_view(), name="stats-completion"),
    path("users/<str:user_id>/history", events.HistoryView.as_view(), name="user-history"),
    path(
        "users/<str:user_id>/recommendations",
        recs.RecommendationsView.as_view(),
        name="user-recommendations",
    ),
    path("recs/models", recs.ModelsView.as_view(), name="recs-models"),
    path(
        "recs/models/<str:version>/promote", recs.PromoteView.as_view(), name="recs-promote"
    ),
    path("recs/rollback", recs.RollbackView.as_view(), name="recs-rollback"),
    path("recs/users", recs.ListenersView.as_view(), name="recs-users"),
    path("recs/try", recs.TryView.as_view(), name="recs-try"),
    path("search", content.SearchView.as_view(), name="search"),
    path("jobs", jobs.JobListView.as_view(), name="job-list"),
    path("jobs/<int:pk>", jobs.JobDetailView.as_view(), name="job-detail"),
    path("pipeline/runs", jobs.PipelineRunListView.as_view(), name="pipeline-run-list"),
    path(
        "pipeline/runs/<int:pk>",
        jobs.PipelineRunDetailView.as_view(),
        name="pipeline-run-detail",
    ),
    path("schema", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]
