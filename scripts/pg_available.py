"""Exit 0 when the PostgreSQL server of the given URL accepts a connection, else 1."""

import sys

import psycopg

try:
    psycopg.connect(sys.argv[1], connect_timeout=3).close()
except psycopg.Error as exc:
    print(f"PostgreSQL not available: {exc}".strip(), file=sys.stderr)
    sys.exit(1)
