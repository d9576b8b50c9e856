"""The ``podsight`` command line. Commands are thin: they call pipeline steps by name.

The entry (:class:`_Root`, :func:`_entry`) prepares everything once, before any command
runs: the data directory, logging, Django and the database schema; and it is where
errors meet the user: a :class:`~podsight.errors.PodsightError` becomes one ``error: …``
line and its exit code (2 bad usage, 1 failed run); anything else is a bug, logged with
its traceback to the log file and reported in one line.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup
from typer.exceptions import TyperException

from podsight import conf
from podsight.bootstrap import start
from podsight.cli.directory import directory_app
from podsight.cli.output import console, err, fail
from podsight.errors import PodsightError
from podsight.pipeline.steps import STEPS
from podsight.progress import step_progress

internal_log = logging.getLogger("podsight.internal")


class _Root(TyperGroup):
    """The top command: every subcommand runs inside its :meth:`invoke`."""

    def invoke(self, ctx):  # noqa: ANN001, ANN201 - click's signature
        try:
            return super().invoke(ctx)
        except (TyperException, typer.Exit, typer.Abort):
            raise
        except PodsightError as exc:
            raise fail(str(exc), exc.exit_code) from exc
        except Exception as exc:
            argv = " ".join(sys.argv[1:])[:200]
            internal_log.error("unexpected error in `podsight %s`", argv, exc_info=True)
            if os.environ.get("PODSIGHT_LOG_LEVEL", "").upper() in ("DEBUG", "INFO"):
                err.print_exception()
            where = _log_path()
            raise fail(
                f"podsight failed unexpectedly ({type(exc).__name__}: {exc}). This is a bug; "
                f"the traceback is in {where}; please report it"
            ) from exc


def _log_path() -> str:
    from podsight.logs import log_file

    try:
        return str(log_file(conf.podsight_home()))
    except OSError:
        return "the log file"


app = typer.Typer(
    cls=_Root,
    help="podsight: open podcast data platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _entry(
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Show every log line (API calls, batches) on the console too; they always "
            "go to PODSIGHT_HOME/logs/podsight.log.",
        ),
    ] = False,
) -> None:
    """podsight: open podcast data platform."""
    applied = start(verbose=verbose)
    if applied:
        err.print(f"[dim]database schema brought up to date ({len(applied)} migrations)[/]")


ingest_app = typer.Typer(help="Bring catalog data in from a source.", no_args_is_help=True)
demo_app = typer.Typer(help="The seeded demo world.", no_args_is_help=True)
import_app = typer.Typer(help="Import bulk catalog dumps.", no_args_is_help=True)
discover_app = typer.Typer(
    help="Find new shows and add them to the sources file.", no_args_is_help=True
)
app.add_typer(ingest_app, name="ingest")
app.add_typer(demo_app, name="demo")
app.add_typer(import_app, name="import")
tokens_app = typer.Typer(
    help="API tokens of client applications (keys are shown once, only digests are kept).",
    no_args_is_help=True,
)
users_app = typer.Typer(help="Users that API tokens can act for.", no_args_is_help=True)
app.add_typer(discover_app, name="discover")
links_app = typer.Typer(
    help="Review matched links: list, confirm, reject or force them.", no_args_is_help=True
)
app.add_typer(links_app, name="links")
app.add_typer(tokens_app, name="tokens")
app.add_typer(users_app, name="users")
events_app = typer.Typer(help="Listening events: the log and the lake.", no_args_is_help=True)
app.add_typer(events_app, name="events")
simulate_app = typer.Typer(help="Simulated activity for demos and tests.", no_args_is_help=True)
app.add_typer(simulate_app, name="simulate")
app.add_typer(directory_app, name="directory")


def _print_report(report) -> None:
    table = Table(title="feeds", show_lines=False, expand=False)
    for column in ("status", "feed", "title", "episodes", "new", "upd", "gone", "notes"):
        table.add_column(column, overflow="fold")
    colours = {"new": "green", "updated": "cyan", "incomplete": "yellow", "failed": "red"}
    for o in report.outcomes:
        colour = colours.get(o.status, "white")
        notes = o.error or ", ".join(o.repairs)
        table.add_row(
            f"[{colour}]{o.status}[/]", escape(o.location[-48:]), escape((o.title or "")[:40]),
            str(o.episodes_total), str(o.episodes_new), str(o.episodes_updated),
            str(o.episodes_vanished), escape(notes[:120]),
        )  # fmt: skip
    console.print(table)
    statuses = ("new", "updated", "unchanged", "not-modified", "incomplete", "failed")
    counts = {s: report.count(s) for s in statuses}
    episodes = sum(o.episodes_new for o in report.outcomes)
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    console.print(f"[bold]{len(report.outcomes)} feeds[/]: {summary}; {episodes} new episodes")


def _ingest(locations: list[str], concurrency: int, progress: bool) -> None:
    report = STEPS["ingest.rss"](locations, concurrency=concurrency, progress=progress, console=err)
    _print_report(report)
    if report.all_failed:
        err.print("[red]every feed failed[/]; see the notes column for what to fix")
        raise typer.Exit(1)


@ingest_app.command("rss")
def ingest_rss(
    locations: Annotated[list[str], typer.Argument(help="Feed URLs, files or folders of feeds.")],
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Parallel downloads.")] = 8,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Fetch, parse and store RSS/Atom feeds; prints a per-feed summary.

    Exits non-zero only when every feed failed."""
    _ingest(locations, concurrency, progress)


@demo_app.command("load")
def demo_load(
    seed: Annotated[int, typer.Option(help="Seed of the demo world.")] = 42,
    shows: Annotated[int, typer.Option(min=1, max=5000, help="Number of demo shows.")] = 24,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    apis: Annotated[
        bool, typer.Option(help="Also sync the demo shows from the local demo APIs.")
    ] = True,
) -> None:
    """Load data for a local platform: the feeds in PODSIGHT_FEEDS if set, else the demo world.

    The demo world's RSS documents are written under PODSIGHT_HOME/demo/feeds and go
    through the same ingestion path as any real feed; then a local server answers as
    Podcast Index, Apple, Spotify and YouTube would for the same shows, and the demo
    shows are synced from it through the real connectors."""
    named = [x for x in re.split(r"[\s,]+", os.environ.get("PODSIGHT_FEEDS", "")) if x]
    if named:
        err.print(f"ingesting {len(named)} feed(s) from PODSIGHT_FEEDS")
        _ingest(named, 8, progress)
    else:
        out_dir = conf.podsight_home() / "demo" / "feeds"
        paths = STEPS["demo.feeds"](out_dir, seed=seed, shows=shows)
        err.print(f"wrote {len(paths)} demo feed documents to {out_dir}")
        _ingest([str(out_dir)], 8, progress)
        if apis:
            _demo_sync(seed, shows, progress)
    # One show on several platforms is one channel only once matching has linked them.
    result = _run_match(full=False, progress=progress)
    console.print(f"matching: {escape(str(result))}")
    _print_catalog_summary()


DEMO_API_PORT = 8010


@demo_app.command("labels")
def demo_labels(
    path: Annotated[Path, typer.Argument(help="Where to write the labels CSV.")],
    seed: Annotated[int, typer.Option(help="Seed of the loaded demo world.")] = 42,
    shows: Annotated[int, typer.Option(min=1, max=5000, help="Shows of the loaded world.")] = 24,
) -> None:
    """Write the ground truth of the loaded demo world as a labels CSV for
    ``podsight match --report --labels PATH``."""
    from podsight.demo import build_world
    from podsight.demo.truth import write_labels

    counts = write_labels(build_world(seed=seed, shows=shows), path)
    console.print(
        f"wrote {path}: {counts.channel_records} channel and {counts.episode_records} episode "
        f"records labelled ({counts.world_shows} shows, {counts.world_episodes} episodes)"
    )


def _demo_sync(seed: int, shows: int, progress: bool) -> None:
    from podsight.demo import build_world
    from podsight.demo.apis import build_demo_api_server, demo_show_specs, pointed_at
    from podsight.sources.sync import print_sync_summary

    world = build_world(seed=seed, shows=shows)
    specs = demo_show_specs(world)
    sources_file = conf.podsight_home() / "demo" / "sources.toml"
    sources_file.write_text("".join("\n" + s.to_toml() for s in specs).lstrip(), "utf-8")
    try:
        # A stable address keeps request URLs, and so the HTTP cache, valid across runs.
        server = build_demo_api_server(world, port=DEMO_API_PORT)
    except OSError:
        server = build_demo_api_server(world)
    with server, pointed_at(server):
        err.print(
            f"demo APIs (Podcast Index, Apple, Spotify, YouTube) on {server.base_url}; "
            f"syncing {len(specs)} shows listed in {sources_file}"
        )
        report = STEPS["sources.sync"](specs, progress=progress, console=err)
    print_sync_summary(report, console)


@demo_app.command("apis")
def demo_apis(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = DEMO_API_PORT,
    seed: Annotated[int, typer.Option(help="Seed of the demo world.")] = 42,
    shows: Annotated[int, typer.Option(min=1, max=5000, help="Number of demo shows.")] = 24,
    cache_mode: Annotated[str, typer.Option(help="Caching headers: etag, max-age, ...")] = "etag",
) -> None:
    """Serve the demo world as the Podcast Index, Apple, Spotify and YouTube APIs."""
    from podsight.demo import build_world
    from podsight.demo.apis import (
        DEMO_CREDENTIALS,
        DEMO_RATE_LIMITS,
        build_demo_api_server,
        demo_show_specs,
    )

    world = build_world(seed=seed, shows=shows)
    server = build_demo_api_server(world, host=host, port=port, cache_mode=cache_mode)
    sources_file = conf.podsight_home() / "demo" / "sources.toml"
    sources_file.parent.mkdir(parents=True, exist_ok=True)
    sources_file.write_text(
        "".join("\n" + s.to_toml() for s in demo_show_specs(world)).lstrip(), "utf-8"
    )
    console.print("Point podsight at these APIs with:")
    for name, value in {**server.env(), **DEMO_CREDENTIALS, **DEMO_RATE_LIMITS}.items():
        console.print(f"  export {name}={value}")
    console.print(f"then: podsight sync --sources {sources_file}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


@app.command()
def sync(
    sources: Annotated[
        Path | None,
        typer.Option(
            help="Sources file (TOML, [[shows]] tables); default $PODSIGHT_HOME/sources.toml."
        ),
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option(
            help="Only these sources (repeatable): rss, podcastindex, apple, spotify, youtube."
        ),
    ] = None,
    cache: Annotated[bool, typer.Option(help="Use the HTTP response cache.")] = True,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Sync the listed shows from every source, incrementally, and print a summary.

    A [[shows]] table has `name` and any of rss_url, itunes_id, podcastindex_id,
    spotify_id, youtube_channel_id, youtube_handle. Credentials come from the
    environment (SPOTIFY_CLIENT_ID/SECRET, YOUTUBE_API_KEY, PODCASTINDEX_API_KEY/SECRET);
    a source without them is skipped. Exits 1 when every source that ran failed."""
    from podsight.sources.sync import default_sources_file, load_sources_file, print_sync_summary

    specs = load_sources_file(sources or default_sources_file())
    report = STEPS["sources.sync"](
        specs, sources=source, cache=cache, progress=progress, console=err
    )
    print_sync_summary(report, console)
    if report.all_failed:
        raise typer.Exit(1)


@import_app.command("podcastindex")
def import_podcastindex(
    dump: Annotated[
        Path, typer.Argument(help="The Podcast Index SQLite dump (podcastindex_feeds.db).")
    ],
    batch_size: Annotated[int, typer.Option(min=100, help="Rows read per batch.")] = 25_000,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted import.")] = True,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Import the Podcast Index dump into the lake, linking feeds the catalog shares keys with."""
    if not dump.is_file():
        raise fail(f"{dump} is not a file; give the path of podcastindex_feeds.db", 2)
    report = STEPS["podcastindex.import_dump"](
        dump, batch_size=batch_size, resume=resume, progress=progress, console=err
    )
    # import_dump printed its own summary.
    if not report.finished:
        raise typer.Exit(1)


def _print_discover(report) -> None:
    for source, why in report.skipped.items():
        err.print(f"[yellow]skipped {source}[/]: {escape(why)}")
    for source, why in report.errors.items():
        err.print(f"[red]{source}[/]: {escape(why)}")
    table = Table(title="shows found")
    for column in ("source", "id", "title", "feed"):
        table.add_column(column, overflow="fold")
    for show in report.found:
        table.add_row(
            show.source,
            escape(show.external_id),
            escape(str(show.data.get("title") or "")[:60]),
            escape(str(show.data.get("feed_url") or "")[:60]),
        )
    console.print(table)
    console.print(f"{len(report.added)} new show(s) added to the sources file")
    if not report.found and (report.errors or report.skipped):
        failed = sorted({*report.errors, *report.skipped})
        raise fail(
            f"nothing found: no source could be asked ({', '.join(failed)}; see above); "
            "set the sources' credentials (README, Settings) or check the network"
        )


@discover_app.command("trending")
def discover_trending(
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 10,
    sources: Annotated[Path | None, typer.Option(help="Sources file to add shows to.")] = None,
) -> None:
    """Add Podcast Index's trending shows to the catalog and the sources file."""
    from podsight.sources.sync import default_sources_file

    _print_discover(STEPS["discover.trending"](sources or default_sources_file(), limit=limit))


@discover_app.command("search")
def discover_search(
    term: Annotated[str, typer.Argument(help="What to search for.")],
    limit: Annotated[int, typer.Option(min=1, max=200)] = 10,
    sources: Annotated[Path | None, typer.Option(help="Sources file to add shows to.")] = None,
) -> None:
    """Search Apple Podcasts and Podcast Index; add what is found."""
    from podsight.sources.sync import default_sources_file

    _print_discover(STEPS["discover.search"](term, sources or default_sources_file(), limit=limit))


@app.command()
def replay(
    source: Annotated[str | None, typer.Option(help="Only this source's payloads.")] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Normalise and store the kept API payloads again, without calling any API."""
    report = STEPS["sources.replay"](source, progress=progress, console=err)
    s = report.store
    console.print(
        f"replayed {report.payloads} payloads ({report.skipped} skipped, "
        f"{len(report.errors)} unreadable): shows {s.shows_new} new, {s.shows_updated} updated; "
        f"episodes {s.episodes_new} new, {s.episodes_updated} updated"
    )
    for error in report.errors[:20]:
        err.print(f"  [red]✗[/] {escape(error)}")


@app.command()
def match(
    full: Annotated[
        bool, typer.Option(help="Score every record again, not only those new since the last run.")
    ] = False,
    report: Annotated[
        bool, typer.Option("--report", help="Print link counts per source pair afterwards.")
    ] = False,
    labels: Annotated[
        Path | None,
        typer.Option(help="CSV of known record pairs: print precision, recall, F1 and errors."),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Link Spotify and YouTube records to the shows they are, and pair episodes across
    sources (run after a sync; links made earlier, and people's overrides, are kept)."""
    from podsight.matching.report import read_labels

    label_sets = read_labels(labels) if labels is not None else None  # fail before matching
    result = _run_match(full=full, progress=progress)
    console.print(escape(str(result)))
    for explanation in result.links[:50]:
        console.print(f"  [green]✓[/] {escape(explanation)}")
    if len(result.links) > 50:
        console.print(f"  … and {len(result.links) - 50} more channel links")
    if report or label_sets is not None:
        _print_match_report(label_sets)


def _run_match(*, full: bool, progress: bool):
    with step_progress("matching", err, enabled=progress) as bar:
        task = bar.add_task("channels", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return STEPS["match"](full=full, on_channel=advance)


def _print_catalog_summary() -> None:
    from podsight.matching.report import catalog_summary

    summary = catalog_summary()
    console.print("[bold]catalog[/]:")
    for line in summary.lines():
        console.print(f"  {escape(line)}")
    if summary.channels.needs_review or summary.episodes.needs_review:
        console.print("  review them with `podsight links list` (confirm, reject or force)")


def _cli_actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _link_action(action, *args, **kwargs):
    return action(*args, actor=_cli_actor(), **kwargs)


EntityArg = Annotated[str, typer.Argument(help="channel or episode")]
RecordArg = Annotated[str, typer.Argument(help="Record id, or source:external_id.")]


@links_app.command("list")
def links_list(
    status: Annotated[
        str | None, typer.Option(help="auto, needs_review or confirmed.")
    ] = "needs_review",
    entity: Annotated[str | None, typer.Option(help="channel or episode.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
) -> None:
    """Matched links, newest first (by default those that need review)."""
    from podsight.matching.review import link_rows

    table = Table(title=f"links ({status or 'any status'})")
    for name in ("entity", "record", "canonical", "status", "confidence", "explanation"):
        table.add_column(name)
    for name, queryset in link_rows(entity=entity, status=status or None).items():
        canonical = "channel_id" if name == "channel" else "episode_id"
        for record in queryset[:limit]:
            table.add_row(
                name,
                f"{record.pk} {record.source}:{record.external_id}",
                str(getattr(record, canonical)),
                record.link_status,
                f"{record.link_confidence:.3f}" if record.link_confidence is not None else "",
                escape(record.link_explanation[:120]),
            )
    console.print(table)


@links_app.command("confirm")
def links_confirm(entity: EntityArg, record: RecordArg, reason: str = "") -> None:
    """Mark a matched link right; no later run reconsiders it."""
    from podsight.matching.review import confirm_link

    done = _link_action(confirm_link, entity, record, reason=reason)
    console.print(f"confirmed {entity} record {done.pk}")


@links_app.command("reject")
def links_reject(
    entity: EntityArg,
    record: RecordArg,
    other: Annotated[str | None, typer.Option(help="Only the pair with this record.")] = None,
    reason: str = "",
) -> None:
    """Take a record out of the row it was matched into; it is never linked there again."""
    from podsight.matching.review import reject_link

    target = _link_action(reject_link, entity, record, other=other, reason=reason)
    console.print(f"rejected: {entity} record {record} is now in {entity} {target}")


@links_app.command("force")
def links_force(entity: EntityArg, record: RecordArg, other: RecordArg, reason: str = "") -> None:
    """Make two records one channel/episode, whatever the matcher says."""
    from podsight.matching.review import force_link

    survivor = _link_action(force_link, entity, record, other, reason=reason)
    console.print(f"forced: both records are now {entity} {survivor}")


def _print_match_report(label_sets) -> None:
    from podsight.matching.report import evaluate, source_pair_counts

    for entity in ("channel", "episode"):
        table = Table(title=f"{entity} links per source pair")
        for name in ("sources", "matched", "only left", "only right", "needs review"):
            table.add_column(name, justify="left" if name == "sources" else "right")
        for row in source_pair_counts(entity):
            table.add_row(
                f"{row.left} ~ {row.right}",
                str(row.matched),
                str(row.only_left),
                str(row.only_right),
                str(row.needs_review),
            )
        console.print(table)
    if not label_sets:
        return
    for entity, labels in label_sets.items():
        if not labels.records:
            continue
        result = evaluate(labels)
        console.print(
            f"{entity}: precision {result.precision:.4f} · recall {result.recall:.4f} · "
            f"F1 {result.f1:.4f} ({result.correct_pairs} right of {result.predicted_pairs} "
            f"predicted pairs, {result.true_pairs} true pairs, {result.labelled} labelled records)"
        )
        for line in result.unresolved[:20]:
            console.print(f"  [yellow]?[/] unresolved label {escape(line)}")
        for line in result.false_links:
            console.print(f"  [red]✗ wrong link[/] {escape(line)}")
        for line in result.missed_links:
            console.print(f"  [red]✗ missed[/] {escape(line)}")


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="Label of the client application, unique.")],
    scope: Annotated[
        list[str] | None,
        typer.Option(
            help="Scope granted (repeatable): events:write, links:review, staff. "
            "Default: events:write."
        ),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(help="Username the token acts for (see `podsight users create`)."),
    ] = None,
) -> None:
    """Create a token and print its key, once: only a digest of it is kept.

    The key goes to stdout alone, the notes to stderr, so `KEY=$(podsight tokens create app)`
    captures just the key."""
    from django.contrib.auth import get_user_model

    from podsight.accounts.services import create_token

    owner = None
    if user is not None:
        owner = get_user_model().objects.filter(username=user).first()
        if owner is None:
            raise fail(
                f"no user named {user!r}; create it with `podsight users create USERNAME`", 2
            )
    token, key = create_token(name, scope or ["events:write"], user=owner)
    acts_for = f", acting for user {escape(user)}" if user else ""
    err.print(
        f"created token {escape(token.name)!r} ({token.prefix}…) with scopes "
        f"{', '.join(token.scopes) or 'none'}{acts_for}. Its key follows; it cannot be shown "
        "again, so keep it now:"
    )
    typer.echo(key)
    err.print("Send it with every request as the header:  Authorization: Token <key>")


@tokens_app.command("list")
def tokens_list() -> None:
    """List tokens: name, key prefix, scopes, user, created, last used, revoked (never keys)."""
    from podsight.accounts.models import ApiToken

    tokens = list(ApiToken.objects.select_related("user"))
    if not tokens:
        console.print("no tokens yet; create one with `podsight tokens create NAME`")
        return
    table = Table(title="API tokens")
    for column in ("name", "prefix", "scopes", "user", "created", "last used", "revoked"):
        table.add_column(column, overflow="fold")
    for t in tokens:
        table.add_row(
            escape(t.name), f"{t.prefix}…", ", ".join(t.scopes) or "-",
            escape(t.user.get_username()) if t.user else "-", _when(t.created_at),
            _when(t.last_used_at), f"[red]{_when(t.revoked_at)}[/]" if t.revoked_at else "-",
        )  # fmt: skip
    console.print(table)


@tokens_app.command("revoke")
def tokens_revoke(name: Annotated[str, typer.Argument(help="Name of the token.")]) -> None:
    """Revoke a token: requests with its key get 401 from then on. The row stays listed."""
    from podsight.accounts.services import revoke_token

    token = revoke_token(name)
    console.print(
        f"token {escape(token.name)!r} ({token.prefix}…) is revoked since "
        f"{_when(token.revoked_at)}; requests with its key are refused"
    )


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="The new user's username.")],
    password: Annotated[
        str,
        typer.Option(
            envvar="PODSIGHT_USER_PASSWORD",
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="Password; prefer the environment variable or the prompt (given with no "
            "option), which keep it out of the shell history.",
        ),
    ],
    staff: Annotated[bool, typer.Option("--staff", help="Mark the user as staff.")] = False,
) -> None:
    """Create a user (password hashed by Django) that tokens can act for (`--user`)."""
    from podsight.accounts.services import create_user

    user = create_user(username, password, staff=staff)
    console.print(
        f"created {'staff ' if staff else ''}user {escape(user.get_username())!r}; "
        f"give it a token with `podsight tokens create NAME --user {escape(user.get_username())}`"
    )


@events_app.command("consume")
def events_consume(
    once: Annotated[
        bool, typer.Option("--once", help="Drain the log and stop (batch use).")
    ] = False,
    batch_size: Annotated[
        int, typer.Option(min=1, max=1_000_000, help="Most events per micro-batch.")
    ] = 50_000,
    interval: Annotated[
        float, typer.Option(min=0.1, help="Seconds between polls of an empty log.")
    ] = 5.0,
) -> None:
    """Write logged events to the lake (`events`, `engagement_daily`), exactly once.

    Runs until Ctrl-C / SIGTERM (finishing the batch at hand) unless --once."""
    batches = logging.getLogger("podsight.events.consume")

    def show(report) -> None:
        # One line per micro-batch: the log file's (the console's with --verbose).
        batches.info("batch: %s", report)

    if not once:
        err.print(
            f"consuming events into the lake until Ctrl-C; each batch is logged to {_log_path()}"
        )
    with err.status("consuming events…") if once else _nullcontext():
        report = STEPS["events.consume"](
            once=once, batch_size=batch_size, interval_s=interval, on_batch=show
        )
    console.print(f"consumed: {escape(str(report))}")


def _nullcontext():
    from contextlib import nullcontext

    return nullcontext()


@app.command()
def migrate() -> None:
    """Apply pending database migrations (other commands do this themselves)."""
    console.print("database schema is current")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    threads: Annotated[int, typer.Option(min=1, max=64, help="Threads per process.")] = 8,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Processes. 1: waitress, one process. More: gunicorn pre-forks that many "
            "(Python runs one thread at a time per process; event ingestion needs the cores).",
        ),
    ] = 1,
) -> None:
    """Serve the REST API (and /api/docs)."""
    from podsight.serving import check_address, check_serving, serve_gunicorn, serve_waitress
    from podsight.wsgi import application

    check_address(host, port)  # a host that is not one, a port in use
    check_serving(host)  # a non-loopback host with the built-in secret key is refused
    shown = f"[{host}]" if ":" in host else host
    err.print(
        f"serving on http://{shown}:{port}/api/channels  (docs: /api/docs) "
        f"with {workers} process(es) × {threads} thread(s); Ctrl-C stops"
    )
    if workers == 1:
        serve_waitress(application, host=host, port=port, threads=threads)
    else:
        serve_gunicorn(application, host=host, port=port, workers=workers, threads=threads)


@simulate_app.command("listeners")
def simulate_listeners(
    users: Annotated[int, typer.Option(min=1, max=1_000_000, help="Simulated listeners.")] = 5000,
    rate: Annotated[
        float, typer.Option(min=0.001, help="Events per simulated second, overall.")
    ] = 20.0,
    duration: Annotated[
        str | None, typer.Option(help="Simulated time to run: 60s, 5m, 1h, 1h30m…")
    ] = None,
    events: Annotated[int | None, typer.Option(min=1, help="Stop after this many events.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the listeners' tastes.")] = 42,
    speedup: Annotated[
        float,
        typer.Option(
            help="Simulated seconds per real second (1 = real time; 0 = as fast as possible)."
        ),
    ] = 1.0,
    url: Annotated[
        str | None, typer.Option(help="Base URL of a podsight API (POST {url}/api/events).")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(envvar="PODSIGHT_SIMULATOR_TOKEN", help="API token (events:write) for --url."),
    ] = None,
    direct: Annotated[
        bool, typer.Option("--direct", help="Write into the event log directly, not over HTTP.")
    ] = False,
    tastes: Annotated[
        Path | None,
        typer.Option(
            help="Where to write the true tastes (default $PODSIGHT_HOME/simulated/tastes.json)."
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=5000, help="Events per request.")] = 1000,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Simulated listeners with latent tastes play the catalog; their events go to the API
    (--url, --token) or straight into the event log (--direct).

    Runs for --duration of simulated time and/or --events events (until Ctrl-C with
    neither); the simulated clock runs --speedup times as fast as the real one, ending
    near the present. Each listener's true tastes are written to the --tastes file.
    Exits 1 when events were refused or could not be sent."""
    import signal
    import threading

    from podsight.conf import parse_timespan

    if direct == (url is not None):
        raise fail("give either --url (with --token) or --direct", 2)
    if url is not None and not token:
        raise fail("--url needs --token (or PODSIGHT_SIMULATOR_TOKEN)", 2)
    if speedup != 0 and speedup < 1:
        raise fail("--speedup must be ≥ 1, or 0 for as fast as possible", 2)
    try:
        seconds = parse_timespan(duration) if duration is not None else None
    except ValueError as exc:
        raise fail(f"--duration {exc}", 2) from exc

    def stop(signum, frame):
        raise KeyboardInterrupt

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, stop)
    try:
        report = STEPS["events.simulate"](
            users=users, rate=rate, duration_s=seconds, events=events, seed=seed,
            speedup=speedup, url=url, token=token, direct=direct, tastes_path=tastes,
            batch_size=batch_size, progress=progress, console=err,
        )  # fmt: skip
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    for sample in report.error_samples:
        err.print(f"  [red]✗[/] event {sample.get('event_id')}: {escape(str(sample['errors']))}")
    if report.errors > len(report.error_samples):
        err.print(f"  … and {report.errors - len(report.error_samples):,} more rejected events")
    console.print(f"simulated: {escape(str(report))}")
    retried = f"; {report.retries:,} request(s) retried" if report.retries else ""
    console.print(f"true tastes of the listeners: {escape(str(report.tastes_path))}{retried}")
    if report.saturated:
        err.print(
            f"[yellow]note:[/] {report.users:,} listeners cannot make {report.rate:g} events/s "
            "while listening like people do; raise --users (about 60 per event/s) for the rate"
        )
    if report.interrupted:
        unsent = report.generated - report.sent
        if report.aborted:  # e.g. the server stopped with us (make run)
            err.print(
                f"[yellow]interrupted[/]: the last {unsent:,} event(s) could not be sent "
                f"({escape(report.aborted)})"
            )
        else:
            err.print("[yellow]interrupted[/]: every event generated before was sent")
    elif report.aborted:
        raise fail(report.aborted)
    if report.errors:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
