"""``podsight.pipeline`` loads its steps on first use: the graph alone imports only the
standard library (Airflow's virtualenv has none of podsight's dependencies), and every
way in to the steps still finds them all registered."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _imports(code: str) -> list[str]:
    probe = (
        f"import sys\n{code}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('podsight', 'django')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return eval(done.stdout.strip().splitlines()[-1])  # a printed list of str


def test_the_graph_imports_only_the_standard_library():
    assert _imports("import podsight.pipeline.graph") == [
        "podsight", "podsight.pipeline", "podsight.pipeline.graph",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "code",
    [
        "from podsight.pipeline import STEPS",
        "from podsight.pipeline import run_step; from podsight.pipeline.registry import STEPS",
        "from podsight.pipeline.runner import STEPS",
    ],
)
def test_every_way_in_finds_the_steps_registered(code):
    probe = f"{code}\nassert 'sources.sync' in STEPS and 'pipeline.run' in STEPS, sorted(STEPS)"
    loaded = _imports(probe)
    assert "podsight.pipeline.steps" in loaded


def test_an_unknown_name_is_an_attribute_error():
    import podsight.pipeline

    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        podsight.pipeline.nothing  # noqa: B018
