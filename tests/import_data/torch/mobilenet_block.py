"""MobileNet-style blocks: depthwise 3x3 and pointwise 1x1 convolutions with nn.ReLU6, an inverted
residual with a skip, and the head as a mean over the positions."""

from torch import nn


def conv_bn(inp, oup, kernel, stride=1, groups=1, act=True):
    layers = [nn.Conv2d(inp, oup, kernel, stride, kernel // 2, groups=groups, bias=False), nn.BatchNorm2d(oup)]
    return nn.Sequential(*layers, nn.ReLU6(inplace=True)) if act else nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, expand_ratio):
        super().__init__()
        hidden = inp * expand_ratio
        self.use_res_connect = stride == 1 and inp == oup
        self.conv = nn.Sequential(
            conv_bn(inp, hidden, 1),
            conv_bn(hidden, hidden, 3, stride, groups=hidden),  # depthwise
            conv_bn(hidden, oup, 1, act=False),
        )

    def forward(self, x):
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


class TinyMobileNet(nn.Module):
    def __init__(self, width=16, num_classes=100):
        super().__init__()
        self.features = nn.Sequential(
            conv_bn(3, width, 3, 2),
            conv_bn(width, width, 3, groups=width),  # depthwise separable: depthwise ...
            conv_bn(width, 2 * width, 1),  # ... then pointwise
            InvertedResidual(2 * width, 2 * width, 1, 6),
            InvertedResidual(2 * width, 3 * width, 2, 6),
            InvertedResidual(3 * width, 3 * width, 1, 6),
        )
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(3 * width, num_classes))

    def forward(self, x):
        x = self.features(x)
        x = x.mean((2, 3))
        return self.classifier(x)


def tiny_mobilenet(width=16, num_classes=100):
    """A factory, as torchvision's model builders are."""
    return TinyMobileNet(width, num_classes)
