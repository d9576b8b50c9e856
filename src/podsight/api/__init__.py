"""Shared REST plumbing: one error shape, pagination, routing."""
