"""The {{ name }} study: its runners and their helpers, imported as a package by the harness.

Modules of this folder import each other relatively (``from . import data``).
"""
