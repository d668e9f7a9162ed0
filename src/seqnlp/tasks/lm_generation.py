"""Reading text with a saved language model: continue a prompt (greedy search, sampling
with temperature, top-k and top-p, or beam search, all from `seqnlp.decoding` over the
model's step function) and score sentences (log-probability of each line).

A prompt or a sentence starts after `<eos>`, as a line of the training stream does.
Tokens outside the vocabulary are read as `<unk>` and listed in the result, so that a
caller can say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from seqnlp.errors import SeqnlpError
from seqnlp.tasks.language_modeling import EOS, LoadedLM, tokenize_line

STRATEGIES = ("greedy", "sample", "beam")
DEFAULT_MAX_LEN = {"word": 50, "char": 200}
# Bounds that keep one call's time and memory in reason (`lm generate` declares the same).
MAX_OUTPUTS = 1_000
MAX_BEAM = 100
MAX_GENERATED = 10_000
SCORE_WINDOW = 64  # steps scored at once (a long line is read in windows)


class GenerationOptionError(SeqnlpError, ValueError):
    """Generation options that do not go together."""


@dataclass(frozen=True)
class Generation:
    """Continuations of one prompt.

    Attributes:
        prompt_tokens: the prompt as the model read it (unknown tokens as `<unk>`).
        continuations: the generated tokens of each output, without `<eos>`.
        log_probs: the model's log-probability of each continuation (its `<eos>` included
            when it ended).
        unknown: prompt tokens outside the vocabulary, in order of appearance.
    """

    prompt_tokens: list[str]
    continuations: list[list[str]]
    log_probs: list[float]
    unknown: list[str]


@dataclass(frozen=True)
class SentenceScore:
    """Log-probability (natural log) of one line, its `<eos>` included.

    Attributes:
        log_prob: sum of log P(token | history) over the line's tokens and `<eos>`.
        num_tokens: tokens scored, `<eos>` included.
        unknown: tokens outside the vocabulary (scored as `<unk>`).
    """

    log_prob: float
    num_tokens: int
    unknown: list[str]

    @property
    def perplexity(self) -> float:
        """exp(-log_prob / num_tokens)."""
        return float(torch.exp(torch.tensor(-self.log_prob / self.num_tokens)))


def join_tokens(tokens: list[str], level: str) -> str:
    """Text from tokens: spaces between words, nothing between characters."""
    return " ".join(tokens) if level == "word" else "".join(tokens)


def unknown_tokens(tokens: list[str], lm: LoadedLM) -> list[str]:
    """The distinct tokens outside the model's vocabulary, in order of appearance."""
    return list(dict.fromkeys(t for t in tokens if t not in lm.vocab))


@torch.no_grad()
def generate_text(
    lm: LoadedLM,
    prompt: str,
    strategy: str = "greedy",
    num_outputs: int = 1,
    beam_size: int = 5,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    max_len: int | None = None,
    seed: int = 0,
    no_unk: bool = False,
    no_repeat_ngram: int = 0,
) -> Generation:
    """Continue `prompt` until `<eos>` or `max_len` tokens.

    Args:
        lm: a model from `load_language_model`.
        prompt: text at the model's level (words, or characters); may be empty.
        strategy: "greedy" | "sample" | "beam".
        num_outputs: samples drawn, or best beam hypotheses (at most `beam_size`);
            greedy search has exactly one output.
        beam_size: the beam width ("beam" only).
        temperature, top_k, top_p: the sampling distribution ("sample" only).
        max_len: the most tokens generated (default 50 words or 200 characters).
        seed: the seed of sampling.
        no_unk: never generate `<unk>` (its probability is set to zero at every step;
            the log-probabilities reported are those of the restricted distribution).
        no_repeat_ngram: n > 0 forbids any n-gram to occur twice in the prompt and its
            continuation (`seqnlp.decoding.block_repeated_ngrams`); 0 allows repeats.

    Raises:
        GenerationOptionError: an unknown strategy or options that do not fit it.
    """
    _check_options(strategy, num_outputs, beam_size, max_len)
    from seqnlp.decoding import (
        beam_search,
        block_repeated_ngrams,
        greedy_search,
        repeat_state,
        sample,
        with_history,
    )

    tokens = tokenize_line(prompt, lm.level)
    ids = torch.from_numpy(lm.vocab.encode([EOS, *tokens])).unsqueeze(0)  # (1, 1 + T)
    model, eos = lm.model.eval(), lm.vocab.eos_index
    state, last = model.prime(ids)  # last (1,)
    max_len = max_len or DEFAULT_MAX_LEN[lm.level]
    unk = lm.vocab.unk_index
    step = _without(model.step, unk) if no_unk and unk is not None else model.step
    if no_repeat_ngram:
        step = block_repeated_ngrams(step, no_repeat_ngram)
        state = with_history(state, ids[:, 1:-1])  # the prompt, but the token fed next
    if strategy == "beam":
        hyps = beam_search(step, state, last, eos, beam_size=beam_size, max_len=max_len,
                           min_len=1, n_best=num_outputs)[0]
        outputs = [(list(h.tokens), h.log_prob) for h in hyps]
    else:
        state = repeat_state(state, num_outputs)
        last = last.repeat(num_outputs)  # (n,)
        if strategy == "greedy":
            result = greedy_search(step, state, last, eos, max_len, min_len=1)
        else:
            generator = torch.Generator().manual_seed(seed)
            result = sample(step, state, last, eos, max_len, temperature=temperature,
                            top_k=top_k, top_p=top_p, min_len=1, generator=generator)
        outputs = [(result.tokens[i, : int(result.lengths[i])].tolist(),
                    float(result.log_prob[i])) for i in range(num_outputs)]
    continuations = [lm.vocab.decode([t for t in row if t != eos]) for row, _ in outputs]
    prompt_tokens = lm.vocab.decode(ids[0, 1:].tolist())
    return Generation(prompt_tokens, continuations, [lp for _, lp in outputs],
                      unknown_tokens(tokens, lm))


def _check_options(strategy: str, num_outputs: int, beam_size: int,
                   max_len: int | None) -> None:
    if strategy not in STRATEGIES:
        raise GenerationOptionError(f"strategy must be one of {', '.join(STRATEGIES)}, "
                                    f"got {strategy!r}")
    if num_outputs < 1 or beam_size < 1:
        raise GenerationOptionError(
            f"the number of outputs and the beam size must be positive, got {num_outputs} "
            f"and {beam_size}"
        )
    for name, value, most in (("the number of outputs", num_outputs, MAX_OUTPUTS),
                              ("the beam size", beam_size, MAX_BEAM),
                              ("max_len", max_len or 1, MAX_GENERATED)):
        if value > most:
            raise GenerationOptionError(f"{name} must be at most {most}, got {value}")
    if strategy == "greedy" and num_outputs != 1:
        raise GenerationOptionError(
            f"greedy search has one output, {num_outputs} were asked for; use the sample "
            "or beam strategy for several"
        )
    if strategy == "beam" and num_outputs > beam_size:
        raise GenerationOptionError(
            f"beam search of width {beam_size} cannot return {num_outputs} outputs; "
            f"raise the beam to at least {num_outputs}"
        )


@torch.no_grad()
def score_lines(lm: LoadedLM, lines: list[str], batch_size: int = 32) -> list[SentenceScore]:
    """The log-probability of each line, its `<eos>` included, read after an `<eos>`.

    Lines of similar length are scored together, in batches padded at the end (a causal
    model never reads padding before a real token, so padding changes nothing), and
    `SCORE_WINDOW` steps at a time with the state carried, so that one very long line
    needs memory for a window of (B, window, V) log-probabilities, not for the whole line.
    """
    lm.model.eval()
    token_lists = [tokenize_line(line, lm.level) + [EOS] for line in lines]
    order = sorted(range(len(token_lists)), key=lambda i: len(token_lists[i]))
    scores: list[SentenceScore | None] = [None] * len(token_lists)
    for start in range(0, len(order), batch_size):
        chunk = order[start: start + batch_size]
        totals = _batch_log_probs(lm, [token_lists[i] for i in chunk])
        for i, total in zip(chunk, totals):
            scores[i] = SentenceScore(total, len(token_lists[i]),
                                      unknown_tokens(token_lists[i], lm))
    return scores  # type: ignore[return-value]


def _batch_log_probs(lm: LoadedLM, token_lists: list[list[str]]) -> list[float]:
    """Sum of log P(token | history) of each token list, read after `<eos>`."""
    model, eos = lm.model, lm.vocab.eos_index
    width = max(len(tokens) for tokens in token_lists)
    targets = torch.full((len(token_lists), width), eos, dtype=torch.long)  # (B, T)
    mask = torch.zeros(len(token_lists), width, dtype=torch.bool)
    for row, tokens in enumerate(token_lists):
        targets[row, : len(tokens)] = torch.from_numpy(lm.vocab.encode(tokens))
        mask[row, : len(tokens)] = True
    inputs = torch.cat([torch.full((len(token_lists), 1), eos), targets[:, :-1]], dim=1)
    totals, state = torch.zeros(len(token_lists), dtype=torch.float64), None
    for t in range(0, width, SCORE_WINDOW):
        window = slice(t, t + SCORE_WINDOW)
        hidden, state = model.run(inputs[:, window], state)  # (B, W, H)
        log_probs = torch.log_softmax(model.decoder(hidden), dim=-1)  # (B, W, V)
        picked = log_probs.gather(2, targets[:, window].unsqueeze(2)).squeeze(2)  # (B, W)
        totals += (picked * mask[:, window]).sum(dim=1, dtype=torch.float64)
    return totals.tolist()


def _without(step: Any, token: int) -> Any:
    """`step` renormalised over every token but `token`."""
    from seqnlp.decoding.state import forbid_token

    def restricted(state: Any, tokens: torch.Tensor) -> tuple[torch.Tensor, Any]:
        log_probs, state = step(state, tokens)
        log_probs = forbid_token(log_probs, token)
        return log_probs - log_probs.logsumexp(dim=-1, keepdim=True), state

    return restricted
