"""Sampled softmax (Bengio & Senecal, 2008; Jean et al., 2015) with a log-uniform proposal.

The partition function Z = sum_k exp(s_k) of the full softmax is replaced by an importance
sampling estimate from S ids drawn with replacement from the Zipfian proposal

    Q(k) = (log(k + 2) - log(k + 1)) / log(V + 1),

which suits vocabularies sorted by decreasing frequency:

    Z_hat = exp(s_t) + sum over draws j != t of exp(s_j) / (S Q(j)),

so that E[Z_hat] = Z exactly. The true word t enters once with its exact score and its
accidental hits among the draws are masked out. The loss -s_t + log Z_hat is then a
consistent estimate of the cross-entropy (slightly low for few samples, by Jensen's
inequality) and costs O(S H) per row instead of O(V H). Evaluation must use the exact
softmax.

Shape legend: N rows, H hidden size, V vocabulary, S samples.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F


def log_uniform_probs(ids: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """Q(k) of the log-uniform (Zipfian) proposal over ids 0 .. V-1, for each id (float64).

    The probabilities of all V ids sum to 1 (the sum telescopes).
    """
    ids = ids.to(torch.float64)
    return ((ids + 2).log() - (ids + 1).log()) / math.log(vocab_size + 1)


def log_uniform_sample(
    num_samples: int,
    vocab_size: int,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Draw `num_samples` ids with replacement from the log-uniform proposal.

    Inverse transform: with u ~ U(0, 1), floor(exp(u log(V + 1))) - 1 has law Q.

    Args:
        num_samples: S.
        vocab_size: V.
        generator: the source of randomness (the global one when None).
        device: where the ids are returned.

    Returns:
        LongTensor (S,) of ids in [0, V).
    """
    uniform = torch.rand(num_samples, generator=generator, dtype=torch.float64)
    ids = torch.floor(torch.exp(uniform * math.log(vocab_size + 1))).long() - 1
    return ids.clamp_(0, vocab_size - 1).to(device)


def sampled_softmax_loss(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    targets: torch.Tensor,
    sampled: torch.Tensor,
) -> torch.Tensor:
    """Mean sampled-softmax cross-entropy over the rows.

    Each row's logits are its true word's score s_t and, for every draw j, the corrected
    score s_j - log(S Q(j)) (minus infinity where j == t); the loss is the cross-entropy
    of the true word among them, i.e. -s_t + log Z_hat (see the module docstring).

    Args:
        hidden: (N, H) decoder inputs.
        weight: (V, H) output embedding.
        bias: (V,) output bias, or None.
        targets: (N,) true word ids.
        sampled: (S,) draws from `log_uniform_sample`, shared by all rows.

    Returns:
        A scalar loss.
    """
    vocab_size, num_sampled = weight.size(0), sampled.numel()
    true_logits = (hidden * weight[targets]).sum(-1)  # (N,)
    sample_logits = hidden @ weight[sampled].t()  # (N, S)
    if bias is not None:
        true_logits = true_logits + bias[targets]
        sample_logits = sample_logits + bias[sampled]
    # Each draw stands for 1 / (S Q(j)) of its word's share of the partition function.
    log_weight = torch.log(num_sampled * log_uniform_probs(sampled, vocab_size))  # (S,)
    sample_logits = sample_logits - log_weight.to(hidden.dtype).unsqueeze(0)
    hits = sampled.unsqueeze(0) == targets.unsqueeze(1)  # (N, S)
    sample_logits = sample_logits.masked_fill(hits, float("-inf"))
    logits = torch.cat([true_logits.unsqueeze(1), sample_logits], dim=1)  # (N, 1 + S)
    return F.cross_entropy(logits, torch.zeros_like(targets))
