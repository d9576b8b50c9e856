"""Listening events: validation, the durable event log, the consumer that turns the log
into Delta tables, live and history queries, the gPodder sync API and the listener
simulator."""
