"""The rlzoo study: the RL Baselines3 Zoo's benchmark rows, re-run over seeds.

Imported as a package by the harness; its modules import each other relatively.
"""
