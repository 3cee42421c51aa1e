"""A plain 50-layer network (15 conv-BN-ReLU units, two max pools, the head) for the import benchmark."""

from torch import nn


def unit(cin, cout, stride=1):
    return [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class Plain50(nn.Module):
    input_shape = (3, 224, 224)

    def __init__(self, num_classes=1000):
        super().__init__()
        widths = [32, 32, 64, 64, 64, 128, 128, 128, 128, 256, 256, 256, 256, 512, 512]
        layers, cin = [], 3
        for index, cout in enumerate(widths):
            layers += unit(cin, cout, 2 if index in (0, 5, 9) else 1)
            cin = cout
            if index in (1, 12):
                layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.features(x).mean((2, 3))
        return self.head(x)
