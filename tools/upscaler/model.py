"""The embedded x4 upscaler: an ESRGAN-lite residual CNN on the 64-px image, a pixel shuffle to 256 px, added
to a bicubic enlargement (the network learns only what bicubic misses: crisp edges, flat fills).

In and out: [1, 3, H, W] float in [0, 1] (the ESRGAN family's contract, what T2I Studio's upscaler engine feeds).
Every layer is a 3x3 convolution, so an output pixel sees a (2 * LAYERS + 1)-px square of the input: tiles that
overlap by more than RECEPTIVE_RADIUS input pixels reproduce the untiled result exactly.
"""
import torch
from torch import nn
import torch.nn.functional as F

SCALE = 4


class Block(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.a = nn.Conv2d(channels, channels, 3, padding=1)
        self.b = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return x + 0.2 * self.b(F.leaky_relu(self.a(x), 0.2))


class TinyUpscaler(nn.Module):
    def __init__(self, channels=32, blocks=6):
        super().__init__()
        self.head = nn.Conv2d(3, channels, 3, padding=1)
        self.body = nn.Sequential(*[Block(channels) for _ in range(blocks)])
        self.fuse = nn.Conv2d(channels, channels, 3, padding=1)
        self.tail = nn.Conv2d(channels, 3 * SCALE * SCALE, 3, padding=1)
        self.shuffle = nn.PixelShuffle(SCALE)
        self.layers = 3 + 2 * blocks

    @property
    def receptive_radius(self):
        return self.layers

    def forward(self, x):
        features = self.head(x)
        features = self.fuse(self.body(features)) + features
        detail = self.shuffle(self.tail(F.leaky_relu(features, 0.2)))
        base = F.interpolate(x, scale_factor=SCALE, mode="bicubic", align_corners=False)
        return (base + detail).clamp(0, 1)
