"""Gradient-flow diagnostics for recurrent networks: the norm of dL/dh_t at every time
step and layer, and its plot (the vanishing gradient of Hochreiter, 1991, and Bengio,
Simard and Frasconi, 1994; the measurement of Pascanu, Mikolov and Bengio, 2013).

What is measured is the total derivative of the loss with respect to the hidden state
h_t, through every path: later time steps, upper layers and the output. That holds only
for the tensors the recurrence itself consumed. A fused layer (`torch.nn.LSTM`), or a
`torch.stack` of the steps made after the loop, is a separate node of the graph: its
gradient covers only the paths leaving that node (the loss and the layers above), not
the recurrence. To measure the recurrence, unroll the cell in Python and pass the list
of per-step states `[h_0, ..., h_{T-1}]` that the loop fed back into itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from seqnlp.errors import SeqnlpError
from seqnlp.fileio import atomic_write

HiddenStates = Tensor | Sequence[Tensor]


def hidden_grad_norms(
    loss: Tensor, hiddens: Sequence[HiddenStates], *, retain_graph: bool = False
) -> np.ndarray:
    """The norm of dL/dh_t for each layer and time step.

    Args:
        loss: a scalar in the graph of `hiddens`.
        hiddens: one entry per layer (or per model sharing the loss): either a (B, T, H)
            tensor, or a sequence of T tensors (B, H) (the states an unrolled loop fed
            back; see the module docstring for why this matters).
        retain_graph: keep the graph for another backward pass.

    Returns:
        (L, T) float64 array: the Frobenius norm over batch and hidden units of
        dL/dh_t, i.e. `||dL/dh_t||_2` of the (B, H) slice. A state the loss does not
        depend on gets 0.

    Raises:
        ValueError: when a tensor is not (B, T, H) or (B, H), or layers differ in T.
    """
    layers = [_checked(layer, index) for index, layer in enumerate(hiddens)]
    lengths = {layer.shape[1] if isinstance(layer, Tensor) else len(layer) for layer in layers}
    if len(lengths) > 1:
        raise ValueError(f"every layer needs the same number of steps, got {sorted(lengths)}")
    # One autograd call for every input: a (B, T, H) tensor is one input, a list T inputs.
    inputs = [t for layer in layers for t in ([layer] if isinstance(layer, Tensor) else layer)]
    grads = iter(torch.autograd.grad(loss, inputs, retain_graph=retain_graph, allow_unused=True))
    rows = []
    for layer in layers:
        if isinstance(layer, Tensor):
            grad = next(grads)
            rows.append(_step_norms(grad, layer.shape[1]))
        else:
            rows.append([_norm(next(grads)) for _ in layer])
    return np.asarray(rows, dtype=np.float64).reshape(len(layers), -1)


def _checked(layer: HiddenStates, index: int) -> HiddenStates:
    """Validate a layer's states: (B, T, H), or a list of (B, H)."""
    if isinstance(layer, Tensor):
        if layer.dim() != 3:
            raise ValueError(f"layer {index}: expected (B, T, H), got {tuple(layer.shape)}")
        return layer
    steps = list(layer)
    for step in steps:
        if step.dim() != 2:
            raise ValueError(f"layer {index}: each step must be (B, H), got {tuple(step.shape)}")
    return steps


def _step_norms(grad: Tensor | None, steps: int) -> list[float]:
    """Per-step norms of a (B, T, H) gradient (zeros when the loss ignores it)."""
    if grad is None:
        return [0.0] * steps
    per_step = torch.linalg.vector_norm(grad.detach().transpose(0, 1).reshape(steps, -1), dim=1)
    return per_step.double().tolist()  # (T,)


def _norm(grad: Tensor | None) -> float:
    return 0.0 if grad is None else float(torch.linalg.vector_norm(grad.detach()))


def plot_gradient_flow(
    panels: Mapping[str, Mapping[str, np.ndarray]],
    path: str | os.PathLike[str],
    *,
    xlabel: str = "time step t",
    ylabel: str = "||dL/dh_t||",
    title: str | None = None,
) -> Path:
    """Draw gradient norms against time, log-scale y, one subplot per panel.

    Args:
        panels: `{panel title: {line label: norms}}`; norms are (T,) or (L, T) (one line
            per layer, labelled "label, layer l"). A single plot is one panel.
        path: the PNG to write (atomically; the folder is created).
        xlabel, ylabel, title: axis labels and an optional figure title.

    Returns:
        The path written. Zeros (no gradient) are left out of the log-scale lines.
    """
    figure_cls, canvas_cls = _matplotlib()
    figure = figure_cls(figsize=(5.2 * len(panels), 4.0), layout="constrained")
    axes = figure.subplots(1, len(panels), squeeze=False, sharey=True)[0]
    for ax, (panel_title, curves) in zip(axes, panels.items()):
        for label, norms in curves.items():
            for line_label, row in _rows(label, np.asarray(norms, dtype=np.float64)):
                shown = np.where(row > 0, row, np.nan)
                ax.plot(np.arange(len(row)), shown, label=line_label, linewidth=1.4)
        ax.set_yscale("log")
        ax.set_title(panel_title)
        ax.set_xlabel(xlabel)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize="small")
    axes[0].set_ylabel(ylabel)
    if title:
        figure.suptitle(title)
    canvas_cls(figure)
    target = Path(path)
    with atomic_write(target, "wb") as handle:
        figure.savefig(handle, format="png", dpi=110)
    return target


def _rows(label: str, norms: np.ndarray) -> list[tuple[str, np.ndarray]]:
    if norms.ndim == 1:
        return [(label, norms)]
    if norms.shape[0] == 1:
        return [(label, norms[0])]
    return [(f"{label}, layer {index}", row) for index, row in enumerate(norms)]


def _matplotlib() -> tuple[type, type]:
    """matplotlib's Figure and Agg canvas, without touching pyplot's global backend."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise SeqnlpError(
            "plotting needs matplotlib: pip install 'seqnlp[plots]'"
        ) from None
    return Figure, FigureCanvasAgg
