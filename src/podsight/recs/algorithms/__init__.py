"""The candidate models, one module each; :data:`podsight.recs.core.ALGORITHMS` names them."""

__all__: list[str] = []
