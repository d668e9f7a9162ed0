"""RNNLanguageModel: carried and detached state, tied weights, the decoding step function."""

from __future__ import annotations


import pytest
import torch
from torch.nn import functional as F

from seqnlp.decoding import beam_search, greedy_search
from seqnlp.models.language_model import LanguageModelConfig, RNNLanguageModel

V = 12


pytestmark = pytest.mark.usefixtures("one_thread")


def make_model(cell: str = "lstm", **options: object) -> RNNLanguageModel:
    torch.manual_seed(0)
    config = LanguageModelConfig(
        vocab_size=V, embedding_dim=8, hidden_size=8, num_layers=2, cell=cell, **options
    )
    return RNNLanguageModel(config)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"cell": "transformer"}, "cell must be one of"),
        ({"dropout": 1.0}, "dropout must be in [0, 1), got 1.0"),
        ({"tie_weights": True, "embedding_dim": 4}, "embedding_dim == hidden_size, got 4 and 8"),
        ({"sampled_softmax": V}, f"sampled_softmax must be in [0, vocab_size={V})"),
        ({"num_layers": 0}, "num_layers must be positive, got 0"),
        ({"init_range": -0.1}, "init_range must be >= 0"),
    ],
)
def test_config_rejects_bad_values_with_the_value(options: dict, message: str) -> None:
    base = {"vocab_size": V, "embedding_dim": 8, "hidden_size": 8}
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(")
                       .replace(")", r"\)")):
        LanguageModelConfig(**{**base, **options})


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_carried_state_gives_the_values_of_one_long_window(cell: str) -> None:
    model = make_model(cell).eval()
    stream = torch.randint(0, V, (3, 10))
    whole, _ = model(stream)
    model.reset_state()
    first, _ = model(stream[:, :4])
    second, _ = model(stream[:, 4:])
    torch.testing.assert_close(torch.cat([first, second], dim=1), whole)


def test_without_carrying_the_second_window_starts_from_zeros() -> None:
    model = make_model().eval()
    stream = torch.randint(0, V, (2, 8))
    model(stream[:, :4])
    carried, _ = model(stream[:, 4:])
    model.reset_state()
    fresh, _ = model(stream[:, 4:])
    assert not torch.allclose(carried, fresh)
    model.carry_state = False
    model(stream[:, :4])
    uncarried, _ = model(stream[:, 4:])
    torch.testing.assert_close(uncarried, fresh)


def test_gradient_stops_at_the_window_edge() -> None:
    # Window 1 reads only tokens 1 and 2, window 2 only 3 and 4: with the state detached,
    # the second loss cannot reach the embedding rows of tokens 1 and 2.
    model = make_model().train()
    first = torch.tensor([[1, 2, 1, 2], [2, 1, 2, 1]])
    second = torch.tensor([[3, 4, 3, 4], [4, 3, 4, 3]])
    model(first, second)
    _, loss = model(second, first)
    loss.backward()
    grad = model.embedding.weight.grad
    assert torch.count_nonzero(grad[[1, 2]]) == 0
    assert torch.count_nonzero(grad[[3, 4]]) > 0


def test_a_new_batch_size_starts_from_zeros() -> None:
    model = make_model().eval()
    model(torch.randint(0, V, (4, 5)))
    out, _ = model(torch.tensor([[1, 2, 3]]))
    model.reset_state()
    fresh, _ = model(torch.tensor([[1, 2, 3]]))
    torch.testing.assert_close(out, fresh)


def test_loss_is_the_mean_cross_entropy_of_the_logits() -> None:
    model = make_model().eval()
    inputs, targets = torch.randint(0, V, (2, 6)), torch.randint(0, V, (2, 6))
    logits, loss = model(inputs, targets)
    assert logits.shape == (2, 6, V)
    torch.testing.assert_close(loss, F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1)))


def test_tied_weights_share_one_storage_and_survive_a_reload() -> None:
    tied = make_model(tie_weights=True)
    assert tied.decoder.weight is tied.embedding.weight
    untied = make_model()
    assert untied.decoder.weight.data_ptr() != untied.embedding.weight.data_ptr()
    count = sum(p.numel() for p in tied.parameters())
    assert count == sum(p.numel() for p in untied.parameters()) - V * 8
    again = make_model(tie_weights=True)
    again.load_state_dict(tied.state_dict())
    assert again.decoder.weight is again.embedding.weight
    with torch.no_grad():
        again.embedding.weight[0, 0] = 5.0
    assert float(again.decoder.weight[0, 0].detach()) == 5.0


def test_weights_start_uniform_in_init_range_with_a_zero_decoder_bias() -> None:
    model = make_model(init_range=0.05)
    for name, parameter in model.named_parameters():
        assert float(parameter.detach().abs().max()) <= 0.05, name
    assert torch.count_nonzero(model.decoder.bias) == 0


def test_sampled_softmax_is_used_in_training_only() -> None:
    model = make_model(sampled_softmax=4).train()
    inputs, targets = torch.randint(0, V, (2, 5)), torch.randint(0, V, (2, 5))
    output, loss = model(inputs, targets)
    assert output is None and loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    model.eval().reset_state()
    logits, exact = model(inputs, targets)
    torch.testing.assert_close(exact, F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1)))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_step_by_step_decoding_matches_the_window_forward(cell: str) -> None:
    model = make_model(cell).eval()
    tokens = torch.randint(0, V, (3, 6))
    logits, _ = model(tokens)
    state = model.initial_state(3)
    for t in range(6):
        log_probs, state = model.step(state, tokens[:, t])
        torch.testing.assert_close(log_probs, F.log_softmax(logits[:, t], dim=-1))
    leaves = state if isinstance(state, tuple) else (state,)
    assert all(leaf.shape == (3, 2, 8) for leaf in leaves)  # (N, L, H): batch on dim 0


def test_prime_reads_all_but_the_last_prompt_token() -> None:
    model = make_model().eval()
    prompt = torch.tensor([[1, 5, 7, 2]])
    logits, _ = model(prompt)
    state, last = model.prime(prompt)
    assert last.tolist() == [2]
    log_probs, _ = model.step(state, last)
    torch.testing.assert_close(log_probs, F.log_softmax(logits[:, -1], dim=-1))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_beam_of_one_equals_greedy_search_through_the_step(cell: str) -> None:
    model = make_model(cell).eval()
    state, last = model.prime(torch.tensor([[1, 3, 4], [2, 6, 5]]))
    greedy = greedy_search(model.step, state, last, eos=0, max_len=9)
    beams = beam_search(model.step, state, last, eos=0, beam_size=1, max_len=9)
    for row, (best,) in enumerate(beams):
        length = int(greedy.lengths[row])
        assert list(best.tokens) == greedy.tokens[row, :length].tolist()
        assert best.log_prob == pytest.approx(float(greedy.log_prob[row]), abs=1e-5)


def test_training_loss_is_the_fused_full_softmax() -> None:
    torch.manual_seed(0)
    for dtype, tol in (("float32", 1e-6), ("bfloat16", 2e-2)):
        model = RNNLanguageModel(LanguageModelConfig(vocab_size=50, embedding_dim=8,
                                                     hidden_size=8, decoder_dtype=dtype))
        model.carry_state = False
        inputs, targets = torch.randint(50, (3, 6)), torch.randint(50, (3, 6))
        model.train()
        logits, loss = model(inputs, targets)
        assert logits is None
        loss.backward()
        fused = {n: p.grad.clone() for n, p in model.named_parameters()}
        model.zero_grad()
        hidden, _ = model.run(inputs)
        plain = F.cross_entropy(model.decoder(hidden).reshape(-1, 50), targets.reshape(-1))
        plain.backward()
        torch.testing.assert_close(loss, plain, rtol=tol, atol=tol)
        for name, p in model.named_parameters():
            torch.testing.assert_close(fused[name], p.grad, rtol=tol * 10, atol=tol)


def test_decoder_dtype_is_validated() -> None:
    with pytest.raises(ValueError, match="decoder_dtype"):
        LanguageModelConfig(vocab_size=10, decoder_dtype="float16")
