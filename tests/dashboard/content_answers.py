# ruff: noqa: E501 - real answers, URLs and all
"""The Content page's stub answers: real answers of the API on the demo data (`podsight
demo load --listeners 0`, seed 42; 2026-12-06), shortened (fewer results and source
records) but in their exact shape. One text was changed to hold Markdown characters
(``$``, ``*``), which the page must show as text."""

from __future__ import annotations

__all__ = ["ANALYSIS", "CHANNELS", "EPISODE", "SEARCH", "SIMILAR", "TRANSCRIPT"]

EPISODE = 713  # the first search result; ANALYSIS, TRANSCRIPT and SIMILAR are its

# GET /api/channels?ordering=title&page_size=2
CHANNELS = {
    "results": [
        {
            "id": 1,
            "title": "All About Burnout",
            "description": "A show about burnout for curious people — fresh episodes, honest "
            "conversations and no jargon. Hosted by Daniel Patel & Hannah "
            "Bennett.",
            "link": "https://all-about-burnout.demo.podsight.invalid/",
            "language": "en-gb",
            "author": "Estudio Faro",
            "owner_name": "Estudio Faro",
            "image_url": "https://img.demo-hosting.invalid/all-about-burnout/cover-3000.jpg",
            "categories": ["Health & Fitness > Mental Health", "Science > Natural Sciences"],
            "explicit": False,
            "itunes_type": "serial",
            "podcast_guid": "328f5402-59e8-5140-8a8e-1c539a69e093",
            "episode_count": 11,
            "sources": [
                {
                    "record_id": 1,
                    "source": "rss",
                    "external_id": "file:fa973e88b8368c7c",
                    "url": "https://demo.podsight.invalid/feeds/all-about-burnout.xml",
                    "method": "key",
                    "confidence": 1.0,
                    "explanation": "canonical record created from this source record "
                    "(cluster of one)",
                    "status": "",
                    "fetched_at": "2026-12-06T13:40:05.346861Z",
                    "first_seen_at": "2026-12-06T13:40:05.358183Z",
                    "vanished_at": None,
                }
            ],
            "created_at": "2026-12-06T13:40:05.378721Z",
            "updated_at": "2026-12-06T13:40:05.378752Z",
        },
        {
            "id": 2,
            "title": "Alles über Taktik",
            "description": "Der Podcast über Taktik – jede Woche neu, mit Gästen und "
            "Hintergründen. Mit Felix Krause, Matthias Vogel & Felix Wagner.",
            "link": "https://alles-uber-taktik.demo.podsight.invalid/",
            "language": "de",
            "author": "Rádio Aurora",
            "owner_name": "Rádio Aurora",
            "image_url": "https://img.demo-hosting.invalid/alles-uber-taktik/cover-3000.jpg",
            "categories": ["Sports > Soccer"],
            "explicit": False,
            "itunes_type": "episodic",
            "podcast_guid": "bcfc943d-70fd-5dac-ac1a-cd51cb1ed0fb",
            "episode_count": 16,
            "sources": [
                {
                    "record_id": 2,
                    "source": "rss",
                    "external_id": "file:254d1b5e285d77ca",
                    "url": "https://demo.podsight.invalid/feeds/alles-uber-taktik.xml",
                    "method": "key",
                    "confidence": 1.0,
                    "explanation": "canonical record created from this source record "
                    "(cluster of one)",
                    "status": "",
                    "fetched_at": "2026-12-06T13:40:05.767039Z",
                    "first_seen_at": "2026-12-06T13:40:05.778162Z",
                    "vanished_at": None,
                }
            ],
            "created_at": "2026-12-06T13:40:05.793284Z",
            "updated_at": "2026-12-06T13:40:05.793316Z",
        },
    ],
    "next": "http://localhost:40211/api/channels?cursor=eyJvIjoidGl0bGUiLCJ2IjoiQWxsZXMgXHUwMGZjYmVyIFRha3RpayIsImkiOjJ9%3A1xaCcq%3AdCxBaY1T9Wah5U6jtY9wwxOw-8u5nBamLABzJU6NoIY&ordering=title&page_size=2",
    "page_size": 2,
}

# GET /api/search?q=every clue is on the page before the reveal&limit=2 (the second result
# replaced by the first of "open source volunteers": a notes passage)
SEARCH = {
    "query": "every clue is on the page before the reveal",
    "method": "hybrid",
    "results": [
        {
            "episode_id": 713,
            "title": "E58 | Literary fiction: what nobody tells you",
            "channel_id": 20,
            "channel_title": "The Literary Fiction Podcast",
            "published_at": "2025-02-10T19:49:19+00:00",
            "language": "en-gb",
            "score": 0.028068,
            "link": "https://dts.demo-tracker.invalid/redirect.mp3/cdn.demo-hosting.invalid/audio/the-literary-fiction-podcast/058-e58-literary-fiction-what-nobody-tells-y.mp3#t=2534",
            "passages": [
                {
                    "passage_no": 3,
                    "start_s": 2534.83,
                    "end_s": 2561.121,
                    "text": "Now for a different side of the story. The best crime "
                    "novels play fair: every clue is on the page before the "
                    "reveal. I hadn't thought of it that way. The series is "
                    "set in Leeds and has sold 71 million copies. A lot of "
                    "people think literary fiction is only for experts, but it "
                    "really isn't.",
                    "score": 0.028068,
                    "kind": "transcript",
                    "link": "https://dts.demo-tracker.invalid/redirect.mp3/cdn.demo-hosting.invalid/audio/the-literary-fiction-podcast/058-e58-literary-fiction-what-nobody-tells-y.mp3#t=2534",
                    "sponsor": None,
                },
                {
                    "passage_no": 4,
                    "start_s": 3574.129,
                    "end_s": 3602.046,
                    "text": "Next up, something I have wanted to cover for a while. "
                    "Great science fiction starts with one changed rule and "
                    "follows it all the way. That's fascinating. The author "
                    "wrote 62 drafts in a cabin near Manchester before the "
                    "world felt real. If you take one thing about literary "
                    "fiction from today, let it be this.",
                    "score": 0.005076,
                    "kind": "transcript",
                    "link": "https://dts.demo-tracker.invalid/redirect.mp3/cdn.demo-hosting.invalid/audio/the-literary-fiction-podcast/058-e58-literary-fiction-what-nobody-tells-y.mp3#t=3574",
                    "sponsor": None,
                },
                {
                    "passage_no": 0,
                    "start_s": 4.236,
                    "end_s": 30.162,
                    "text": "Welcome to The Literary Fiction Podcast. I'm Daniel "
                    "Murphy, and today we're talking about literary fiction. "
                    "And I'm Olivia Carter. Good to be back. This episode is "
                    "brought to you by Brightmug. Brightmug roasts fresh "
                    "coffee and delivers it to your door every two weeks. Go "
                    "to brightmug.example/podcast and use code THE10 for 10 "
                    "percent off your first order.",
                    "score": 0.002193,
                    "kind": "transcript",
                    "link": "https://dts.demo-tracker.invalid/redirect.mp3/cdn.demo-hosting.invalid/audio/the-literary-fiction-podcast/058-e58-literary-fiction-what-nobody-tells-y.mp3#t=4",
                    "sponsor": "Brightmug",
                },
            ],
        },
        {
            "episode_id": 655,
            "title": "A beginner's guide to open source",
            "channel_id": 19,
            "channel_title": "The Developer Tools Show",
            "published_at": "2023-11-21T05:50:00+00:00",
            "language": "en-gb",
            "score": 0.031545,
            "link": "https://dts.demo-tracker.invalid/redirect.mp3/cdn.demo-hosting.invalid/audio/the-developer-tools-show/018-a-beginner-s-guide-to-open-source.mp3",
            "passages": [
                {
                    "passage_no": 0,
                    "start_s": None,
                    "end_s": None,
                    "text": "A beginner's guide to open source. This week: $8 of "
                    "*sponsorware*, and the volunteers who keep it alive.",
                    "score": 0.031545,
                    "kind": "notes",
                    "link": "https://dts.demo-tracker.invalid/redirect.mp3/cdn.demo-hosting.invalid/audio/the-developer-tools-show/018-a-beginner-s-guide-to-open-source.mp3",
                    "sponsor": None,
                }
            ],
        },
    ],
    "passages_indexed": 1966,
    "index": "exact",
}

# GET /api/episodes/713/analysis
ANALYSIS = {
    "id": 713,
    "title": "E58 | Literary fiction: what nobody tells you",
    "channel": 20,
    "channel_title": "The Literary Fiction Podcast",
    "published_at": "2025-02-10T19:49:19Z",
    "duration_s": 4597,
    "enclosure_url": "https://dts.demo-tracker.invalid/redirect.mp3/cdn.demo-hosting.invalid/audio/the-literary-fiction-podcast/058-e58-literary-fiction-what-nobody-tells-y.mp3",
    "enclosure_type": "audio/mpeg",
    "transcript": {
        "status": "ok",
        "source": "rss",
        "language": "en-GB",
        "format": "vtt",
        "version": 1,
        "segments": 22,
        "duration_s": 4579.422,
        "error": "",
        "checked_at": "2026-12-06T13:40:39.306016Z",
    },
    "keywords": [
        {"keyword": "literary fiction", "score": 0.071167},
        {"keyword": "story", "score": 0.152157},
        {"keyword": "side", "score": 0.178409},
        {"keyword": "play fair", "score": 0.19772},
        {"keyword": "set in leeds", "score": 0.223139},
        {"keyword": "crime novels play", "score": 0.226757},
        {"keyword": "science fiction", "score": 0.371031},
        {"keyword": "cabin near manchester", "score": 0.379595},
        {"keyword": "million copies", "score": 0.383936},
        {"keyword": "reveal", "score": 0.383967},
        {"keyword": "clue", "score": 0.429933},
        {"keyword": "page", "score": 0.429933},
    ],
    "topics": [
        {"topic": "Books", "id": 2, "parent": "Arts", "score": 0.4266},
        {"topic": "Arts", "id": 1, "parent": "", "score": 0.3859},
    ],
    "chapters": [
        {"start_s": 0.0, "end_s": None, "title": "Intro", "url": "", "img": ""},
        {"start_s": 1476.7, "end_s": None, "title": "Reading aloud", "url": "", "img": ""},
        {"start_s": 2534.8, "end_s": None, "title": "Fair clues", "url": "", "img": ""},
        {"start_s": 3574.1, "end_s": None, "title": "Worldbuilding", "url": "", "img": ""},
    ],
    "chapters_source": "feed",
    "sponsors": [
        {
            "name": "Brightmug",
            "start_s": 4.236,
            "end_s": 30.162,
            "passages": [0],
            "cues": [
                "brought to you by",
                "use code",
                "% off",
                "first order",
                "promo url",
                "repeated in another episode",
            ],
            "url": "brightmug.example",
            "code": "THE10",
            "repeated": True,
            "text": "Welcome to The Literary Fiction Podcast. I'm Daniel Murphy, and today "
            "we're talking about literary fiction. And I'm Olivia Carter. Good to "
            "be back. This episode is brought to you by Brightmug. Brightmug roasts "
            "fresh coffee and delivers it to",
        },
        {
            "name": "Brightmug",
            "start_s": 1476.684,
            "end_s": 1526.621,
            "passages": [1, 2],
            "cues": [
                "brought to you by",
                "our sponsor",
                "use code",
                "% off",
                "first order",
                "promo url",
                "repeated in another episode",
            ],
            "url": "brightmug.example",
            "code": "THE10",
            "repeated": True,
            "text": "Let's move on to something listeners keep asking about. A poem should "
            "be read aloud at least once; the rhythm carries half the meaning. "
            "Right, and listeners have written to us about exactly that. The "
            "reading in Denver drew 64",
        },
    ],
    "analysis": {
        "transcript_version": 1,
        "notes_only": False,
        "passages": 6,
        "embedder": "all-MiniLM-L6-v2/int8",
        "analyzed_at": "2026-12-06T14:32:58.702975Z",
    },
}

# GET /api/episodes/713/transcript?page_size=4&at=2514 (a passage at 2534 s, less the lead-in)
TRANSCRIPT = {
    "episode": 713,
    "version": 1,
    "source": "rss",
    "format": "vtt",
    "language": "en-GB",
    "segments": 22,
    "offset": 10,
    "results": [
        {
            "start_s": 1525.413,
            "end_s": 1526.621,
            "speaker": "Daniel Murphy",
            "text": "And we're back.",
        },
        {
            "start_s": 2534.83,
            "end_s": 2538.801,
            "speaker": "Daniel Murphy",
            "text": "Now for a different side of the story.",
        },
        {
            "start_s": 2539.375,
            "end_s": 2545.392,
            "speaker": "Olivia Carter",
            "text": "The best crime novels play fair: every clue is on the page before the reveal.",
        },
        {
            "start_s": 2545.639,
            "end_s": 2548.86,
            "speaker": "Daniel Murphy",
            "text": "I hadn't thought of it that way.",
        },
    ],
    "next": "http://127.0.0.1:8000/api/episodes/713/transcript?cursor=eyJlIjo3MTMsInYiOjEsInMiOjE0fQ%3A1xaCcw%3A2eKjoL_FQbrPZwhqBu3nd6uqOH7-2RTogd2RJo8faT8&page_size=4",
    "page_size": 4,
}

# GET /api/episodes/713/similar?k=8 (two of the eight)
SIMILAR = {
    "episode": 713,
    "analyzed": True,
    "results": [
        {
            "id": 712,
            "title": "E59 | The future of literary fiction",
            "channel": 20,
            "channel_title": "The Literary Fiction Podcast",
            "published_at": "2025-02-17T19:59:00Z",
            "score": 0.9867,
            "relation": "later",
            "shared_topics": ["Books", "Arts"],
            "shared_keywords": [
                "clue",
                "crime novels play",
                "literary fiction",
                "million copies",
                "page",
                "play fair",
                "reveal",
                "science fiction",
            ],
        },
        {
            "id": 719,
            "title": "E52 | Literary fiction in 2024",
            "channel": 20,
            "channel_title": "The Literary Fiction Podcast",
            "published_at": "2024-11-18T17:57:00Z",
            "score": 0.981,
            "relation": "earlier",
            "shared_topics": ["Books", "Arts"],
            "shared_keywords": ["literary fiction", "science fiction"],
        },
    ],
}
