"""A small convolutional encoder that reads a grey image as a left-to-right sequence of
feature columns, for an attention decoder to attend over (the show-attend-tell pattern of
Xu et al., 2015, with columns in place of a 2-D grid, as in text-line recognisers).

    image (B, 1, Hi, Wi) -> conv 3x3 (C/2) ReLU -> conv 3x3 (C) ReLU -> max-pool 2x2
    -> conv 3x3 (C) ReLU -> each column's Hi/2 rows x C channels, flattened
    -> linear + ReLU -> layer norm -> columns (B, Wi/2, C)

Each column summarises a 2-pixel-wide vertical strip (its receptive field is 10 pixels
wide); flattening its rows, rather than pooling them, keeps where in the strip the strokes
are. The layer norm puts the columns on the scale of word embeddings: without it the
small activations of a few ReLU layers over [0, 1] pixels make the decoder learn slowly.

Shape legend: B batch, Hi image height, Wi image width, C channels.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F


class ImageColumnEncoder(nn.Module):
    """Conv layers over a grey image, pooled over its height into feature columns.

    Args:
        channels: C, the width of each feature column (even).
        height: Hi, the image height (even).
        dropout: on the columns.

    Shape:
        forward(images (B, Hi, Wi) float, widths (B,) real widths in pixels)
        -> (columns (B, Wi // 2, C), lengths (B,) real columns, at least 1)
    """

    def __init__(self, channels: int = 64, height: int = 8, dropout: float = 0.0) -> None:
        super().__init__()
        if channels < 2 or channels % 2:
            raise ValueError(f"channels must be an even number >= 2, got {channels}")
        if height < 2 or height % 2:
            raise ValueError(f"height must be an even number >= 2, got {height}")
        self.channels, self.height = channels, height
        self.conv1 = nn.Conv2d(1, channels // 2, 3, padding=1)
        self.conv2 = nn.Conv2d(channels // 2, channels, 3, padding=1)
        self.conv3 = nn.Conv2d(channels, channels, 3, padding=1)
        self.project = nn.Linear(channels * (height // 2), channels)
        self.norm = nn.LayerNorm(channels)
        self.dropout = nn.Dropout(dropout)

    def forward(self, images: Tensor, widths: Tensor) -> tuple[Tensor, Tensor]:
        if images.size(1) != self.height:
            raise ValueError(f"images must be {self.height} pixels high, got {images.size(1)}")
        widths = widths.to(images.device)
        # Activations right of an image's width are zeroed after every layer, so that the
        # padding of a batch reads exactly as the zero padding of a lone image does (a
        # convolution's bias would otherwise make it non-zero and leak into the last columns).
        full = _width_mask(widths, images.size(2))  # (B, 1, 1, Wi)
        x = images.unsqueeze(1) * full  # (B, 1, Hi, Wi)
        x = F.relu(self.conv1(x)) * full
        x = F.relu(self.conv2(x)) * full  # (B, C, Hi, Wi)
        lengths = torch.clamp(widths // 2, min=1, max=images.size(2) // 2)
        half = _width_mask(lengths, images.size(2) // 2)
        x = F.relu(self.conv3(F.max_pool2d(x, 2) * half)) * half  # (B, C, Hi/2, Wi/2)
        strips = x.permute(0, 3, 1, 2).flatten(2)  # (B, Wi/2, C * Hi/2)
        columns = self.norm(F.relu(self.project(strips)))  # (B, Wi/2, C)
        return self.dropout(columns), lengths

    def extra_repr(self) -> str:
        return f"channels={self.channels}, height={self.height}"


def _width_mask(widths: Tensor, width: int) -> Tensor:
    """(B, 1, 1, width) float: 1 left of each row's width, 0 right of it."""
    steps = torch.arange(width, device=widths.device)
    return (steps < widths.unsqueeze(1)).to(torch.float32)[:, None, None, :]
