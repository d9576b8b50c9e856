"""The named pipeline steps: every piece of work a user can start.

Each step takes typed keyword parameters, reports through the caller's ``progress``
(:data:`~podsight.progress.SILENT` by default) and returns a report dataclass; domain
modules do the work, imported when the step runs (the CLI imports this module before
Django is set up). Steps that write the database make sure its schema is current first
(:func:`~podsight.bootstrap.ensure_database`), so a runner that calls them alone works.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from podsight.bootstrap import ensure_database
from podsight.errors import InputError
from podsight.pipeline.registry import STEPS, Param, Step, run_step, step
from podsight.progress import SILENT, Progress

if TYPE_CHECKING:
    from podsight.accounts.services import TokenInfo
    from podsight.backup import DbBackup
    from podsight.content.analyze import AnalysisReport
    from podsight.content.search import SearchReport
    from podsight.content.transcripts import TranscriptsReport
    from podsight.demo.load import DemoApis, DemoFeeds, DemoLoadReport
    from podsight.demo.simulate import SimulationReport
    from podsight.demo.truth import LabelCounts
    from podsight.directory.index import IndexSync
    from podsight.directory.service import AddResult, DirectoryPage
    from podsight.events.consumer import ConsumeReport
    from podsight.events.engagement import EngagementReport
    from podsight.lake.history import LakeHistory, LakeRestored
    from podsight.matching.report import MatchRunReport
    from podsight.pipeline.reports import (
        DashboardServed,
        LinkAction,
        LinkList,
        Migrated,
        Served,
        TokenCreated,
        TokenList,
        UserCreated,
    )
    from podsight.pipeline.runner import PipelineRunList, PipelineRunReport
    from podsight.pipeline.schedule import ScheduleReport
    from podsight.recs.evaluate import EvaluationReport
    from podsight.recs.lifecycle import LifecycleReport, ModelList, RefreshReport, TrainReport
    from podsight.recs.offline import OfflineReport
    from podsight.sources.discover import DiscoverReport
    from podsight.sources.podcastindex.dump.report import DumpImportReport
    from podsight.sources.replay import ReplayReport
    from podsight.sources.rss.ingest import IngestReport
    from podsight.sources.sync import ShowSpec, SyncReport

__all__ = ["STEPS", "Param", "Step", "run_step", "step"]


# --- sources ------------------------------------------------------------------------------


@step("ingest.rss", report="podsight.sources.rss.ingest:IngestReport")
def ingest_rss(
    locations: Sequence[str], *, concurrency: int = 8, progress: Progress = SILENT
) -> IngestReport:
    """Fetch or read, parse and store RSS/Atom feeds (URLs, files, folders of feeds)."""
    ensure_database()
    from podsight.sources.rss.ingest import ingest_feeds

    return ingest_feeds(locations, concurrency=concurrency, progress=progress)


@step("sources.sync", report="podsight.sources.sync:SyncReport")
def sync_sources(
    *,
    sources_file: Path | None = None,
    specs: Sequence[ShowSpec] | None = None,
    sources: Sequence[str] | None = None,
    cache: bool = True,
    progress: Progress = SILENT,
) -> SyncReport:
    """Sync the shows of a sources file (default ``$PODSIGHT_HOME/sources.toml``), or the
    ``specs`` given, from every selected source, incrementally."""
    ensure_database()
    from podsight.lake.tables import API_PAYLOADS, SOURCE_METRICS
    from podsight.pipeline import validate
    from podsight.sources.sync import default_sources_file, load_sources_file, sync_shows

    if specs is None:
        specs = load_sources_file(sources_file or default_sources_file())
    start = validate.before(SOURCE_METRICS, API_PAYLOADS)
    report = sync_shows(specs, sources=sources, cache=cache, progress=progress)
    return validate.check_sync(start, report)


@step("sources.replay", report="podsight.sources.replay:ReplayReport")
def replay_sources(*, source: str | None = None, progress: Progress = SILENT) -> ReplayReport:
    """Normalise and store the kept API payloads again, without calling any API."""
    ensure_database()
    from podsight.sources.replay import replay_payloads

    return replay_payloads(source, progress=progress)


@step(
    "podcastindex.import_dump", report="podsight.sources.podcastindex.dump.report:DumpImportReport"
)
def import_podcastindex_dump(
    path: Path, *, batch_size: int = 25_000, resume: bool = True, progress: Progress = SILENT
) -> DumpImportReport:
    """Import the Podcast Index SQLite dump into the lake, linking the feeds the catalog
    shares keys with (and keeping the directory index in step)."""
    if not Path(path).is_file():
        raise InputError(f"{path} is not a file; give the path of podcastindex_feeds.db")
    ensure_database()
    from podsight.sources.podcastindex.dump.run import import_dump

    return import_dump(Path(path), batch_size=batch_size, resume=resume, progress=progress)


@step("discover.trending", report="podsight.sources.discover:DiscoverReport")
def discover_trending(*, sources_file: Path | None = None, limit: int = 10) -> DiscoverReport:
    """Add Podcast Index's trending shows to the catalog and the sources file."""
    ensure_database()
    from podsight.sources.discover import discover_trending as run
    from podsight.sources.sync import default_sources_file

    return run(sources_file or default_sources_file(), limit=limit)


@step("discover.search", report="podsight.sources.discover:DiscoverReport")
def discover_search(
    term: str, *, sources_file: Path | None = None, limit: int = 10
) -> DiscoverReport:
    """Search Apple Podcasts and Podcast Index for ``term``; add what is found."""
    ensure_database()
    from podsight.sources.discover import discover_search as run
    from podsight.sources.sync import default_sources_file

    return run(term, sources_file or default_sources_file(), limit=limit)


# --- matching and review ------------------------------------------------------------------


@step("match", report="podsight.matching.report:MatchRunReport")
def match_records(
    *,
    full: bool = False,
    pair_counts: bool = False,
    labels: Path | None = None,
    progress: Progress = SILENT,
) -> MatchRunReport:
    """Link Spotify and YouTube records to the shows they are and pair episodes across
    sources; with ``pair_counts`` (or ``labels``) count links per source pair, with
    ``labels`` (a CSV of known pairs) evaluate the links against them."""
    ensure_database()
    from podsight.matching import report as quality
    from podsight.matching.run import run_match
    from podsight.pipeline import validate

    label_sets = quality.read_labels(labels) if labels is not None else None  # before matching
    start = validate.before()
    with progress.task("matching") as task:

        def advance(done: int, total: int) -> None:
            task.update(completed=done, total=total)

        run = run_match(full=full, on_channel=advance)
    result = quality.MatchRunReport(run)
    if pair_counts or label_sets is not None:
        result.pair_counts = quality.pair_counts()
    if label_sets:
        result.evaluations = quality.evaluate_labels(label_sets)
    return validate.check_match(start, result)


def _actor(actor: str | None) -> str:
    if actor:
        return actor
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name for this uid (containers)
        return "cli"


@step("links.list", report="podsight.pipeline.reports:LinkList")
def links_list(
    *, status: str | None = "needs_review", entity: str | None = None, limit: int = 50
) -> LinkList:
    """Matched links, newest first, up to ``limit`` per entity (default: those that need
    review)."""
    ensure_database()
    from podsight.matching.review import list_links
    from podsight.pipeline.reports import LinkList

    return LinkList(status, list_links(entity=entity, status=status or None, limit=limit))


@step("links.confirm", report="podsight.pipeline.reports:LinkAction")
def links_confirm(
    *, entity: str, record: str, reason: str = "", actor: str | None = None
) -> LinkAction:
    """Mark a matched link right; no later run reconsiders it. ``actor`` defaults to the
    user running podsight."""
    ensure_database()
    from podsight.matching.review import confirm_link
    from podsight.pipeline.reports import LinkAction

    done = confirm_link(entity, record, actor=_actor(actor), reason=reason)
    return LinkAction("confirm", entity, record, done.pk, None)


@step("links.reject", report="podsight.pipeline.reports:LinkAction")
def links_reject(
    *,
    entity: str,
    record: str,
    other: str | None = None,
    reason: str = "",
    actor: str | None = None,
) -> LinkAction:
    """Take a record out of the row it was matched into (only the pair with ``other``
    when given); it is never linked there again."""
    ensure_database()
    from podsight.matching.review import reject_link
    from podsight.pipeline.reports import LinkAction

    target = reject_link(entity, record, actor=_actor(actor), other=other, reason=reason)
    return LinkAction("reject", entity, record, None, target)


@step("links.force", report="podsight.pipeline.reports:LinkAction")
def links_force(
    *, entity: str, record: str, other: str, reason: str = "", actor: str | None = None
) -> LinkAction:
    """Make two records one channel/episode, whatever the matcher says."""
    ensure_database()
    from podsight.matching.review import force_link
    from podsight.pipeline.reports import LinkAction

    survivor = force_link(entity, record, other, actor=_actor(actor), reason=reason)
    return LinkAction("force", entity, record, None, survivor)


# --- accounts -----------------------------------------------------------------------------


@step("tokens.create", report="podsight.pipeline.reports:TokenCreated")
def tokens_create(
    *, name: str, scopes: Sequence[str] = ("events:write",), user: str | None = None
) -> TokenCreated:
    """Create an API token (acting for ``user`` when given); its key is in the report,
    once: only a digest of it is kept."""
    ensure_database()
    from podsight.accounts.services import create_token, find_user, token_info
    from podsight.pipeline.reports import TokenCreated

    owner = find_user(user) if user is not None else None
    token, key = create_token(name, list(scopes), user=owner)
    return TokenCreated(token_info(token), key)


@step("tokens.list", report="podsight.pipeline.reports:TokenList")
def tokens_list() -> TokenList:
    """Every API token: name, key prefix, scopes, user, times (never keys)."""
    ensure_database()
    from podsight.accounts.services import list_tokens
    from podsight.pipeline.reports import TokenList

    return TokenList(list_tokens())


@step("tokens.revoke", report="podsight.accounts.services:TokenInfo")
def tokens_revoke(*, name: str) -> TokenInfo:
    """Revoke the token ``name``: requests with its key are refused from then on."""
    ensure_database()
    from podsight.accounts.services import revoke_token, token_info

    return token_info(revoke_token(name))


@step("users.create", report="podsight.pipeline.reports:UserCreated")
def users_create(*, username: str, password: str, staff: bool = False) -> UserCreated:
    """Create a user (password hashed by Django) that tokens can act for."""
    ensure_database()
    from podsight.accounts.services import UserInfo, create_user
    from podsight.pipeline.reports import UserCreated

    user = create_user(username, password, staff=staff)
    return UserCreated(UserInfo(user.get_username(), staff))


# --- listening events ---------------------------------------------------------------------


@step("events.consume", report="podsight.events.consumer:ConsumeReport")
def consume_events(
    *,
    once: bool = False,
    batch_size: int = 50_000,
    interval_s: float | None = None,
    refresh: bool = True,
) -> ConsumeReport:
    """Move listening events from the log into the lake (``events``,
    ``engagement_daily``), exactly once; until interrupted unless ``once``, polling an
    empty log every ``interval_s`` (default the consumer's, 0.5 s). With ``refresh``, the
    recommendations of the users each batch wrote are recomputed (when a model serves),
    off the consumer's thread. With ``once``, a consumer already running on the lake makes
    it do nothing (its report says so); without, it is refused (ConsumerBusy)."""
    import logging

    ensure_database()
    from podsight.events.consumer import (
        DEFAULT_INTERVAL_S,
        ConsumerBusy,
        ConsumeReport,
        consume,
    )
    from podsight.lake.tables import ENGAGEMENT_DAILY, EVENTS
    from podsight.pipeline import validate

    batches = logging.getLogger("podsight.events.consume")

    def logged(report: ConsumeReport) -> None:
        # One line per micro-batch: the log file's (the console's with --verbose).
        batches.info("batch: %s", report)

    def refreshed(users: set[str]) -> None:
        import time

        from podsight.recs.serving import refresh_users

        started = time.monotonic()
        count = refresh_users(sorted(users))
        if count:
            batches.info(
                "recommendations of %d user(s) refreshed in %.2f s",
                count, time.monotonic() - started,
            )  # fmt: skip

    def warm() -> None:
        from podsight.recs import serving

        # The serving models loaded before the first events arrive (serving.warm is asked
        # of the serving module; until then, the imports: scipy.stats alone takes seconds).
        if hasattr(serving, "warm"):
            serving.warm()
        else:
            import podsight.recs.blend
            import podsight.recs.bundle
            import podsight.recs.data  # noqa: F401

            serving.refresh_users([])

    start = validate.before(EVENTS, ENGAGEMENT_DAILY)
    try:
        report = consume(
            once=once, batch_size=batch_size, on_batch=logged,
            interval_s=DEFAULT_INTERVAL_S if interval_s is None else interval_s,
            on_written=refreshed if refresh else None,
            on_start=warm if refresh and not once else None,
        )  # fmt: skip
    except ConsumerBusy as busy:
        if not once:
            raise  # two long-running consumers: the second is refused
        # A drain (the pipeline's node, `consume --once`) beside a running consumer has
        # nothing to do: that consumer keeps events and engagement_daily current. Not
        # gated either: what the table gained meanwhile is that consumer's, not this run's.
        return ConsumeReport(
            skipped=f"a consumer is running on this lake{busy.who} and keeps events and "
            "engagement_daily current"
        )
    # A drain (the pipeline's way) is checked before its dependents run. A long-running
    # consumer has no dependents to stop, and checking days of writes at SIGTERM would
    # outlast a container's stop timeout: it is not gated.
    return validate.check_consume(start, report) if once else report


@step("events.engagement", report="podsight.events.engagement:EngagementReport")
def events_engagement(*, engine: str | None = None, force: bool = False) -> EngagementReport:
    """Recompute ``engagement_daily`` from the whole ``events`` table in one batch (what
    the consumer maintains row by row), on ``engine`` (``local``: DuckDB; ``spark``: the
    Spark job; default the setting PODSIGHT_ENGINE); nothing when ``events`` has not
    changed since the last recomputation, unless ``force``."""
    from podsight.events.engagement import recompute
    from podsight.lake.tables import ENGAGEMENT_DAILY
    from podsight.pipeline import validate

    start = validate.before(ENGAGEMENT_DAILY)
    report = recompute(engine=engine, force=force)
    return validate.check_engagement_step(start, report)


@step("events.simulate", report="podsight.demo.simulate:SimulationReport")
def simulate_listeners(
    *,
    users: int = 5_000,
    rate: float = 20.0,
    duration_s: float | None = None,
    events: int | None = None,
    seed: int = 42,
    speedup: float = 1.0,
    url: str | None = None,
    token: str | None = None,
    direct: bool = False,
    tastes_path: Path | None = None,
    batch_size: int = 1_000,
    progress: Progress = SILENT,
) -> SimulationReport:
    """Simulated listeners with latent tastes play the catalog; their events go to the
    API at ``url`` (with ``token``) or, ``direct``, straight into the event log."""
    ensure_database()
    from podsight.demo.simulate import run

    return run(
        users=users, rate=rate, duration_s=duration_s, events=events, seed=seed,
        speedup=speedup, url=url, token=token, direct=direct, tastes_path=tastes_path,
        batch_size=batch_size, progress=progress,
    )  # fmt: skip


# --- the demo -----------------------------------------------------------------------------


@step("demo.feeds", report="podsight.demo.load:DemoFeeds")
def build_demo_feeds(out_dir: Path, *, seed: int = 42, shows: int = 24) -> DemoFeeds:
    """Write the seeded demo world's RSS documents into ``out_dir``."""
    from podsight.demo.load import demo_feeds

    return demo_feeds(out_dir, seed=seed, shows=shows)


@step("demo.load", report="podsight.demo.load:DemoLoadReport")
def demo_load(
    *,
    seed: int = 42,
    shows: int = 24,
    apis: bool = True,
    content: bool = True,
    listeners: int = 300,
    progress: Progress = SILENT,
) -> DemoLoadReport:
    """Load data for a local platform through the pipeline graph: the feeds in
    PODSIGHT_FEEDS if set, else the demo world's feeds and (``apis``) its shows on the
    local demo APIs, listed in ``$PODSIGHT_HOME/sources.toml``; then the graph's catalog
    nodes run (sync, match and, with ``content``, transcripts and analysis) while the demo
    server is up; then ``listeners`` simulated listeners (0: none) get 30 days of
    listening history and the graph runs from ``events.consume`` on (engagement, training,
    promotion, the cached lists). The report holds both recorded runs and the catalog
    summary."""
    ensure_database()
    from podsight.demo.load import load_demo
    from podsight.pipeline.runner import run_pipeline

    return load_demo(
        seed=seed, shows=shows, apis=apis, content=content, listeners=listeners,
        run=run_pipeline, simulate=simulate_listeners, progress=progress,
    )  # fmt: skip


@step("demo.labels", report="podsight.demo.truth:LabelCounts")
def demo_labels(*, path: Path, seed: int = 42, shows: int = 24) -> LabelCounts:
    """Write the demo world's ground truth as a labels CSV for ``match`` (``labels``)."""
    from podsight.demo import build_world
    from podsight.demo.truth import write_labels

    return write_labels(build_world(seed=seed, shows=shows), path)


@step("demo.apis", report="podsight.demo.load:DemoApis")
def demo_apis(
    *,
    host: str = "127.0.0.1",
    port: int = 8010,
    seed: int = 42,
    shows: int = 24,
    cache_mode: str = "etag",
    inputs: bool = False,
    on_ready: Callable[[DemoApis], None] | None = None,
) -> DemoApis:
    """Serve the demo world as the Podcast Index, Apple, Spotify and YouTube APIs, and its
    episodes' transcripts and chapters, until interrupted; ``on_ready`` gets the settings
    that point podsight at them. ``inputs``: also write the world's feeds and list its
    shows in ``$PODSIGHT_HOME/sources.toml``, for the pipeline to run on."""
    from podsight.demo.load import demo_apis as serve

    return serve(
        host=host, port=port, seed=seed, shows=shows, cache_mode=cache_mode, inputs=inputs,
        on_ready=on_ready,
    )  # fmt: skip


# --- the directory ------------------------------------------------------------------------


@step("directory.search", report="podsight.directory.service:DirectoryPage")
def directory_search(
    q: str | None,
    *,
    language: str | None = None,
    category: str | None = None,
    page_size: int = 50,  # directory.service.DEFAULT_PAGE_SIZE (not imported before Django)
    cursor: str | None = None,
) -> DirectoryPage:
    """Search every feed of the imported Podcast Index dump by title, author and
    description, best first: one page (``cursor``: where the last one ended).

    No migration check here: the API calls it on every request (the server, like the
    CLI's entry, has set Django up already)."""
    from podsight.bootstrap import setup_django

    setup_django()
    from podsight.directory.service import search

    return search(q, language=language, category=category, page_size=page_size, cursor=cursor)


@step("directory.add", report="podsight.directory.service:AddResult")
def directory_add(
    podcastindex_id: int, *, sources_file: Path | None = None, progress: Progress = SILENT
) -> AddResult:
    """Add a directory feed to the sources file and the catalog, and ingest its feed."""
    ensure_database()
    from podsight.directory.service import add_feed
    from podsight.sources.sync import default_sources_file

    return add_feed(
        podcastindex_id,
        sources_file=sources_file or default_sources_file(),
        ingest=ingest_rss,
        progress=progress,
    )


@step("directory.reindex", report="podsight.directory.index:IndexSync")
def directory_reindex(*, rebuild: bool = False, progress: Progress = SILENT) -> IndexSync:
    """Bring the directory's search index in step with the imported dump (or rebuild it)."""
    from podsight.directory.index import sync_with_lake
    from podsight.directory.service import DirectoryUnavailable

    result, _writer, _lock = sync_with_lake(progress=progress, rebuild=rebuild)
    if result.action == "no_lake":
        raise DirectoryUnavailable(
            "no Podcast Index dump has been imported: run `podsight import podcastindex FILE`"
        )
    return result


# --- content -------------------------------------------------------------------------------


@step("content.transcripts", report="podsight.content.transcripts:TranscriptsReport")
def content_transcripts(
    *,
    limit: int | None = None,
    asr: bool = False,
    concurrency: int = 8,
    progress: Progress = SILENT,
) -> TranscriptsReport:
    """Fetch, parse and store the preferred transcript of every episode whose feed links
    one, incrementally; with ``asr``, transcribe the episodes without a link.

    ``limit``: at most this many episodes, the least recently checked first."""
    if limit is not None and limit < 1:
        raise InputError(f"limit must be at least 1, not {limit}; leave it out for every episode")
    if concurrency < 1:
        raise InputError(f"concurrency must be at least 1, not {concurrency}")
    ensure_database()
    from podsight.content.transcripts import fetch_transcripts
    from podsight.lake.tables import TRANSCRIPTS
    from podsight.pipeline import validate

    start = validate.before(TRANSCRIPTS)
    report = fetch_transcripts(limit=limit, asr=asr, concurrency=concurrency, progress=progress)
    return validate.check_transcripts(start, report)


# --- content: search -----------------------------------------------------------------------


@step("search", report="podsight.content.search:SearchReport")
def search_episodes(
    query: str,
    *,
    channel: int | None = None,
    language: str | None = None,
    published_after: str | None = None,
    limit: int = 10,  # content.search.DEFAULT_LIMIT (not imported before Django)
) -> SearchReport:
    """Episodes whose passages best answer ``query`` (hybrid of vector similarity and
    keyword match), each with its best passages, their times and a deep link; filtered by
    ``channel`` (id), ``language`` (of the channel, ``en`` matches ``en-us``) and
    ``published_after`` (ISO date or time).

    No migration check here: the API calls it on every request (the server, like the
    CLI's entry, has set Django up already)."""
    from podsight.bootstrap import setup_django

    setup_django()
    from podsight.content.search import search

    return search(
        query, channel=channel, language=language, published_after=published_after, limit=limit
    )


@step("content.analyze", report="podsight.content.analyze:AnalysisReport")
def content_analyze(
    *,
    limit: int | None = None,
    episode_ids: Sequence[int] | None = None,
    force: bool = False,
    engine: str | None = None,
    progress: Progress = SILENT,
) -> AnalysisReport:
    """Passages and embeddings, sponsor segments, keywords, topics, chapters, the search
    index and the similar-episode vectors of every episode (or ``episode_ids``), skipping
    those analysed from the same transcript version and embedder unless ``force``.

    ``limit``: analyse at most this many episodes this run; ``engine``: where the new
    passages are embedded (``local``, or ``spark``: the Spark job ``content.embed``;
    default the setting PODSIGHT_ENGINE)."""
    if limit is not None and limit < 1:
        raise InputError(f"limit must be at least 1, not {limit}; leave it out for every episode")
    ensure_database()
    from podsight.content.analyze import analyze_episodes
    from podsight.lake.tables import PASSAGES
    from podsight.pipeline import validate

    start = validate.before(PASSAGES)
    report = analyze_episodes(
        limit=limit, episode_ids=episode_ids, force=force, engine=engine, progress=progress
    )
    return validate.check_analyze(start, report)


# --- recommendations: offline evaluation --------------------------------------------------


@step("recs.evaluate", report="podsight.recs.evaluate:EvaluationReport")
def recs_evaluate(
    dataset: str,
    *,
    models: Sequence[str] | None = None,
    k: int = 10,
    data_dir: Path | None = None,
    tune: bool = False,
    seed: int = 42,
    stratify: str | None = None,
    progress: Progress = SILENT,
) -> EvaluationReport:
    """Every model and the hybrid, beside the popularity and random baselines, on one split
    of ``dataset`` (movielens-100k, movielens-small, lastfm, simulated, lake): P@k, R@k,
    NDCG@k, MAP@k, catalog coverage and novelty (and for simulated listeners the share of
    each list in their true topics), with published figures where there are some.

    ``models``: only these (the baselines always run); ``data_dir``: where the dataset's
    files are (default ``PODSIGHT_TEST_DATA``); ``tune``: choose each model's parameters
    from a small grid on a validation split of the training part; ``stratify``: split
    each ``user``'s or each ``item``'s interactions 75/25 (default: by item on
    movielens-100k, as the benchmark notebook does; by user elsewhere)."""
    from podsight.recs.evaluate import DATASETS, STRATIFY, evaluate

    if dataset not in DATASETS:
        raise InputError(f"no dataset named {dataset!r}; choose from {', '.join(DATASETS)}")
    if k < 1:
        raise InputError(f"k must be at least 1, not {k}")
    if stratify is not None and stratify not in STRATIFY:
        raise InputError(f"stratify by {' or '.join(STRATIFY)}, not {stratify!r}")
    if dataset in ("simulated", "lake"):
        ensure_database()
    return evaluate(
        dataset,
        models=models,
        k=k,
        data_dir=data_dir,
        tune=tune,
        seed=seed,
        stratify=stratify,
        progress=progress,
    )


@step("recs.offline", report="podsight.recs.offline:OfflineReport")
def recs_offline(
    train: Path,
    users: Path,
    out: Path,
    *,
    n: int = 10,
    model: str | None = None,
    progress: Progress = SILENT,
) -> OfflineReport:
    """Train a collaborative-filtering model on an interaction file
    (``user_id,item_id,weight[,timestamp]``) and write the top ``n`` of each listed user to
    ``out`` as ``user_id,rank,item_id,score``, never an item the user has in the file;
    users the file does not know get the most popular items."""
    from podsight.recs.offline import run_offline

    return run_offline(Path(train), Path(users), Path(out), n=n, model=model, progress=progress)


# --- recommendations: the model life cycle -------------------------------------------------


@step("recs.train", report="podsight.recs.lifecycle:TrainReport")
def recs_train(
    *,
    models: Sequence[str] | None = None,
    force: bool = False,
    promote: bool = True,
    if_changed: bool = False,
    engine: str | None = None,
    progress: Progress = SILENT,
) -> TrainReport:
    """Fit the hybrid recommender on the lake's listening (``models``: its candidate
    sources, default all that the data supports) and save it as a new version under
    ``$PODSIGHT_HOME/models/``; with ``promote``, promote it when its validation NDCG@10
    does not fall below the serving version's by more than
    PODSIGHT_RECS_PROMOTE_TOLERANCE (or ``force``), and then precompute every known
    user's list; without, it stays a candidate (``recs.promote`` with version ``latest``).
    ``if_changed``: train nothing (status ``skipped``) when the newest version was fitted
    on the same lake table versions and catalog, or the lake holds no listening yet.
    ``engine``: where the ALS candidate's factors are fitted (``local``: implicit;
    ``spark``: the Spark job ``recs.train_als``; default the setting PODSIGHT_ENGINE)."""
    ensure_database()
    from podsight.recs.lifecycle import train

    return train(
        models, force=force, promote=promote, if_changed=if_changed, engine=engine,
        progress=progress,
    )  # fmt: skip


@step("recs.promote", report="podsight.recs.lifecycle:LifecycleReport")
def recs_promote(
    version: str, *, force: bool = False, progress: Progress = SILENT
) -> LifecycleReport:
    """Make a trained version the serving one (through the promotion gate unless
    ``force``) and precompute every known user's list with it. ``latest``: the newest
    version trained, if it is a candidate (nothing to do, not an error, when none is, or it
    already serves; a refused one is marked rejected)."""
    ensure_database()
    from podsight.recs.lifecycle import promote

    return promote(version, force=force, progress=progress)


@step("recs.refresh", report="podsight.recs.lifecycle:RefreshReport")
def recs_refresh(*, progress: Progress = SILENT) -> RefreshReport:
    """Precompute the lists of every known listener with the serving version:
    incrementally (the users the lake wrote listening for since the last precompute, and
    those without a list), everyone when the serving version changed."""
    ensure_database()
    from podsight.recs.lifecycle import refresh

    return refresh(progress=progress)


@step("recs.rollback", report="podsight.recs.lifecycle:LifecycleReport")
def recs_rollback(*, progress: Progress = SILENT) -> LifecycleReport:
    """Bring back the version that served before the serving one (its lists recomputed);
    the rolled-back version becomes a candidate again."""
    ensure_database()
    from podsight.recs.lifecycle import rollback

    return rollback(progress=progress)


@step("recs.ab", report="podsight.recs.lifecycle:LifecycleReport")
def recs_ab(
    version: str | None = None,
    *,
    share: float = 0.2,
    stop: bool = False,
    progress: Progress = SILENT,
) -> LifecycleReport:
    """A/B test: ``version`` serves ``share`` of users (by a stable hash of their id)
    beside the serving version; ``stop`` ends the test."""
    ensure_database()
    from podsight.recs.lifecycle import start_ab, stop_ab

    if stop:
        return stop_ab(progress=progress)
    if version is None:
        raise InputError("name the version to test (or stop the test running)")
    return start_ab(version, share, progress=progress)


@step("recs.models", report="podsight.recs.lifecycle:ModelList")
def recs_models(*, online: bool = True) -> ModelList:
    """Every trained version, newest first: status, A/B share, parameters, data version,
    offline metrics and (``online``) the play-through rate of its impressions.

    No migration check here: the API calls it on every request."""
    from podsight.bootstrap import setup_django

    setup_django()
    from podsight.recs.lifecycle import list_models

    return list_models(online=online)


# --- the pipeline graph ----------------------------------------------------------------------


@step("pipeline.run", report="podsight.pipeline.runner:PipelineRunReport")
def pipeline_run(
    *,
    only: Sequence[str] = (),
    start: str | None = None,
    cadences: Sequence[str] = ("daily",),
    engine: str | None = None,
    trigger: str = "cli",
    retries: bool = True,
    wait: float = 0.0,
    progress: Progress = SILENT,
) -> PipelineRunReport:
    """Run the pipeline graph in dependency order (``only`` these nodes, or ``start`` and
    what depends on it, or every node of ``cadences``), with retries (unless ``retries`` is
    false); each run and node is recorded (docs/pipeline.md, Running the graph). While
    another run holds the lock: refused, or after ``wait`` seconds of waiting for it."""
    ensure_database()
    from podsight.pipeline.runner import run_pipeline

    return run_pipeline(
        only=only, start=start, cadences=cadences, engine=engine, trigger=trigger,
        retries=retries, lock_wait=wait, progress=progress,
    )  # fmt: skip


@step("pipeline.runs", report="podsight.pipeline.runner:PipelineRunList")
def pipeline_runs(*, limit: int = 10) -> PipelineRunList:
    """The last ``limit`` pipeline runs, newest first, with each node's outcome."""
    if not 1 <= limit <= 1000:
        raise InputError(f"limit must be between 1 and 1000, not {limit}")
    ensure_database()
    from podsight.pipeline.runner import recent_runs

    return recent_runs(limit)


# --- operations ---------------------------------------------------------------------------


@step("pipeline.schedule", report="podsight.pipeline.schedule:ScheduleReport")
def pipeline_schedule(
    *,
    every: float = 24 * 3600.0,
    weekly_every: float = 7 * 24 * 3600.0,
    engine: str | None = None,
    progress: Progress = SILENT,
) -> ScheduleReport:
    """Run the daily graph every ``every`` seconds and its weekly branch every
    ``weekly_every``, until SIGTERM or SIGINT: never two runs at once (the runner's lock;
    a due run waits while another holds it), catching up at start on a cadence whose last
    complete recorded run is older than its interval (or that never ran). The first signal
    ends the current run after its node at hand (recorded interrupted), a second one
    interrupts that node."""
    ensure_database()
    from podsight.pipeline.schedule import schedule

    return schedule(every=every, weekly_every=weekly_every, engine=engine, progress=progress)


@step("migrate", report="podsight.pipeline.reports:Migrated")
def migrate() -> Migrated:
    """Apply pending database migrations (every step that needs the database does too)."""
    from podsight.pipeline.reports import Migrated

    return Migrated(ensure_database())


# --- the lake and the database: history, restore, backup ---------------------------------


@step("lake.history", report="podsight.lake.history:LakeHistory")
def lake_history(table: str, *, limit: int | None = 20) -> LakeHistory:
    """A lake table's versions, newest first (``limit``: at most this many; None: all):
    time, operation, rows added and podsight's commit metadata."""
    from podsight.lake.history import history

    return history(table, limit=limit)


@step("lake.restore", report="podsight.lake.history:LakeRestored")
def lake_restore(table: str, *, version: int) -> LakeRestored:
    """Make a lake table's content that of an older ``version`` (Delta time travel), as a
    new version: nothing is lost, and restoring the version before undoes it."""
    import dataclasses

    from podsight.lake.history import restore

    done = restore(table, version)
    if not done.episodes_removed:
        return done
    # The database records these episodes' work as done: mark it undone, or the next run
    # would skip them and their rows would stay gone.
    ensure_database()
    ids = done.episodes_removed
    if table == "passages":
        from podsight.content.analyze import forget_analyses

        count = forget_analyses(ids)
        redo = (
            f"{count} episode(s) lost their passages: marked not analysed, so the next "
            "`podsight content analyze` (or `podsight pipeline run`) analyses them again"
        )
    else:
        from podsight.content.transcripts import forget_stored

        rss, asr = forget_stored(ids)
        redo = (
            f"{rss + asr} episode(s) lost their transcript: marked not stored, so the next "
            "`podsight content transcripts` (or `podsight pipeline run`) fetches them again"
        )
        if asr:
            redo += f" ({asr} transcribed from audio: `podsight content transcripts --asr`)"
    return dataclasses.replace(done, redo=redo)


@step("db.backup", report="podsight.backup:DbBackup")
def db_backup(path: Path) -> DbBackup:
    """Write a consistent copy of the database to ``path`` while it runs: SQLite's online
    backup API, or ``pg_dump -Fc`` for PostgreSQL."""
    from podsight.bootstrap import setup_django

    setup_django()
    from podsight.backup import backup_database

    return backup_database(Path(path))


@step("db.restore", report="podsight.backup:DbBackup")
def db_restore(path: Path, *, force: bool = False) -> DbBackup:
    """Replace the database's content with a backup from ``db.backup`` (SQLite's backup
    API; ``pg_restore --clean`` for PostgreSQL); stop the writers first. The current
    database is backed up next to ``path`` first; a backup of another schema (its
    migrations differ from this code's) is refused unless ``force``."""
    from podsight.bootstrap import setup_django

    setup_django()
    from podsight.backup import restore_database

    return restore_database(Path(path), force=force)


@step("dashboard", report="podsight.pipeline.reports:DashboardServed")
def dashboard(
    *,
    host: str = "127.0.0.1",
    port: int = 8501,
    api_url: str | None = None,
    progress: Progress = SILENT,
) -> DashboardServed:
    """Serve the dashboard (Streamlit), a client of the REST API at ``api_url`` (default
    ``PODSIGHT_DASHBOARD_API_URL``, else http://127.0.0.1:8000), until interrupted."""
    from podsight import conf
    from podsight.dashboard.client import DEFAULT_API_URL
    from podsight.dashboard.serve import api_answers, serve_dashboard
    from podsight.pipeline.reports import DashboardServed
    from podsight.serving import check_address

    api_url = (api_url or conf.env("PODSIGHT_DASHBOARD_API_URL") or DEFAULT_API_URL).rstrip("/")
    if not api_url.startswith(("http://", "https://")):
        raise InputError(f"--api must be an http(s) URL, not {api_url!r}")
    check_address(host, port)
    shown = f"[{host}]" if ":" in host else host
    progress.note(f"dashboard on http://{shown}:{port}/ using the API at {api_url}; Ctrl-C stops")
    if not api_answers(api_url):
        progress.note(
            f"the API at {api_url} does not answer yet: start it with `podsight serve` "
            "(the dashboard says so on each page until it does)"
        )
    status = serve_dashboard(host, port, api_url)
    return DashboardServed(host, port, api_url, status)


@step("serve", report="podsight.pipeline.reports:Served")
def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    threads: int = 8,
    workers: int = 1,
    progress: Progress = SILENT,
) -> Served:
    """Serve the REST API (and /api/docs) until interrupted: one waitress process, or
    gunicorn pre-forking ``workers`` processes."""
    from podsight.pipeline.reports import Served
    from podsight.serving import check_address, check_serving, serve_gunicorn, serve_waitress
    from podsight.wsgi import application

    check_address(host, port)  # a host that is not one, a port in use
    check_serving(host)  # a non-loopback host with the built-in secret key is refused
    shown = f"[{host}]" if ":" in host else host
    progress.note(
        f"serving on http://{shown}:{port}/api/channels  (docs: /api/docs) "
        f"with {workers} process(es) × {threads} thread(s); Ctrl-C stops"
    )
    if workers == 1:
        serve_waitress(application, host=host, port=port, threads=threads)
    else:
        serve_gunicorn(application, host=host, port=port, workers=workers, threads=threads)
    return Served(host, port, workers, threads)
