"""RSS/Atom feeds: parsing (.parser), fetching (.fetch) and ingestion (.ingest)."""
