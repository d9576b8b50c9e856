"""API tokens for client applications, and the Django users they may act for."""
