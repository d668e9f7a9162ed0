"""Blocking repeated n-grams: the rule itself, and each decoder under it."""

from __future__ import annotations

import itertools

import pytest
import torch

from seqnlp.decoding import beam_search, greedy_search, sample
from seqnlp.decoding.constraints import block_repeated_ngrams, repeated_ngram_ends, with_history

V = 6
EOS = 0


def looping_table() -> torch.Tensor:
    """A bigram model whose greedy path loops 1 2 3 1 2 3 ... and rarely ends."""
    probs = 0.02 + 0.003 * torch.arange(V * V, dtype=torch.float).reshape(V, V) / V  # no ties
    for token, following in ((1, 2), (2, 3), (3, 1), (4, 5), (5, 1)):
        probs[token, following] = 0.7
    probs[:, EOS] = 0.001
    return (probs / probs.sum(1, keepdim=True)).log()


TABLE = looping_table()


def step(state: object, tokens: torch.Tensor) -> tuple[torch.Tensor, object]:
    return TABLE[tokens], state


def ngrams(seq: list[int], n: int) -> list[tuple[int, ...]]:
    return [tuple(seq[i:i + n]) for i in range(len(seq) - n + 1)]


def start(rows: int = 1, prompt: list[int] | None = None) -> tuple[object, torch.Tensor]:
    history = torch.tensor([prompt or []] * rows, dtype=torch.long).reshape(rows, -1)
    return with_history(None, history)


def test_the_rule_bans_what_would_complete_a_seen_ngram() -> None:
    rows, tokens = repeated_ngram_ends([[1, 2, 3, 1, 2], [1, 2], [4, 4, 4]], 3)
    assert list(zip(rows, tokens)) == [(0, 3), (2, 4)]
    rows, tokens = repeated_ngram_ends([[5, 1, 5]], 1)
    assert sorted(tokens) == [1, 5] and rows == [0, 0]


def test_greedy_loops_without_the_block_and_not_with_it() -> None:
    bos = torch.tensor([1])
    plain = greedy_search(step, None, bos, EOS, max_len=30).tokens[0].tolist()
    assert len(set(ngrams(plain, 3))) < len(ngrams(plain, 3))  # it loops
    for n in (2, 3, 4):
        blocked = greedy_search(block_repeated_ngrams(step, n), start(), bos, EOS, 30)
        seq = [1, *blocked.tokens[0].tolist()]
        grams = ngrams([t for t in seq if t != EOS], n)
        assert len(grams) == len(set(grams)), (n, seq)


def test_beam_of_one_equals_greedy_under_the_block() -> None:
    wrapped = block_repeated_ngrams(step, 2)
    bos = torch.tensor([4])
    greedy = greedy_search(wrapped, start(), bos, EOS, max_len=12)
    best = beam_search(wrapped, start(), bos, EOS, beam_size=1, max_len=12,
                       length_penalty="none")[0][0]
    length = int(greedy.lengths[0])
    assert list(best.tokens) == greedy.tokens[0, :length].tolist()
    assert best.log_prob == pytest.approx(float(greedy.log_prob[0]), abs=1e-5)


def test_every_beam_hypothesis_and_every_sample_is_free_of_repeats() -> None:
    n = 2
    wrapped = block_repeated_ngrams(step, n)
    hyps = beam_search(wrapped, start(), torch.tensor([1]), EOS, beam_size=4, max_len=15,
                       n_best=4)[0]
    drawn = sample(wrapped, start(rows=5), torch.tensor([1] * 5), EOS, 15,
                   generator=torch.Generator().manual_seed(0))
    outputs = [list(h.tokens) for h in hyps] + [
        drawn.tokens[i, : int(drawn.lengths[i])].tolist() for i in range(5)]
    for out in outputs:
        seq = [1, *[t for t in out if t != EOS]]
        assert len(ngrams(seq, n)) == len(set(ngrams(seq, n))), seq


def test_the_prompt_counts_as_history() -> None:
    wrapped = block_repeated_ngrams(step, 2)
    # the prompt already holds "1 2": after feeding 1 the model may not say 2
    out = greedy_search(wrapped, start(prompt=[1, 2, 3]), torch.tensor([1]), EOS, 5)
    assert out.tokens[0, 0].item() != 2


def test_a_length_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        block_repeated_ngrams(step, 0)


def test_no_two_rows_share_bans() -> None:
    histories = [list(p) for p in itertools.product([1, 2], repeat=4)]
    rows, tokens = repeated_ngram_ends(histories, 2)
    for row, token in zip(rows, tokens):
        seq = histories[row]
        assert (seq[-1], token) in ngrams(seq, 2)
