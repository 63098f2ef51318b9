"""Watches: a saved area + filters that tells its watcher when new archive captures cover it."""
