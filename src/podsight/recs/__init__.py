"""Recommending episodes: candidate models behind one contract, blended with weights
fitted on a validation split, filtered and explained, precomputed for serving, refreshed
when a listener's engagement arrives, and evaluated offline against published baselines.

- :mod:`.core`: the shared vocabulary (``Dataset``, ``History``, ``Scored``) and the
  ``Recommender`` contract every candidate model implements, with the registry of models;
- :mod:`.algorithms`: the models (``als``, ``bpr``, ``itemknn``, ``ease``, ``popular``,
  ``random``, ``content``, ``fresh``, ``trending``);
- :mod:`.models`: what the database holds (model versions, cached lists, impressions).

docs/recs.md describes the whole path.
"""

__all__: list[str] = []
