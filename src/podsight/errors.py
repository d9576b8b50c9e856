"""The root of every error podsight raises on purpose, and its few branches.

A :class:`PodsightError`'s message is written for the person running podsight: it says
what went wrong and what to do. Front ends translate it once, at their boundary: the CLI
(``cli/main.py``, ``_Root``) prints one ``error: …`` line and exits with ``exit_code``;
the API (``api/errors.py``, ``exception_handler``) answers with ``http_status`` and the
shared JSON error body. Any other exception is a bug.

The hierarchy (branches say *whose* problem it is, so front ends need no list of
classes)::

    PodsightError                  exit 1 · HTTP 500   the run failed
    ├── UsageError                 exit 2 · HTTP 400   the request itself is wrong
    │   ├── ConfigurationError     exit 2 · HTTP 503   a setting or the data directory
    │   │   └── DatabaseUnavailable (bootstrap), SettingError (conf), DataMissing (recs.evaluate)
    │   ├── PipelineBusy (pipeline.runner; HTTP 409): another pipeline run holds the lock
    │   └── InputError             exit 2 · HTTP 400   a document, file, dump or value given
    │       ├── FeedParseError (sources.rss.parser), DumpFormatError (…dump.layout)
    │       ├── SourcesFileError (…sync), UnknownSource (…connector), LabelError (matching.report)
    │       ├── AccountError (accounts.services), TimespanError (conf)
    │       ├── InvalidSimulation (demo.simulate), AudioError, AudioTooLong (content.asr)
    │       ├── InvalidSearch, InvalidCursor (directory.service), BodyTooLarge (api.body)
    │       └── InvalidJob (jobs.allowed)
    ├── NotFoundError              exit 1 · HTTP 404   a named thing does not exist
    │   └── NoSuchToken (accounts.services), FeedNotFound (directory.service; exit 2),
    │       NoSuchJob (jobs.services)
    ├── SourceError                exit 1 · HTTP 502   a feed or a source's API failed
    │   ├── FetchError and its kinds (sources.rss.fetch)
    │   └── ApiError and its kinds (sources.http)
    └── StorageError               exit 1 · HTTP 503   database, lake, event log or index
        ├── LogUnavailable (events.log), ConsumerBusy (events.consumer)
        └── DirectoryUnavailable (directory.service), DirectoryBusy (directory.index)

Errors that fit no branch stay directly under the root: ``QualityError`` (here: a
step's data-quality checks failed, lake.quality), ``LinkError`` (matching.review;
its ``code`` picks the API status), ``SimulationError`` (demo.simulate), ``CannotServe``
(serving), ``LoginThrottled`` (accounts.throttle; HTTP 429), ``JobRunning``
(jobs.services; HTTP 409), ``Refused`` (gpodder.api: carries its HTTP status; the
gPodder views answer it in the API's error shape) and
``InvalidDevice`` (gpodder.services; the views answer 400 ``invalid_device``) and
``ApiCallError`` with ``ApiUnreachable`` (dashboard.client: an answer of podsight's own
API, shown on the page as the API worded it).

Some leaves also keep the builtin base they had before this root existed (``ValueError``
for bad input, ``LookupError`` for a missing name, ``RuntimeError`` for an unusable log),
so code and tests that catch the builtin keep working; front ends catch only
:class:`PodsightError`. Private control-flow exceptions (``_Retry`` in sources.http,
``_Transient`` in demo.simulate, ``_BadRow`` in the dump import) never leave their
module, so they stay outside the hierarchy.
"""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "InputError",
    "NotFoundError",
    "PodsightError",
    "QualityError",
    "SourceError",
    "StorageError",
    "UsageError",
]


class PodsightError(Exception):
    """An expected failure of a run: exit code 1; HTTP 500 when nothing narrower fits."""

    exit_code = 1
    http_status = 500
    # The API error body's ``code``; subclasses name their kind.
    code = "error"


class UsageError(PodsightError):
    """The request itself is wrong (an argument, a file given): exit code 2."""

    exit_code = 2
    http_status = 400
    code = "bad_request"


class ConfigurationError(UsageError):
    """A setting (environment variable, data directory) is wrong or unusable.

    The API answers 503: the server, not the client, has to change."""

    http_status = 503
    code = "not_configured"


class InputError(UsageError):
    """A document, file, dump or value given to podsight cannot be used as it is."""

    code = "invalid"


class NotFoundError(PodsightError):
    """Something named (a token, a record, a feed id) does not exist: exit 1, HTTP 404."""

    http_status = 404
    code = "not_found"


class SourceError(PodsightError):
    """A feed or a source's API (the network, the remote server) failed: HTTP 502."""

    http_status = 502
    code = "upstream_error"


class StorageError(PodsightError):
    """Where podsight keeps data (database, lake, event log, search index) cannot be used
    now: HTTP 503 (retry later)."""

    http_status = 503
    code = "unavailable"


class QualityError(PodsightError):
    """What a step wrote failed its data-quality checks (:mod:`podsight.lake.quality`):
    the step fails, so nothing downstream reads the data. The message names the table,
    the check, the counts, a few offending keys and the version to restore; ``report``
    holds every check."""

    code = "quality_failed"

    def __init__(self, message: str, *, report: object = None) -> None:
        super().__init__(message)
        self.report = report
