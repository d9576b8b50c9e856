"""The step registry: what a front end (CLI, dashboard, runner, Airflow) can list and
call, and one step run as such a front end would, with no CLI involved."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from podsight.pipeline import STEPS, Step, run_step

# What `podsight` offers, by step: a new command must come with its step.
EXPECTED = {
    "demo.apis", "demo.feeds", "demo.labels", "demo.load", "directory.add",
    "directory.reindex", "directory.search", "discover.search", "discover.trending",
    "events.consume", "events.engagement", "events.simulate", "ingest.rss", "links.confirm",
    "links.force",
    "links.list", "links.reject", "match", "migrate", "podcastindex.import_dump", "search",
    "serve", "dashboard",
    "sources.replay", "sources.sync", "tokens.create", "tokens.list", "tokens.revoke",
    "users.create",
    "content.transcripts",
    "content.analyze",
    "recs.evaluate", "recs.offline",
    "recs.train", "recs.promote", "recs.rollback", "recs.ab", "recs.models",
    "recs.refresh",
    "pipeline.run", "pipeline.runs", "pipeline.schedule",
    "lake.history", "lake.restore", "db.backup", "db.restore",
}  # fmt: skip


def test_every_step_is_registered() -> None:
    assert set(STEPS) == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_step_says_what_it_does_takes_and_returns(name: str) -> None:
    found = STEPS[name]
    assert isinstance(found, Step) and found.name == name
    assert found.summary and found.doc
    assert all(p.annotation not in ("", "_empty") for p in found.params), found.params
    assert all(p.name != "progress" for p in found.params)
    assert dataclasses.is_dataclass(found.report), found.report_name
    assert "options" not in {p.name for p in found.params}  # no untyped **options


def test_an_unknown_step_is_a_lookup_error() -> None:
    with pytest.raises(LookupError, match="no step named 'nope'"):
        run_step("nope")


@pytest.mark.django_db
def test_steps_run_without_the_cli(tmp_path: Path) -> None:
    created = run_step("tokens.create", name="runner", scopes=["events:write"])
    assert (
        created.key and created.token.name == "runner" and created.token.scopes == ["events:write"]
    )
    listed = run_step("tokens.list")
    assert [t.name for t in listed.tokens] == ["runner"]
    assert run_step("tokens.revoke", name="runner").revoked_at is not None
    counts = run_step("demo.labels", path=tmp_path / "labels.csv", shows=2)
    assert counts.world_shows == 2 and (tmp_path / "labels.csv").is_file()


@pytest.mark.django_db
def test_match_reports_its_evaluation_against_labels(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "entity,left_source,left_id,right_source,right_id,match\n"
        "channel,rss,https://example.org/a.xml,spotify,abc,1\n",
        "utf-8",
    )
    report = run_step("match", labels=labels)
    assert report.run.full  # the first run is a full one
    assert set(report.pair_counts) == {"channel", "episode"}
    assert set(report.evaluations) == {"channel"}
    assert report.evaluations["channel"].labelled == 2
    assert report.evaluations["channel"].unresolved  # neither record is in the catalog


def test_docs_list_every_step_with_its_parameters_and_report() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "pipeline.md").read_text("utf-8")
    rows = {line.split("|")[1].strip(" `"): line for line in doc.splitlines()
            if line.startswith("| `")}  # fmt: skip
    assert set(rows) == set(STEPS)
    for name, found in STEPS.items():
        assert f"`{found.report.__name__}`" in rows[name], name
        for param in found.params:
            assert f"`{param.name}`" in rows[name], (name, param.name)
