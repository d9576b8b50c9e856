"""``python -m podsight_spark``: ``run JOB --params JSON`` and ``list``.

``run`` prints exactly one line on stdout, the job's result as JSON (at least ``job``,
``seconds`` and, for jobs that write a table, ``rows_written`` and ``table_version``);
anything that stops the job prints ``podsight_spark: error: ...`` on stderr and exits 2.
This is the contract podsight's web side (``podsight.engines``) codes against.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from typing import Any

from podsight_spark.errors import JobError

EXIT_ERROR = 2


def _fail(message: str) -> int:
    print(f"podsight_spark: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def _params(raw: str) -> dict[str, Any]:
    if raw.startswith("@"):  # @file: parameters too long for a command line
        try:
            with open(raw[1:], encoding="utf-8") as f:
                raw = f.read()
        except OSError as exc:
            raise JobError(f"cannot read --params file {raw[1:]}: {exc.strerror}") from None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise JobError(f"--params is not valid JSON ({exc}): {raw[:200]}") from None
    if not isinstance(value, dict):
        raise JobError(
            f"--params must be a JSON object, e.g. '{{\"lake\": \"...\"}}', not {raw[:200]}"
        )
    return value


def _describe() -> list[dict[str, Any]]:
    from podsight_spark import registry

    registry._load()
    out = []
    for name in sorted(registry.JOBS):
        spec = registry.JOBS[name]
        params = {}
        for pname, p in spec.params.items():
            types = p.type if isinstance(p.type, tuple) else (p.type,)
            entry: dict[str, Any] = {"type": "|".join(t.__name__ for t in types), "help": p.help}
            if p.default is registry.REQUIRED:
                entry["required"] = True
            else:
                entry["default"] = p.default
            if p.choices:
                entry["choices"] = list(p.choices)
            params[pname] = entry
        out.append({"name": name, "help": spec.help, "params": params})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m podsight_spark", description="podsight's jobs on Apache Spark"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run one job; prints its result as one JSON line")
    run.add_argument("job", help="the job's name, e.g. events.engagement (see `list`)")
    run.add_argument("--params", default="{}", help="a JSON object, or @FILE holding one")
    listing = sub.add_parser("list", help="the jobs and their parameters")
    listing.add_argument("--json", action="store_true", help="as one JSON line")
    args = parser.parse_args(argv)

    if args.command == "list":
        jobs = _describe()
        if args.json:
            print(json.dumps(jobs))
        else:
            for spec in jobs:
                print(f"{spec['name']}: {spec['help']}")
                for pname, p in spec["params"].items():
                    default = (
                        "required" if p.get("required") else f"default {json.dumps(p['default'])}"
                    )
                    print(f"    {pname} ({p['type']}, {default}): {p['help']}")
        return 0

    from podsight_spark import registry

    try:
        result = registry.run(args.job, _params(args.params))
    except JobError as exc:
        return _fail(str(exc))
    except Exception as exc:  # noqa: BLE001 - one exit code for every failure, said plainly
        traceback.print_exc(file=sys.stderr)
        first = (str(exc).strip().splitlines() or [""])[0]
        hint = ""
        if "JAVA_GATEWAY_EXITED" in str(exc) or "Java gateway" in str(exc):
            hint = " (Spark needs Java 17: install it and put java on PATH, or set JAVA_HOME)"
        return _fail(f"{args.job} failed: {type(exc).__name__}: {first}{hint}")
    print(json.dumps(result, default=str), flush=True)
    return 0
