import torch
from torch import nn


def build(hidden):
    layer = nn.Linear(hidden, hidden)
    if torch.cuda.is_available():
        layer = layer.cuda()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return layer.to(device)
