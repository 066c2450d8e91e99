import argparse
import urllib.request

import numpy as np
import torch

from src.model import build

DATA = "/home/alice/experiments/ml-1m/ratings.dat"
load = lambda: np.loadtxt(DATA)  # noqa: E731 (a fixture: the path is used as a path)

def fetch():
    urllib.request.urlretrieve("https://example.org/ml-1m.zip", "ml-1m.zip")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.backends.cudnn.benchmark = True
    order = np.random.permutation(100)
    model = build(64).cuda()
    replica = torch.nn.DataParallel(model, device_ids=[0, 1, 2, 3])
    return order, replica, args


if __name__ == "__main__":
    fetch()
    main()
