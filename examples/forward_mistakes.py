"""Ways to break the division of labour: __init__ builds the layers, forward only computes."""
import torch
import torch.nn.functional as F
from torch import nn


class Head(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.body = nn.Sequential([nn.Linear(dim, dim), nn.ReLU()])  # NNC014@21: raises TypeError

    def forward(self, x):
        x = F.dropout(self.norm(x), p=0.1)  # NNC012@13: still dropping after model.eval()
        return nn.Linear(x.shape[-1], 10)(x)  # NNC009@16: new weights on every call, never trained


def evaluate(model, batches):
    model.eval  # NNC013: not called, so the model stays in training mode
    with torch.no_grad():
        return [model(batch) for batch in batches]
