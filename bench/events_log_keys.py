"""The local event log's unique key: event id alone against the event's hour, then its id.

    .venv/bin/python bench/events_log_keys.py [--events 1200000] [--batch 5000]

Appends batches of random (uuid4) event ids through ``LocalLog`` itself (WAL,
``synchronous=FULL``, one transaction per batch) into a fresh log, and prints the append
rate over the first and the last 200,000 events, for two kinds of traffic:
``live`` (events happened in the last minutes, the clock moving on with the batches) and
``spread`` (each batch's events spread back over up to a day, as in
``bench/events_ingest.py``). The id-only key is what the log used before; it is built
here by giving every record the same hour. Not a test: figures depend on the disk.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

from podsight.events.log import LocalLog, Record

PAYLOAD = b"x" * 380  # about an event's JSON
US = 1_000_000


def _batches(kind: str, events: int, size: int, same_hour: bool):
    now = 1_790_000_000 * US
    for b in range(events // size):
        records = []
        for i in range(size):
            n = b * size + i
            if kind == "live":
                occurred = now + n * 20_000 - (i % 300) * US  # 50,000 events/s, ≤ 5 min old
            else:
                occurred = now - (n % 86_400) * US
            records.append(
                Record(str(uuid.uuid4()), f"user-{n % 5000}", PAYLOAD, 0 if same_hour else occurred)
            )
        yield records


def _run(kind: str, same_hour: bool, events: int, size: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="podsight-logkeys-") as tmp:
        log = LocalLog(Path(tmp) / "log.sqlite3")
        took = []
        for records in _batches(kind, events, size, same_hour):
            started = time.perf_counter()
            result = log.append(records)
            took.append(time.perf_counter() - started)
            assert result.stored == len(records)
        log.close()
    window = max(1, 200_000 // size)
    return size * window / sum(took[:window]), size * window / sum(took[-window:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_200_000)
    parser.add_argument("--batch", type=int, default=5_000)
    args = parser.parse_args()
    print(f"LocalLog.append, {args.batch:,}-event batches, {args.events:,} events, rows/s")
    print(f"{'traffic':8}{'key':14}{'first 200k':>14}{'last 200k':>14}")
    for kind in ("live", "spread"):
        for same_hour, name in ((True, "id only"), (False, "hour + id")):
            first, last = _run(kind, same_hour, args.events, args.batch)
            print(f"{kind:8}{name:14}{first:>14,.0f}{last:>14,.0f}")


if __name__ == "__main__":
    main()
