"""The one native module: podsight's fast RSS/Atom scanner (src/podsight/sources/rss/_fastscan.c).

Metadata lives in pyproject.toml; this file only declares the C extension, which
``pip install -e .`` (``make venv``) compiles in place. Without a compiler the parser
still works: parser.py falls back to the lxml path.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "podsight.sources.rss._fastscan",
            ["src/podsight/sources/rss/_fastscan.c"],
            extra_compile_args=["-O2"],
            optional=True,
        )
    ]
)
