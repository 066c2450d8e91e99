"""A script with no declared dependencies (fixture for replikit's audit tests)."""
import os

import pandas as pd

frame = pd.read_csv(os.path.join("data", "x.csv"))
print(frame.describe())
