"""Recommender systems: ranking metrics and protocols, tuning, the ranking report section."""
