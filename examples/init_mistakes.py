"""Two ways to break nn.Module.__init__."""
from torch import nn


class Classifier(nn.Module):
    def __init__(self, features, classes):  # NNC002: nn.Module.__init__ never runs
        self.features = features
        self.classes = classes

    def forward(self, x):
        return x


class Encoder(nn.Module):
    def __init__(self, dim):
        self.dim = dim  # a plain value is fine here
        self.proj = nn.Linear(dim, dim)  # NNC004: torch raises AttributeError
        super().__init__()

    def forward(self, x):
        return self.proj(x)
