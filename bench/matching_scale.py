"""Matching at scale: N × N source episodes (RSS against YouTube) resolved by ``run_match``.

    .venv/bin/python bench/matching_scale.py [--episodes 200000] [--per-show 100]

Generates shows whose RSS feed and YouTube channel differ as real ones do (title affixes
and numbering, uploads hours after the release, ad-length duration changes, episodes
missing on either side, clips, channels named after the host, shows with near-identical
names), writes them straight into the catalog (SQLite, not timed), then times one full
``podsight match`` and reports its wall time, peak resident memory, the comparisons left
after blocking and the precision and recall against the generator's truth. Target:
200,000 × 200,000 in ≤ 120 s and ≤ 4 GB on the 2-core machine.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ADJECTIVES = (
    "Quiet Loud Deep Bright Hidden Modern Ancient Curious Honest Wild Little Grand Open "
    "Broken Golden Silent Rapid Gentle Bold Clever"
).split()
NOUNS = (
    "Science History Money Music Health Design Football Cinema Books Politics Code Kitchen "
    "Garden Space Ocean Mind Startup Travel Language Comedy"
).split()
FORMS = ("Show", "Hour", "Weekly", "Podcast", "Talk", "Notes", "Radio", "Club")
FIRST = "Ana Ben Cleo Dev Eli Fay Gus Hana Ivo Jon Kai Lea Max Nia Oto Pia Raj Sol Tia Uma".split()
LAST = "Berg Cole Diaz Endo Fox Gray Hale Ito Jung Kerr Lund Moss Noor Ortiz Park Quinn".split()
WORDS = (
    "brain sleep money markets cities rivers robots language memory music war peace food "
    "climate habits stars trains bridges ideas children work art science dreams power "
    "trust risk luck fear hope time maps light water fire stone glass salt sugar coffee tea"
).split()
START = datetime(2021, 1, 4, 9, tzinfo=UTC)


def _episode_title(rng: random.Random, number: int) -> str:
    words = rng.sample(WORDS, 4)
    shape = rng.randrange(4)
    if shape == 0:
        return f"{words[0].title()} and {words[1]}: what {words[2]} teaches about {words[3]}"
    if shape == 1:
        return (
            f"#{number}: The {words[0]} of {words[1]} with {rng.choice(FIRST)} {rng.choice(LAST)}"
        )
    if shape == 2:
        return f"Why {words[0]} shapes {words[1]} (and {words[2]})"
    return f"Ep. {number} – {words[0].title()}, {words[1]} and {words[2]}"


def generate(shows: int, per_show: int, seed: int = 7):
    """Rows for SourceChannel/SourceEpisode creation, and the truth: rss external id →
    youtube external id for episodes, show index per channel record."""
    rng = random.Random(seed)
    names: list[str] = []
    catalog = []
    truth: dict[str, str] = {}
    for s in range(shows):
        if names and rng.random() < 0.08:  # a near-identical name of an existing show
            name = rng.choice(names) + rng.choice(("", " Daily", " Podcast", "!"))
        else:
            name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {rng.choice(FORMS)}"
        names.append(name)
        host = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        yt_name = host if rng.random() < 0.2 else name
        cadence = rng.choice((1, 3.5, 7, 7, 14))
        shift_h = rng.choice((-2, 0, 1, 3, 6, 12, 30))
        suffix = rng.random() < 0.5
        first_day = rng.uniform(0, 300)
        rss_eps, yt_eps = [], []
        for n in range(per_show):
            title = _episode_title(rng, n + 1)
            published = START + timedelta(days=first_day + n * cadence, hours=rng.uniform(0, 3))
            duration = int(rng.lognormvariate(8.0, 0.4))
            rss_id = f"rss-{s}-{n}"
            if rng.random() > 0.04:
                rss_eps.append((rss_id, title, published, duration + rng.choice((0, 60, 120))))
            if rng.random() > 0.05:
                yt_title = title + (f" | {name}" if suffix else "")
                yt_id = f"yt-{s}-{n}"
                yt_eps.append(
                    (yt_id, yt_title, published + timedelta(hours=shift_h), duration, "episode")
                )
                if rss_eps and rss_eps[-1][0] == rss_id:
                    truth[rss_id] = yt_id
            if rng.random() < 0.1:  # a clip cut from it
                yt_eps.append(
                    (
                        f"clip-{s}-{n}",
                        f"{title.split(':')[0]} (clip)",
                        published + timedelta(days=1),
                        rng.randint(60, 500),
                        "clip",
                    )
                )
        catalog.append((s, name, host, yt_name, rss_eps, yt_eps))
    return catalog, truth


def _notes(host: str, title: str) -> str:
    """Show notes as a feed writes them and Spotify and YouTube copy them: templated, so
    one show's notes are alike across its episodes."""
    return (
        f"In this episode, {host} talks about {title.split(' | ')[0].lower()}: what we "
        "know, what we don't, and what to do about it."
    )


def load(catalog) -> tuple[int, int]:
    from podsight.catalog.models import Channel, Episode
    from podsight.sources.models import SourceChannel, SourceEpisode

    now = datetime.now(UTC)
    rss_total = yt_total = 0
    batch = 100
    for start in range(0, len(catalog), batch):
        chunk = catalog[start : start + batch]
        channels = [Channel(title=c[1]) for c in chunk for _ in (0, 1)]
        Channel.objects.bulk_create(channels)
        records = []
        for i, (s, name, host, yt_name, _rss, _yt) in enumerate(chunk):
            records.append(
                SourceChannel(
                    source="rss",
                    external_id=f"feed-{s}",
                    channel=channels[2 * i],
                    data={"title": name, "author": host},
                    content_hash="x",
                    fetched_at=now,
                    link_method="key",
                    link_confidence=1.0,
                )
            )
            records.append(
                SourceChannel(
                    source="youtube",
                    external_id=f"UC{s}",
                    channel=channels[2 * i + 1],
                    data={
                        "title": yt_name,
                        "description_text": f"Full episodes of {name} with {host}.",
                    },
                    content_hash="x",
                    fetched_at=now,
                    link_method="key",
                    link_confidence=1.0,
                )
            )
        SourceChannel.objects.bulk_create(records)
        episodes, sources = [], []
        for i, (s, _name, host, yt_name, rss, yt) in enumerate(chunk):
            footer = f"\n\nSubscribe to {yt_name}: https://www.youtube.com/@show{s}"
            for source, record, items in (
                ("rss", records[2 * i], rss),
                ("youtube", records[2 * i + 1], yt),
            ):
                for item in items:
                    external_id, title, published, duration = item[:4]
                    kind = item[4] if len(item) > 4 else None
                    episode = Episode(
                        channel_id=record.channel_id,
                        title=title,
                        published_at=published,
                        duration_s=duration,
                    )
                    data = {
                        "title": title,
                        "published_at": published.isoformat(),
                        "duration_s": duration,
                        "description_text": _notes(host, title)
                        + (footer if source == "youtube" else ""),
                    }
                    if kind:
                        data["kind"] = kind
                    episodes.append(episode)
                    sources.append(
                        SourceEpisode(
                            source=source,
                            external_id=external_id,
                            source_channel=record,
                            data=data,
                            content_hash="x",
                            fetched_at=now,
                            link_method="key",
                            link_confidence=1.0,
                        )
                    )
                    rss_total += source == "rss"
                    yt_total += source == "youtube"
        Episode.objects.bulk_create(episodes, batch_size=5000)
        for record, episode in zip(sources, episodes, strict=True):
            record.episode = episode
        SourceEpisode.objects.bulk_create(sources, batch_size=5000)
    return rss_total, yt_total


def _load_in_child(args: argparse.Namespace, home: Path) -> None:
    # The load runs in its own process so that the peak memory measured is the match's.
    subprocess.run(
        [
            sys.executable,
            __file__,
            "--load-only",
            "--episodes",
            str(args.episodes),
            "--per-show",
            str(args.per_show),
            "--home",
            str(home),
        ],
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=200_000, help="Per source.")
    parser.add_argument("--per-show", type=int, default=100)
    parser.add_argument("--home", type=Path)
    parser.add_argument("--load-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="podsight-matchscale-"))
    home.mkdir(parents=True, exist_ok=True)
    os.environ["PODSIGHT_HOME"] = str(home)
    os.environ["DATABASE_URL"] = f"sqlite:///{home / 'db.sqlite3'}"
    from django.db import connections

    from podsight.bootstrap import ensure_database

    ensure_database()
    from podsight.matching.run import run_match
    from podsight.sources.models import SourceEpisode

    # ~4% of RSS episodes are generated missing: enough shows for ``--episodes`` on each side.
    shows = max(1, math.ceil(args.episodes / (args.per_show * 0.955)))
    if args.load_only:
        started = time.perf_counter()
        rss, yt = load(generate(shows, args.per_show)[0])
        print(
            f"generated {shows} shows: {rss:,} RSS and {yt:,} YouTube episode records "
            f"({time.perf_counter() - started:.0f} s, not timed)",
            flush=True,
        )
        return
    loaded = home / "loaded.sqlite3"  # the catalog before matching, reused by later runs
    connections.close_all()  # the file is replaced under it
    if loaded.exists():
        shutil.copyfile(loaded, home / "db.sqlite3")
    else:
        _load_in_child(args, home)
        shutil.copyfile(home / "db.sqlite3", loaded)
    truth = generate(shows, args.per_show)[1]
    rss = SourceEpisode.objects.filter(source="rss").count()
    yt = SourceEpisode.objects.filter(source="youtube").count()

    started = time.perf_counter()
    report = run_match(full=True)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    episode_of = dict(SourceEpisode.objects.values_list("external_id", "episode_id"))
    correct = sum(1 for r, y in truth.items() if episode_of.get(r) == episode_of.get(y))
    linked = report.episodes_linked
    print(f"podsight match: {report}")
    print(f"  wall {seconds:.1f} s · peak RSS {peak_mb:.0f} MB")
    print(
        f"  comparisons after blocking: {report.episode_pairs_compared:,} episode pairs "
        f"(all-pairs within shows would be {rss * yt // shows:,}; across the catalog "
        f"{rss * yt:,}), {report.channels_compared:,} channel pairs"
    )
    print(
        f"  episode links: {linked:,} made, {correct:,} of {len(truth):,} true pairs found "
        f"→ precision {correct / linked if linked else 1:.4f}, recall "
        f"{correct / len(truth) if truth else 1:.4f}"
    )
    print("targets: ≤ 120 s and ≤ 4,096 MB for 200,000 × 200,000")


if __name__ == "__main__":
    main()
