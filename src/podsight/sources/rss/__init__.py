"""RSS/Atom feeds: parsing (.parser), fetching (.fetch) and ingestion (.ingest)."""

# The package exports nothing itself: its public names are declared by the modules above.
__all__: list[str] = []
