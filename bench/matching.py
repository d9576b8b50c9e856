"""Matching benchmark: precision and recall of channel and episode links on the demo world.

    .venv/bin/python bench/matching.py [--shows 1300] [--seed 42] [--home DIR]

Loads a demo world of ``--shows`` shows through the real ingestion path (RSS feeds, then
Podcast Index, Apple, Spotify and YouTube through their connectors against the local demo
APIs), writes the ground-truth labels (``podsight demo labels``), runs ``podsight match``
once, in full, and prints precision, recall and F1 per entity, next to the first seed
project's method on the same records (shows paired by identical names, episodes by
identical titles within 24 hours). Not a test: it takes minutes.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"precision": 0.995, "recall": 0.98}


def _load(home: Path, shows: int, seed: int) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            str(Path(sys.executable).with_name("podsight")),
            "demo",
            "load",
            "--shows",
            str(shows),
            "--seed",
            str(seed),
            "--no-progress",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        env=os.environ,
    )
    return time.perf_counter() - started


def _seed_method():
    """The first seed's method, generalised from its one hard-coded show pair: shows pair
    when their names are identical; episodes of paired shows when their titles are
    identical and they were published within 24 hours. → record id → group id."""
    from datetime import datetime

    from django.db.models.fields.json import KT

    from podsight.sources.models import SourceChannel, SourceEpisode

    by_name: dict[str, list[int]] = defaultdict(list)
    channel_source: dict[int, str] = {}
    for pk, source, title in SourceChannel.objects.filter(
        source__in=["rss", "spotify", "youtube"]
    ).values_list("pk", "source", KT("data__title")):
        by_name[title or f"#{pk}"].append(pk)
        channel_source[pk] = source
    channel_group: dict[int, int] = {}
    for members in by_name.values():
        per_source = defaultdict(list)
        for pk in members:
            per_source[channel_source[pk]].append(pk)
        if all(len(v) == 1 for v in per_source.values()):  # a unique name on each side
            for pk in members:
                channel_group[pk] = members[0]
    episodes = defaultdict(list)
    for pk, show, source, title, published in SourceEpisode.objects.filter(
        source__in=["rss", "spotify", "youtube"]
    ).values_list("pk", "source_channel_id", "source", KT("data__title"), KT("data__published_at")):
        group = channel_group.get(show)
        if group is not None and title and published:
            try:
                when = datetime.fromisoformat(published)
            except ValueError:  # a JSON null reads as "null" on SQLite
                continue
            episodes[(group, title)].append((pk, source, when))
    episode_group: dict[int, int] = {}
    for members in episodes.values():
        members.sort(key=lambda m: m[2])
        for (a, sa, ta), (b, sb, tb) in zip(members, members[1:], strict=False):
            if sa != sb and abs((tb - ta).total_seconds()) <= 86_400:
                group = episode_group.get(a, a)
                episode_group[a] = episode_group[b] = group
    return {"channel": channel_group, "episode": episode_group}


def _row(name, entity, result, seconds=None):
    ok = result.precision >= TARGETS["precision"] and result.recall >= TARGETS["recall"]
    took = f"{seconds:8.1f}" if seconds is not None else "       -"
    return (
        f"{name:<22} {entity:<8} {result.precision:9.4f} {result.recall:8.4f} {result.f1:8.4f} "
        f"{result.correct_pairs:>8}/{result.predicted_pairs:<8} {result.true_pairs:>8} {took}  "
        f"{'meets target' if ok else ''}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shows", type=int, default=1300)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--home", type=Path, help="Keep the data here (default: a temp dir).")
    parser.add_argument("--errors", type=int, default=10, help="Errors listed per entity.")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="podsight-matchbench-"))
    home.mkdir(parents=True, exist_ok=True)
    os.environ["PODSIGHT_HOME"] = str(home)
    os.environ["DATABASE_URL"] = f"sqlite:///{home / 'db.sqlite3'}"
    loaded = home / "loaded.sqlite3"  # the catalog before matching, reused by later runs
    if not loaded.exists():
        print(f"loading a demo world of {args.shows} shows into {home} …", flush=True)
        print(f"  loaded in {_load(home, args.shows, args.seed):.0f} s", flush=True)
        shutil.copyfile(home / "db.sqlite3", loaded)
    else:
        shutil.copyfile(loaded, home / "db.sqlite3")

    from podsight.bootstrap import ensure_database

    ensure_database()
    from podsight.demo import build_world
    from podsight.demo.truth import write_labels
    from podsight.matching.report import evaluate, read_labels
    from podsight.matching.run import run_match

    world = build_world(seed=args.seed, shows=args.shows)
    labels_path = home / "labels.csv"
    counts = write_labels(world, labels_path)
    print(
        f"world: {counts.world_shows} shows, {counts.world_episodes} episodes; labelled "
        f"{counts.channel_records} channel records and {counts.episode_records} episode "
        f"records (RSS, Spotify, YouTube)"
    )
    started = time.perf_counter()
    report = run_match(full=True)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"podsight match: {report}")
    print(f"  {seconds:.1f} s, peak RSS {peak_mb:.0f} MB")
    labels = read_labels(labels_path)
    seed = _seed_method()
    print()
    print(
        f"{'method':<22} {'entity':<8} {'precision':>9} {'recall':>8} {'F1':>8} "
        f"{'right/predicted':>17} {'true':>8} {'seconds':>8}"
    )
    results = {}
    for entity in ("channel", "episode"):
        results[entity] = evaluate(labels[entity], max_errors=args.errors)
        print(_row("podsight", entity, results[entity], seconds if entity == "episode" else None))
        print(_row("first seed's method", entity, evaluate(labels[entity], groups=seed[entity])))
    print(f"targets: precision ≥ {TARGETS['precision']}, recall ≥ {TARGETS['recall']}")
    for entity, result in results.items():
        for line in result.false_links:
            print(f"  wrong {entity} link: {line}")
        for line in result.missed_links:
            print(f"  missed {entity} link: {line}")
        for line in result.unresolved[: args.errors]:
            print(f"  unresolved {entity} label: {line}")


if __name__ == "__main__":
    main()
