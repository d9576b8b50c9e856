"""Reports as the CLI shows them: tables and summary lines (results on stdout, notes on
stderr). Only rendering: every value comes from a step's report."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from podsight.cli.output import console, err, fail

if TYPE_CHECKING:  # report types only: the CLI imports no domain module at run time
    from podsight.content.analyze import AnalysisReport
    from podsight.content.search import SearchReport
    from podsight.content.transcripts import TranscriptsReport
    from podsight.matching.report import CatalogSummary, MatchRunReport
    from podsight.matching.run import MatchReport
    from podsight.recs.evaluate import EvaluationReport
    from podsight.recs.lifecycle import LifecycleReport, ModelList, TrainReport
    from podsight.recs.offline import OfflineReport
    from podsight.sources.discover import DiscoverReport
    from podsight.sources.podcastindex.dump.report import DumpImportReport
    from podsight.sources.rss.ingest import IngestReport
    from podsight.sources.sync import SyncReport

__all__ = [
    "analysis_report",
    "catalog_summary",
    "discover_report",
    "dump_import",
    "evaluation_report",
    "ingest_report",
    "lifecycle_report",
    "model_list",
    "match_quality",
    "match_run",
    "offline_report",
    "search_results",
    "sync_summary",
    "train_report",
    "transcripts_report",
    "when",
]


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def ingest_report(report: IngestReport) -> None:
    """One row per feed, then the counts."""
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
    if report.all_failed:
        err.print("[red]every feed failed[/]; see the notes column for what to fix")


def sync_summary(report: SyncReport) -> None:
    """One row per source, what went wrong, what was kept."""
    table = Table(title="sync summary", show_lines=False)
    for column in (
        "source", "status", "shows ok", "failed", "episodes new", "updated", "vanished",
        "linked by key", "calls", "from cache", "304", "quota units",
    ):  # fmt: skip
        table.add_column(column)
    for run in report.runs.values():
        table.add_row(
            run.source,
            run.status,
            str(run.shows_ok),
            str(run.shows_failed),
            str(run.store.episodes_new),
            str(run.store.episodes_updated),
            str(run.store.episodes_vanished),
            str(run.store.shows_linked_by_key + run.store.episodes_linked_by_key),
            str(run.calls),
            str(run.cache_hits),
            str(run.revalidated),
            "" if run.quota_units is None else str(run.quota_units),
        )
    console.print(table)
    for run in report.runs.values():
        if run.message and run.status in ("skipped", "stopped", "failed"):
            console.print(f"{run.source}: {escape(run.message)}")
        for error in run.errors[:10]:
            console.print(f"  [red]✗[/] {escape(error)}")
    console.print(
        f"metric snapshots appended: {report.metrics_written}; "
        f"API payloads kept for replay: {report.payloads_written}"
    )


def discover_report(report: DiscoverReport) -> None:
    """The shows found; nothing found because no source could be asked: a failed run."""
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


def match_run(report: MatchReport) -> None:
    """The counts, then the channel links made (the first 50)."""
    console.print(escape(str(report)))
    for explanation in report.links[:50]:
        console.print(f"  [green]✓[/] {escape(explanation)}")
    if len(report.links) > 50:
        console.print(f"  … and {len(report.links) - 50} more channel links")


def match_quality(report: MatchRunReport) -> None:
    """Link counts per source pair and the evaluations against labels, when asked."""
    for entity, rows in (report.pair_counts or {}).items():
        table = Table(title=f"{entity} links per source pair")
        for name in ("sources", "matched", "only left", "only right", "needs review"):
            table.add_column(name, justify="left" if name == "sources" else "right")
        for row in rows:
            table.add_row(
                f"{row.left} ~ {row.right}",
                str(row.matched),
                str(row.only_left),
                str(row.only_right),
                str(row.needs_review),
            )
        console.print(table)
    for entity, result in report.evaluations.items():
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


def catalog_summary(summary: CatalogSummary) -> None:
    """Channels and episodes, and how many links need review."""
    console.print("[bold]catalog[/]:")
    for line in summary.lines():
        console.print(f"  {escape(line)}")
    if summary.channels.needs_review or summary.episodes.needs_review:
        console.print("  review them with `podsight links list` (confirm, reject or force)")


def dump_import(report: DumpImportReport) -> None:
    """The dump import's summary, on stderr beside its progress bar."""
    err.print(escape(str(report)))


def transcripts_report(report: TranscriptsReport, *, shown: int = 20) -> None:
    """The failures (the first ``shown``), then the counts."""
    failures = [o for o in report.outcomes if o.status not in ("stored", "unchanged", "no_link")]
    if failures:
        table = Table(title="transcripts not stored", show_lines=False, expand=False)
        for column in ("episode", "status", "url", "error"):
            table.add_column(column, overflow="fold")
        for o in failures[:shown]:
            table.add_row(
                str(o.episode_id), f"[red]{o.status}[/]", escape(o.url[-60:]), escape(o.error[:160])
            )
        console.print(table)
        if len(failures) > shown:
            err.print(f"… and {len(failures) - shown} more; every one is in the log file")
    formats = ", ".join(f"{n} {f}" for f, n in sorted(report.formats.items()))
    parts = [
        f"{report.stored} stored" + (f" ({formats})" if formats else ""),
        f"{report.unchanged} unchanged ({report.not_modified} not modified)",
        f"{report.failed} failed",
        f"{report.no_link} without a link",
    ]
    console.print(f"[bold]{report.episodes} episodes[/]: " + ", ".join(parts))
    if report.warnings:
        console.print(f"{report.warnings} repairs while reading (the episodes' warnings)")
    if report.asr is not None:
        a = report.asr
        speed = f", {a.audio_s / a.elapsed_s:.1f}× real time" if a.elapsed_s and a.audio_s else ""
        console.print(
            f"speech: {a.attempted} episodes, {a.stored} stored, {a.unchanged} unchanged, "
            f"{a.no_speech_model} without a speech model, {a.failed} failed"
            + (f", {a.no_audio} without audio" if a.no_audio else "")
            + f"; {a.audio_s / 60:.1f} min of audio{speed}"
        )
    if report.all_failed:
        err.print("[red]every transcript failed[/]; see the error column for what to fix")


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _excerpt(text: str, query: str, width: int = 240) -> str:
    """``width`` characters of a passage, around the first word of the query it holds."""
    if len(text) <= width:
        return text
    lowered = text.lower()
    hits = [lowered.find(w) for w in query.lower().split() if len(w) >= 4 and w in lowered]
    at = max(0, min(hits, default=0) - width // 3)
    cut = text[at : at + width - 6]
    return ("..." if at else "") + cut + ("..." if at + width - 6 < len(text) else "")


def search_results(report: SearchReport) -> None:
    """Each episode with its best passages (time, score, text) and the link to the moment."""
    if not report.results:
        console.print(
            f"no episode matches {escape(report.query)!r}"
            + (f" ({escape(report.note)})" if report.note else "")
        )
        return
    for rank, result in enumerate(report.results, 1):
        published = result.published_at.strftime("%Y-%m-%d") if result.published_at else "-"
        console.print(
            f"[bold]{rank}. {escape(result.title or '(untitled)')}[/]  "
            f"[dim]{escape(result.channel_title)} · {published} · episode {result.episode_id} · "
            f"score {result.score:.4f}[/]"
        )
        for passage in result.passages:
            text = _excerpt(passage.text, report.query)
            where = "notes" if passage.kind == "notes" else _clock(passage.start_s)
            if passage.sponsor is not None:
                named = f": {escape(passage.sponsor)}" if passage.sponsor else ""
                where += f" [yellow]ad{named}[/]"
            console.print(f"   [cyan]{where}[/] {escape(text)}", soft_wrap=True)
        if result.link:
            console.print(f"   [dim]{escape(result.link)}[/]", soft_wrap=True)
    console.print(
        f"[dim]{len(report.results)} episodes, {report.passages_indexed:,} passages searched "
        f"({report.index_kind}), {report.elapsed_ms:.0f} ms[/]"
    )


def analysis_report(report: AnalysisReport, *, shown: int = 10) -> None:
    """What the analysis did, where its time went, and the chapter documents that failed."""
    if report.passages_report is not None:
        console.print(escape(str(report.passages_report)))
    console.print(
        f"[bold]{report.analysed} episodes analysed[/] ({report.notes_only} from show notes "
        f"only, {report.reanalysed_for_repeats} more for ad reads their show repeats); "
        f"{report.unchanged} unchanged, {report.without_passages} without passages"
    )
    console.print(
        f"{report.sponsor_segments} sponsor segments in {report.sponsored_episodes} episodes; "
        f"chapters: {report.chapters_feed} from feeds, {report.chapters_auto} automatic"
    )
    if report.index_report is not None:
        console.print(escape(str(report.index_report)))
    timings = ", ".join(f"{name} {s:.1f} s" for name, s in report.timings.items() if s >= 0.05)
    per_hour = report.seconds_per_transcript_hour
    rate = f"; {per_hour:.0f} s per transcript hour" if per_hour else ""
    console.print(
        f"{report.transcript_hours:.2f} transcript hours in {report.seconds:.1f} s "
        f"({timings or 'nothing to do'}){rate}, {escape(report.embedder)}"
    )
    for line in report.chapter_errors[:shown]:
        err.print(f"[yellow]chapters not read[/] {escape(line)}")
    if len(report.chapter_errors) > shown:
        err.print(f"… and {len(report.chapter_errors) - shown} more; every one is in the log file")


def _figure(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def evaluation_report(report: EvaluationReport) -> None:
    """The evaluation table: our models (baselines first), then the published figures."""
    console.print(
        f"[bold]{escape(report.dataset)}[/]: {report.users} users, {report.items} candidate "
        f"items, {report.train_interactions:,} training and {report.test_interactions:,} "
        f"test interactions ({report.test_users} test users)"
    )
    console.print(f"split: {escape(report.protocol)}")
    console.print(f"weights: {escape(report.weighting)}")
    k = report.k
    topics = any(r.topic_share is not None for r in report.results)
    table = Table(title=f"top {k}" + (", parameters tuned on validation" if report.tuned else ""))
    table.add_column("model")
    for name in (f"P@{k}", f"R@{k}", f"NDCG@{k}", f"MAP@{k}", "MAP", "coverage", "novelty"):
        table.add_column(name, justify="right")
    if topics:
        table.add_column("true topics", justify="right")
    table.add_column("fit s", justify="right")
    table.add_column("notes")
    best = report.best()
    for r in report.results:
        name = f"{r.name} (baseline)" if r.baseline else r.name
        if best is not None and r is best:
            name = f"[bold]{name}[/]"
        figures = (r.precision, r.recall, r.ndcg, r.map_at_k, r.map, r.coverage)
        row = [name, *map(_figure, figures), f"{r.novelty:.2f}"]
        if topics:
            row.append(_figure(r.topic_share))
        row += [f"{r.fit_seconds:.1f}", escape(r.detail)]
        table.add_row(*row)
    for p in report.published:
        figures = (p.precision, p.recall, p.ndcg)
        row = [f"[dim]{escape(p.name)} (published)[/]", *map(_figure, figures), "–",
               _figure(p.map), "–", "–"]  # fmt: skip
        if topics:
            row.append("–")
        row += ["", "[dim]Recommenders benchmark[/]"]
        table.add_row(*row)
    console.print(table)
    if report.published and best is not None:
        top = max(report.published, key=lambda p: p.ndcg)
        verdict = "above" if best.ndcg >= top.ndcg else "below"
        console.print(
            f"best here: {escape(best.name)} NDCG@{k} {best.ndcg:.3f}, {verdict} the best "
            f"published ({escape(top.name)} {top.ndcg:.3f})"
        )
    for name, why in report.skipped.items():
        err.print(f"[yellow]skipped[/] {escape(name)}: {escape(why)}")
    console.print(f"[dim]{report.seconds:.1f} s[/]")


def offline_report(report: OfflineReport) -> None:
    console.print(
        f"wrote {report.rows_written:,} recommendations for {report.users} users to "
        f"{escape(str(report.out))} ({escape(report.model)} fitted in {report.fit_seconds:.1f} s "
        f"on {report.interactions:,} interactions of {report.train_users} users and "
        f"{report.train_items} items)"
    )
    if report.unknown_users:
        err.print(
            f"[yellow]{report.unknown_users} users are not in the training file[/]: they got "
            "the most popular items"
        )


# --- recommendations: the model life cycle ---------------------------------------------------


def _ndcg(metrics: dict) -> str:
    value = (metrics.get("hybrid") or {}).get("ndcg@10")
    return "-" if value is None else f"{value:.4f}"


def train_report(report: TrainReport) -> None:
    """The version, what it was fitted on, how it measured, what the gate decided."""
    data = report.data
    console.print(
        f"[bold]model {escape(report.version)}[/]: trained on {data.get('users', 0)} users, "
        f"{data.get('items', 0)} episodes, {data.get('interactions', 0)} interactions "
        f"(engagement_daily version {report.data_version}) in {report.seconds:.1f} s"
    )
    table = Table(title="validation split", expand=False)
    for column in ("model", "weight", "ndcg@10", "p@10", "r@10"):
        table.add_column(column)
    rows = [("hybrid", None)] + [(m, report.weights.get(m)) for m in report.models]
    for name, weight in rows:
        m = report.metrics.get(name) or {}
        table.add_row(
            name,
            "-" if weight is None else f"{weight:.3f}",
            *("-" if m.get(k) is None else f"{m[k]:.4f}"
              for k in ("ndcg@10", "p@10", "r@10")),
        )  # fmt: skip
    console.print(table)
    colour = {"serving": "green", "rejected": "red"}.get(report.status, "yellow")
    console.print(f"status: [{colour}]{report.status}[/] ({escape(report.note)})")
    if report.status == "serving":
        console.print(f"{report.cached} users' recommendations precomputed")


def lifecycle_report(report: LifecycleReport) -> None:
    previous = f" (before: {escape(report.previous)})" if report.previous else ""
    console.print(
        f"[bold]{report.action}[/]: model {escape(report.version)} is {report.status}"
        f"{previous}; {escape(report.note)}"
    )
    if report.cached:
        console.print(f"{report.cached} users' recommendations precomputed")


def model_list(listed: ModelList) -> None:
    if not listed.models:
        console.print("no model trained yet: run `podsight recs train`")
        return
    table = Table(title="recommendation models", expand=False)
    for column in ("version", "status", "share", "created", "data version", "users",
                   "ndcg@10", "impressions", "play-through", "note"):  # fmt: skip
        table.add_column(column, overflow="fold")
    for m in listed.models:
        rate = m.online.get("rate")
        table.add_row(
            escape(m.version), m.status, f"{m.share:.0%}" if m.share else "-",
            when(m.created_at), str(m.data_version) if m.data_version is not None else "-",
            str(m.data.get("users", "-")), _ndcg(m.metrics), str(m.online.get("impressions", 0)),
            "-" if rate is None else f"{rate:.1%}", escape(m.note[:100]),
        )  # fmt: skip
    console.print(table)
    console.print(f"promotion tolerance: {listed.tolerance:g} NDCG@10")
