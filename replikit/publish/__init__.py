"""Outputs for people: figures, the report and its rendering, the MLRC draft, the letter."""
