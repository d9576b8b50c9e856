"""The canonical catalog: channels (shows) and episodes, one row per real-world thing."""
