"""The durable event log: accepted events wait here until the consumer writes them to the
lake. One interface, two backends, chosen by ``PODSIGHT_EVENT_LOG``:

``local`` (default)
    An SQLite file (``$PODSIGHT_HOME/events/log.sqlite3``) in WAL mode with
    ``synchronous=FULL``: ``append`` returns after the batch's commit has been written to
    the WAL and fsync'ed, so an accepted batch survives a crash of the process and of the
    machine (power loss included, as far as the disk honours fsync). The hour the event
    happened plus its id is a unique key, so a batch sent twice is stored once and
    ``append`` names the repeats (an id reused at another hour is left to the consumer).

``kafka``
    A confluent-kafka producer with ``acks=all`` and idempotence on, keyed by user (one
    user's events stay in order within a partition). ``append`` returns after every
    message's delivery report arrived: the brokers in sync have it. Kafka cannot say
    whether an event id was sent before, so repeats across batches are dropped by the
    consumer instead (it checks event ids against the ``events`` table).

A position is ``{partition: next offset}``; the local log has one partition, 0.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from podsight import conf
from podsight.errors import StorageError

__all__ = [
    "Entry",
    "EventLog",
    "KafkaLog",
    "LocalLog",
    "LogUnavailable",
    "Position",
    "Record",
    "open_log",
    "reset_shared",
]

Position = dict[int, int]


class LogUnavailable(StorageError, RuntimeError):
    """The log could not store or read events; nothing of the batch was claimed stored."""


@dataclass(frozen=True, slots=True)
class Record:
    event_id: str
    key: str  # the user: Kafka keeps one user's events in one partition, in order
    payload: bytes
    occurred_us: int  # when the event happened; a retry resends the same instant


@dataclass(frozen=True, slots=True)
class Entry:
    partition: int
    offset: int
    payload: bytes


@dataclass
class AppendResult:
    stored: int = 0
    duplicates: set[str] = field(default_factory=set)


class EventLog(Protocol):
    backend: str

    def append(self, records: list[Record]) -> AppendResult:
        """Store the records durably; returns once they are safe (see the module doc)."""

    def read(self, position: Position, limit: int) -> tuple[list[Entry], Position]:
        """Up to ``limit`` entries after ``position``, and the position after them."""

    def end(self) -> Position:
        """The position after the last stored entry (what ``--once`` drains to)."""

    def close(self) -> None: ...


_US_PER_HOUR = 3_600_000_000


def _event_key(record: Record) -> bytes:
    # The hour the event happened, then its id. Event ids are random, so a unique index
    # of ids alone takes each insert to a random page of an ever larger B-tree: every
    # batch rewrites thousands of pages into the WAL, and appends slowed from 108,000 to
    # 42,000 rows/s over 1.2 million events. With the hour first, a batch's inserts land
    # in the recent hours' part of the index and the rate held at ~100,000 rows/s
    # (bench/events_log_keys.py). A retry resends the same event, hour included, so it
    # is still recognised.
    hour = max(0, record.occurred_us // _US_PER_HOUR)
    return hour.to_bytes(4, "big") + bytes.fromhex(record.event_id.replace("-", ""))


class LocalLog:
    """SQLite append-only log; safe to share between threads and processes."""

    backend = "local"

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else conf.podsight_home() / "events" / "log.sqlite3"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._thread_lock = threading.Lock()
        self._lock_path = self.path.with_suffix(".lock")
        with self._connection() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS log ("
                " pos INTEGER PRIMARY KEY,"
                " event_key BLOB NOT NULL UNIQUE,"
                " user_key TEXT NOT NULL,"
                " payload BLOB NOT NULL)"
            )

    def _connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, isolation_level=None, timeout=60)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA cache_size=-65536")  # 64 MB: the recent index pages stay hot
            self._local.db = db
        return db

    def append(self, records: list[Record]) -> AppendResult:
        if not records:
            return AppendResult()
        db = self._connection()
        keys = [_event_key(r) for r in records]
        rows = [(k, r.key, r.payload) for k, r in zip(keys, records, strict=True)]
        with self._writer():
            return self._append(db, keys, records, rows)

    @contextmanager
    def _writer(self):
        # Writers queue on a lock, not on SQLite's busy handler: that one polls with
        # sleeps of up to 100 ms, which cost both throughput and tail latency under load.
        with self._thread_lock:
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # releases the flock

    def _append(self, db, keys, records, rows) -> AppendResult:
        try:
            # IMMEDIATE takes the write lock first: the rows after ``before`` are this
            # batch's, and no other writer can insert one of its ids meanwhile.
            db.execute("BEGIN IMMEDIATE")
            try:
                (before,) = db.execute("SELECT coalesce(max(pos), 0) FROM log").fetchone()
                changes = db.total_changes
                db.executemany(
                    "INSERT OR IGNORE INTO log (event_key, user_key, payload) VALUES (?, ?, ?)",
                    rows,
                )
                stored = db.total_changes - changes
                duplicates: set[str] = set()
                if stored < len(rows):  # some ids were there already: find which
                    mine = {
                        row[0]
                        for row in db.execute("SELECT event_key FROM log WHERE pos > ?", (before,))
                    }
                    pairs = zip(keys, records, strict=True)
                    duplicates = {r.event_id for k, r in pairs if k not in mine}
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise LogUnavailable(f"the local event log at {self.path} failed: {exc}") from exc
        return AppendResult(stored=stored, duplicates=duplicates)

    def read(self, position: Position, limit: int) -> tuple[list[Entry], Position]:
        after = position.get(0, 1)
        rows = (
            self._connection()
            .execute(
                "SELECT pos, payload FROM log WHERE pos >= ? ORDER BY pos LIMIT ?", (after, limit)
            )
            .fetchall()
        )
        entries = [Entry(0, pos, payload) for pos, payload in rows]
        return entries, {0: rows[-1][0] + 1 if rows else after}

    def end(self) -> Position:
        (last,) = self._connection().execute("SELECT coalesce(max(pos), 0) FROM log").fetchone()
        return {0: last + 1}

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


class KafkaLog:
    """Kafka topic as the log (confluent-kafka)."""

    backend = "kafka"

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str = "podsight.events",
        extra: dict[str, object] | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        from confluent_kafka import Producer

        if not bootstrap_servers:
            raise LogUnavailable(
                "PODSIGHT_EVENT_LOG=kafka needs PODSIGHT_KAFKA_BOOTSTRAP_SERVERS "
                "(host:port[,host:port…])"
            )
        self.topic = topic
        self.timeout_s = timeout_s
        self._common = {"bootstrap.servers": bootstrap_servers, **(extra or {})}
        self._producer = Producer(
            {
                **self._common,
                "acks": "all",
                "enable.idempotence": True,
                "linger.ms": 5,
                "compression.type": "lz4",
            }
        )
        self._consumer = None
        self._admin = None
        self._lock = threading.Lock()

    def append(self, records: list[Record]) -> AppendResult:
        failures: list[str] = []

        def delivered(error, message) -> None:
            if error is not None:
                failures.append(str(error))

        # One producer per process; the lock keeps one thread's flush from counting
        # another thread's deliveries as its own.
        with self._lock:
            try:
                for record in records:
                    while True:
                        try:
                            self._producer.produce(
                                self.topic,
                                key=record.key.encode(),
                                value=record.payload,
                                on_delivery=delivered,
                            )
                            break
                        except BufferError:  # the local queue is full: let it drain
                            self._producer.poll(0.05)
                left = self._producer.flush(self.timeout_s)
            except Exception as exc:  # KafkaException and friends
                raise LogUnavailable(f"Kafka did not take the batch: {exc}") from exc
        if left or failures:
            reason = failures[0] if failures else f"{left} message(s) undelivered"
            raise LogUnavailable(
                f"Kafka did not confirm the batch within {self.timeout_s:.0f} s ({reason}); "
                "resend it: events already stored are dropped as duplicates by the consumer"
            )
        return AppendResult(stored=len(records))

    def _partitions(self) -> list[int]:
        metadata = self._producer.list_topics(self.topic, timeout=self.timeout_s)
        topic = metadata.topics.get(self.topic)
        if topic is None or topic.error is not None:
            raise LogUnavailable(f"Kafka topic {self.topic!r} is not available")
        return sorted(topic.partitions)

    def _reader(self):
        if self._consumer is None:
            from confluent_kafka import Consumer

            self._consumer = Consumer(
                {
                    **self._common,
                    # Positions live in the lake's commits, not in Kafka's group offsets.
                    "group.id": "podsight-consumer",
                    "enable.auto.commit": False,
                    "enable.auto.offset.store": False,
                    "auto.offset.reset": "earliest",
                    "isolation.level": "read_committed",
                }
            )
        return self._consumer

    def read(self, position: Position, limit: int) -> tuple[list[Entry], Position]:
        from confluent_kafka import TopicPartition

        consumer = self._reader()
        partitions = self._partitions()
        end = self.end(partitions)
        wanted = {p: position.get(p, 0) for p in partitions}
        if all(wanted[p] >= end[p] for p in partitions):
            return [], wanted
        consumer.assign([TopicPartition(self.topic, p, wanted[p]) for p in partitions])
        entries: list[Entry] = []
        after = dict(wanted)
        deadline = time.monotonic() + self.timeout_s
        while len(entries) < limit and any(after[p] < end[p] for p in partitions):
            if time.monotonic() > deadline:
                break
            # Ask for no more than the partitions hold: consume() waits for the full count.
            waiting = sum(max(0, end[p] - after[p]) for p in partitions)
            wanted_now = min(limit - len(entries), waiting, 10_000)
            for message in consumer.consume(wanted_now, timeout=1.0):
                if message.error() is not None:
                    continue  # partition EOF and transient errors: the loop polls again
                entries.append(Entry(message.partition(), message.offset(), message.value()))
                after[message.partition()] = message.offset() + 1
        return entries, after

    def end(self, partitions: Iterable[int] | None = None) -> Position:
        from confluent_kafka import TopicPartition
        from confluent_kafka.admin import AdminClient, OffsetSpec

        if self._admin is None:
            self._admin = AdminClient(self._common)
        wanted = partitions if partitions is not None else self._partitions()
        # One ListOffsets request for all partitions (per-partition watermark queries
        # cost a round trip each).
        futures = self._admin.list_offsets(
            {TopicPartition(self.topic, p): OffsetSpec.latest() for p in wanted},
            request_timeout=self.timeout_s,
        )
        try:
            return {tp.partition: future.result().offset for tp, future in futures.items()}
        except Exception as exc:
            raise LogUnavailable(f"Kafka did not say where the log ends: {exc}") from exc

    def close(self) -> None:
        self._producer.flush(self.timeout_s)
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None


_shared: dict[tuple, EventLog] = {}
_shared_lock = threading.Lock()


def open_log() -> EventLog:
    """The log named by the settings, one per process and setting."""
    backend = conf.env("PODSIGHT_EVENT_LOG", "local").lower()
    if backend == "local":
        key: tuple = ("local", str(conf.podsight_home()))
    elif backend == "kafka":
        key = (
            "kafka",
            conf.env("PODSIGHT_KAFKA_BOOTSTRAP_SERVERS"),
            conf.env("PODSIGHT_KAFKA_TOPIC", "podsight.events"),
            conf.credential("PODSIGHT_KAFKA_CONFIG"),
        )
    else:
        raise LogUnavailable(f"PODSIGHT_EVENT_LOG must be 'local' or 'kafka', not {backend!r}")
    with _shared_lock:
        log = _shared.get(key)
        if log is None:
            if backend == "local":
                log = LocalLog()
            else:
                try:
                    extra = json.loads(key[3]) if key[3] else {}
                except json.JSONDecodeError:
                    raise LogUnavailable(
                        "PODSIGHT_KAFKA_CONFIG must be a JSON object of librdkafka settings"
                    ) from None
                log = KafkaLog(key[1], key[2], extra)
            _shared[key] = log
        return log


def reset_shared() -> None:
    """Forget the per-process logs (tests switch settings between cases)."""
    with _shared_lock:
        for log in _shared.values():
            log.close()
        _shared.clear()
