"""Running one experiment with one seed: the harness, its records, its resources."""
