"""Tests of seqnlp.decoding.beam: exact references (beam 1 == greedy, exhaustive beam ==
brute force, a hand-computed case), end tokens, min_len, n-best lists, batching."""

from __future__ import annotations

import functools
import math
from typing import Any

import pytest
import torch

from seqnlp.decoding import (
    Hypothesis,
    LengthPenalty,
    beam_search,
    greedy_search,
    reorder_state,
    repeat_state,
)
from seqnlp.decoding import beam as beam_module
from tests.decoding.steps import (
    TinyRNN,
    bigram_step,
    enumerate_sequences,
    random_bigram,
    ranked,
    select_sentence,
    table_from_probs,
)

EOS, A, B, BOS = 0, 1, 2, 3
SHORT_SIGHTED = table_from_probs(
    [
        [1.0, 0.0, 0.0, 0.0],  # after eos
        [0.4, 0.3, 0.3, 0.0],  # after A
        [0.9, 0.05, 0.05, 0.0],  # after B
        [0.0, 0.6, 0.4, 0.0],  # after BOS
    ]
)


def test_beam_two_finds_the_sequence_greedy_misses() -> None:
    # Greedy: A (0.6) then eos (0.4) = 0.24. Beam 2 also keeps B (0.4), whose eos (0.9) gives
    # 0.36; both end at step 2 within the top 2, filling the pool, and the best alive prefix
    # (A A, 0.18) cannot beat them, so the search stops there.
    greedy = greedy_search(bigram_step(SHORT_SIGHTED), None, BOS, EOS, max_len=6)
    assert greedy.tokens.tolist() == [[A, EOS]]
    (nbest,) = beam_search(
        bigram_step(SHORT_SIGHTED), None, BOS, EOS, beam_size=2, max_len=6, n_best=2
    )
    assert [h.tokens for h in nbest] == [(B, EOS), (A, EOS)]
    assert nbest[0].log_prob == pytest.approx(math.log(0.4 * 0.9), rel=1e-12)
    assert nbest[1].log_prob == pytest.approx(math.log(0.6 * 0.4), rel=1e-12)
    assert all(h.ended and h.score == h.log_prob for h in nbest)


def test_beam_can_lose_to_greedy_when_the_greedy_ending_falls_out_of_the_beam() -> None:
    # Not a theorem: greedy ends A eos (0.5 * 0.34 = 0.17), but at step 2 the beam keeps B B
    # (0.2295) and B A (0.2205), which outrank A eos; the B chain never ends, so beam 2
    # returns B B B B cut at max_len, 0.45 * 0.51^3 = 0.0597. A sweep over random bigram
    # tables (K = 2, 3, 5) found this in 14 of 14,892 sentences; beam 1 stays equal to greedy.
    table = table_from_probs(
        [[1, 0, 0, 0], [0.34, 0.33, 0.33, 0], [0.0, 0.49, 0.51, 0], [0.05, 0.5, 0.45, 0]]
    )
    greedy = greedy_search(bigram_step(table), None, BOS, EOS, max_len=4)
    (best,) = beam_search(bigram_step(table), None, BOS, EOS, beam_size=2, max_len=4)[0]
    assert greedy.tokens.tolist() == [[A, EOS]]
    assert best == Hypothesis((B, B, B, B), best.log_prob, best.log_prob, ended=False)
    assert best.log_prob == pytest.approx(math.log(0.45 * 0.51**3), rel=1e-12)


def test_beam_beats_or_matches_greedy_on_nearly_all_random_tables() -> None:
    cases = losses = wins = 0
    for seed in range(120):
        vocab = 3 + seed % 5
        step = bigram_step(random_bigram(vocab, seed, sharpness=0.5 + (seed % 7) / 2))
        bos = torch.arange(vocab)
        greedy = greedy_search(step, None, bos, EOS, max_len=8).log_prob.tolist()
        for k in (2, 3, 5):
            best = [nbest[0].log_prob for nbest in beam_search(step, None, bos, EOS, k, max_len=8)]
            cases += vocab
            losses += sum(b < g - 1e-9 for b, g in zip(best, greedy))
            wins += sum(b > g + 1e-9 for b, g in zip(best, greedy))
    assert cases == 1_800
    assert losses <= cases // 100  # measured: 0 of 1,800
    assert wins >= cases // 5  # measured: 663 of 1,800


@pytest.mark.parametrize(("seed", "batch"), [(0, 1), (1, 2), (2, 5), (3, 8), (4, 3)])
def test_beam_size_one_is_greedy_search(seed: int, batch: int) -> None:
    model = TinyRNN(vocab_size=6, seed=seed, sharpness=1.0 + seed)
    state = model.initial_state(batch)
    for min_len in (0, 3):
        greedy = greedy_search(model, state, 1, EOS, max_len=10, min_len=min_len)
        nbest = beam_search(model, state, 1, EOS, beam_size=1, max_len=10, min_len=min_len)
        for b, (hyp,) in enumerate(nbest):
            length = greedy.lengths[b].item()
            assert hyp.tokens == tuple(greedy.tokens[b, :length].tolist())
            assert hyp.ended == greedy.ended[b].item()
            assert hyp.log_prob == greedy.log_prob[b].item()  # the same additions, bit for bit


@pytest.mark.parametrize(
    ("kind", "alpha", "min_len"),
    [("none", 0.0, 0), ("gnmt", 0.0, 2), ("gnmt", 0.6, 0), ("gnmt", 2.0, 1), ("average", 0.0, 0)],
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_an_exhaustive_beam_finds_the_brute_force_n_best(
    kind: str, alpha: float, min_len: int, seed: int
) -> None:
    vocab, max_len = 4, 4
    model = TinyRNN(vocab_size=vocab, seed=seed, sharpness=1.5)
    state = model.initial_state(1)
    sequences = enumerate_sequences(model, state, 3, EOS, max_len, min_len)
    truth = ranked(sequences, LengthPenalty(kind, alpha))
    nbest = beam_search(
        model, state, 3, EOS, beam_size=vocab**max_len, max_len=max_len, min_len=min_len,
        length_penalty=kind, alpha=alpha, n_best=10,
    )[0]
    assert [h.tokens for h in nbest] == [tokens for tokens, _ in truth[:10]]
    assert [h.score for h in nbest] == pytest.approx([score for _, score in truth[:10]], rel=1e-12)


@pytest.mark.parametrize(("kind", "alpha"), [("gnmt", 0.0), ("gnmt", 1.0), ("average", 0.0)])
def test_stopping_early_never_changes_the_result(
    kind: str, alpha: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = TinyRNN(vocab_size=8, seed=11, sharpness=1.5)
    state = model.initial_state(6)

    def search() -> list[list[Hypothesis]]:
        return beam_search(
            model, state, 1, EOS, 4, max_len=12, length_penalty=kind, alpha=alpha, n_best=4
        )

    early = search()
    # Only a sentence with no alive prefix may close: every search runs to max_len.
    def never_early(self: object, best_alive: float, max_len: int,
                    length: int | None = None) -> bool:
        return best_alive == -math.inf

    monkeypatch.setattr(beam_module._Pool, "is_closed", never_early)
    assert search() == early


class CountingStep:
    """A TinyRNN step that counts its calls; with `ends_at`, the end token grows likely
    after that many steps, as a translation model's does near the source's length (the
    state carries each row's step count)."""

    def __init__(self, model: TinyRNN, ends_at: int | None = None) -> None:
        self.model, self.ends_at, self.calls = model, ends_at, 0

    def start(self, batch: int) -> Any:
        inner = self.model.initial_state(batch)
        return inner if self.ends_at is None else (inner, torch.zeros(batch, dtype=torch.float64))

    rows = 0

    def __call__(self, state: Any, tokens: torch.Tensor) -> tuple[torch.Tensor, Any]:
        self.calls += 1
        self.rows += tokens.numel()
        if self.ends_at is None:
            return self.model(state, tokens)
        inner, steps = state
        log_probs, inner = self.model(inner, tokens)
        steps = steps + 1
        log_probs = log_probs.clone()
        log_probs[:, EOS] += 0.5 * (steps - self.ends_at)
        return torch.log_softmax(log_probs, dim=-1), (inner, steps)


@pytest.mark.parametrize(("kind", "alpha"), [("gnmt", 0.0), ("none", 0.0)])
def test_without_a_length_penalty_the_heuristic_stop_is_the_exact_one(
    kind: str, alpha: float
) -> None:
    model = TinyRNN(vocab_size=8, seed=5, sharpness=1.5)
    runs = {}
    state = CountingStep(model, ends_at=6).start(6)  # random memories: drawn once
    for stopping in ("exact", "heuristic"):
        step = CountingStep(model, ends_at=6)
        runs[stopping] = (beam_search(step, state, 1, EOS, 4, max_len=20, length_penalty=kind,
                                      alpha=alpha, n_best=4, stopping=stopping), step.calls)
    assert runs["exact"] == runs["heuristic"]


def test_with_a_length_penalty_the_heuristic_stop_takes_fewer_steps_and_rarely_loses() -> None:
    # The exact bound divides an alive prefix's log-probability by lp(max_len), so with
    # alpha 1 a sentence stays open nearly to max_len; the heuristic closes it once no
    # alive prefix would beat the pool by ending at the next step.
    exact_calls = heuristic_calls = worse = same = 0
    for seed in range(12):
        model = TinyRNN(vocab_size=10, seed=seed, sharpness=2.0)
        found = {}
        state = CountingStep(model, ends_at=4 + seed % 5).start(4)
        for stopping in ("exact", "heuristic"):
            step = CountingStep(model, ends_at=4 + seed % 5)
            found[stopping] = beam_search(step, state, 1, EOS, 4, max_len=40, alpha=1.0,
                                          stopping=stopping)
            if stopping == "exact":
                exact_calls += step.calls
            else:
                heuristic_calls += step.calls
        for exact, heuristic in zip(found["exact"], found["heuristic"]):
            assert heuristic[0].score <= exact[0].score + 1e-12  # exact is never beaten
            worse += heuristic[0].score < exact[0].score - 1e-12
            same += heuristic[0].tokens == exact[0].tokens
    assert heuristic_calls < exact_calls * 0.95  # measured: 258 against 298 steps
    assert same >= 44 and worse <= 4  # measured: all 48 the same


@pytest.mark.parametrize(("stopping", "alpha", "n_best"),
                         [("exact", 0.0, 1), ("heuristic", 1.0, 3), ("exact", 0.6, 2)])
def test_closed_sentences_leave_the_batch_without_changing_any_result(
    stopping: str, alpha: float, n_best: int
) -> None:
    model = TinyRNN(vocab_size=9, seed=4, sharpness=2.0)
    runs, rows = {}, {}
    for ends_at in (3, 6):
        state = CountingStep(model, ends_at=ends_at).start(16)
        for shrink in (False, True):
            step = CountingStep(model, ends_at=ends_at)
            runs[ends_at, shrink] = beam_search(step, state, 1, EOS, 4, max_len=30, alpha=alpha,
                                                n_best=n_best, stopping=stopping, shrink=shrink)
            rows[ends_at, shrink] = step.rows
        assert runs[ends_at, True] == runs[ends_at, False]  # order, tokens, scores, floats
        assert rows[ends_at, True] < rows[ends_at, False]


def test_shrinking_selects_rows_with_the_select_function() -> None:
    model = TinyRNN(vocab_size=9, seed=4, sharpness=2.0)
    state = CountingStep(model, ends_at=4).start(8)
    selected: list[int] = []

    def select(state_: Any, index: torch.Tensor) -> Any:
        selected.append(index.numel())
        return reorder_state(state_, index)

    def reorder(state_: Any, index: torch.Tensor) -> Any:
        assert index.numel() == state_[1].numel()  # only beam reorders, never shrinking
        return reorder_state(state_, index)

    expected = beam_search(CountingStep(model, ends_at=4), state, 1, EOS, 3, max_len=30,
                           shrink=False)
    found = beam_search(CountingStep(model, ends_at=4), state, 1, EOS, 3, max_len=30,
                        reorder=reorder, select=select)
    assert found == expected and selected and all(n % 3 == 0 and n < 24 for n in selected)


def test_an_unknown_stopping_rule_is_refused() -> None:
    with pytest.raises(ValueError, match="stopping must be one of"):
        model = TinyRNN(vocab_size=4)
        beam_search(model, model.initial_state(1), 1, EOS, 2, max_len=4, stopping="soon")


def check_hypotheses(
    nbest: list[Hypothesis], n_best: int, max_len: int, min_len: int, eos: int
) -> None:
    assert len(nbest) == n_best
    assert len({h.tokens for h in nbest}) == n_best  # distinct
    assert [h.score for h in nbest] == sorted((h.score for h in nbest), reverse=True)
    for h in nbest:
        assert eos not in h.tokens[:-1]  # nothing after an end token
        assert h.ended == (h.tokens[-1] == eos)
        assert len(h.tokens) <= max_len and (not h.ended or len(h.tokens) > min_len)
        assert h.ended or len(h.tokens) == max_len


@pytest.mark.parametrize(("min_len", "alpha"), [(0, 0.0), (0, 1.0), (3, 0.0), (6, 0.6)])
def test_hypotheses_end_at_eos_respect_min_len_and_come_sorted(min_len: int, alpha: float) -> None:
    model = TinyRNN(vocab_size=5, seed=3, sharpness=0.8)
    state = model.initial_state(4)
    results = beam_search(
        model, state, 1, EOS, 5, max_len=7, min_len=min_len, alpha=alpha, n_best=5
    )
    for nbest in results:
        check_hypotheses(nbest, 5, max_len=7, min_len=min_len, eos=EOS)
    if min_len == 0:
        assert min(len(h.tokens) for nbest in results for h in nbest) < 3  # eos is likely early


def test_min_len_holds_back_a_certain_eos() -> None:
    table = table_from_probs([[1, 0, 0], [0.9, 0.05, 0.05], [0.9, 0.07, 0.03]])
    nbest = beam_search(bigram_step(table), None, 1, EOS, 3, max_len=5, min_len=2, n_best=3)[0]
    assert [h.tokens for h in nbest] == [(2, 1, 0), (1, 1, 0), (1, 2, 0)]  # 0.07*0.05*0.9 first
    assert nbest[0].log_prob == pytest.approx(math.log(0.07 * 0.05 * 0.9), rel=1e-12)


def test_the_first_step_expands_a_single_beam() -> None:
    table = table_from_probs([[1, 0, 0, 0, 0], [0.02, 0.4, 0.3, 0.2, 0.08]] + [[1, 0, 0, 0, 0]] * 3)
    nbest = beam_search(bigram_step(table), None, 1, EOS, 3, max_len=1, n_best=3)[0]
    assert [h.tokens for h in nbest] == [(1,), (2,), (3,)]  # not three copies of (1,)


def test_a_vocabulary_smaller_than_the_beam_leaves_no_dead_hypotheses() -> None:
    # V = 3, K = 6: the first step has only 3 live extensions, the other beams start dead.
    table = random_bigram(3, seed=2)
    nbest = beam_search(bigram_step(table), None, 1, EOS, 6, max_len=2, n_best=6)[0]
    truth = ranked(enumerate_sequences(bigram_step(table), None, 1, EOS, 2), LengthPenalty())
    assert len(truth) == 7  # (eos), 2 x (x, eos), 4 x (x, y)
    assert [h.tokens for h in nbest] == [tokens for tokens, _ in truth[:6]]
    assert all(h.log_prob > -math.inf for h in nbest)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_batch_of_three_equals_three_single_searches(seed: int) -> None:
    model = TinyRNN(vocab_size=10, seed=seed, sharpness=1.2)
    state = model.initial_state(3)
    bos = torch.tensor([1, 4, 7])
    options = {"beam_size": 4, "max_len": 9, "alpha": 0.6, "n_best": 3}
    batched = beam_search(model, state, bos, EOS, **options)
    for b in range(3):
        (single,) = beam_search(model, select_sentence(state, b), bos[b : b + 1], EOS, **options)
        assert [h.tokens for h in batched[b]] == [h.tokens for h in single]
        assert [h.score for h in batched[b]] == pytest.approx([h.score for h in single], rel=1e-12)


class LayerFirstRNN:
    """A two-layer recurrence whose state (h, c) is (L=2, N, H), the layout of torch.nn.LSTM."""

    def __init__(self, vocab: int = 7, hidden: int = 5, seed: int = 0) -> None:
        g = torch.Generator().manual_seed(seed)
        self.embedding = torch.randn(vocab, hidden, generator=g, dtype=torch.float64)
        self.out = torch.randn(hidden, vocab, generator=g, dtype=torch.float64) * 2

    def __call__(self, state: tuple[torch.Tensor, torch.Tensor], tokens: torch.Tensor):
        h, c = state
        top = torch.tanh(self.embedding[tokens] + h[0] + c[1])  # (N, H)
        h, c = torch.stack([top, h[1]]), torch.stack([c[0] * 0.5, top])  # (L, N, H)
        return torch.log_softmax(top @ self.out, dim=-1), (h, c)


def test_custom_reorder_and_repeat_handle_a_layer_first_state() -> None:
    model = LayerFirstRNN()
    g = torch.Generator().manual_seed(1)
    h = torch.randn(2, 3, 5, generator=g, dtype=torch.float64)  # (L, N, H)
    c = torch.randn(2, 3, 5, generator=g, dtype=torch.float64)
    bos = torch.tensor([1, 2, 3])

    def batch_first_step(state, tokens):  # the same model over (N, L, H) leaves
        log_probs, (h, c) = model((state[0].transpose(0, 1), state[1].transpose(0, 1)), tokens)
        return log_probs, (h.transpose(0, 1), c.transpose(0, 1))

    options = {"beam_size": 3, "max_len": 8, "n_best": 3}
    layer_first = beam_search(
        model, (h, c), bos, EOS, **options,
        reorder=functools.partial(reorder_state, dim=1),
        repeat=functools.partial(repeat_state, dim=1),
    )
    batch_first_state = (h.transpose(0, 1), c.transpose(0, 1))
    batch_first = beam_search(batch_first_step, batch_first_state, bos, EOS, **options)
    assert layer_first == batch_first


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"beam_size": 0}, "beam_size must be positive"),
        ({"beam_size": 2, "n_best": 3}, "n_best must be in"),
        ({"beam_size": 2, "max_len": 0}, "max_len must be positive"),
        ({"beam_size": 2, "length_penalty": "x"}, "length_penalty"),
    ],
)
def test_invalid_options_raise(options: dict, message: str) -> None:
    kwargs = {"max_len": 5, **options}
    with pytest.raises(ValueError, match=message):
        beam_search(bigram_step(SHORT_SIGHTED), None, BOS, EOS, **kwargs)
