"""Paths on the author's machine that the code does use (fixture for the audit tests)."""
import argparse

import numpy as np
import pandas as pd

TRAIN = "/home/bob/data/train.csv"


def load(path="/home/bob/data/embeddings.npy"):
    return np.load(path), pd.read_csv(TRAIN)


def options():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="/home/bob/runs")
    return parser
