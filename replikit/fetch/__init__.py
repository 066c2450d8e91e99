"""Fetching a study's artifacts: cache, source kinds, safe archives, the lock."""
