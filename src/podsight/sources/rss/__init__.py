"""RSS/Atom feeds: parsing (:mod:`.parser`), fetching (:mod:`.fetch`) and ingestion (:mod:`.ingest`)."""
