"""From run records to verdicts: statistics, the verdict rules, the claims ledger and its file."""
