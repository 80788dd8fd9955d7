"""The two `Net` classes that started nncheck: the second one overrides __call__ instead of
defining forward, and by reusing the name it silently replaces the first."""
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, in_channels, mid_channels, out_channels):
        super(Net, self).__init__()
        self.conv0 = torch.nn.Sequential(
            torch.nn.Conv2d(in_channels, mid_channels, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1)),
            torch.nn.LeakyReLU())
        self.conv1 = torch.nn.Sequential(
            torch.nn.Conv2d(mid_channels, out_channels * 2, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1)))

    def forward(self, x):
        x = self.conv0(x)
        x = self.conv1(x)
        return x


class Net(nn.Module):  # NNC003: replaces the Net above
    def __init__(self, in_channels, mid_channels, out_channels):
        super(Net, self).__init__()
        self.conv0 = torch.nn.Sequential(
            torch.nn.Conv2d(in_channels, mid_channels, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1)),
            torch.nn.LeakyReLU())
        self.conv1 = torch.nn.Sequential(
            torch.nn.Conv2d(mid_channels, out_channels * 2, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1)))

    def __call__(self, x):  # NNC001: forward hooks never run
        x = self.conv0(x)
        x = self.conv1(x)
        return x
