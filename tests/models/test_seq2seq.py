"""The seq2seq model: step-by-step decoding equals the teacher-forced forward, beam 1 equals
greedy, the loss falls on a toy task, configs are checked, and a saved model loads back."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

import seqnlp.models.seq2seq  # noqa: F401  (registers the kind: not yet a built-in module)
from seqnlp.decoding import beam_search, greedy_search
from seqnlp.models.seq2seq import (
    BOS_INDEX,
    EOS_INDEX,
    Seq2Seq,
    Seq2SeqConfig,
    decode_ids,
)

pytestmark = pytest.mark.usefixtures("one_thread")

VARIANTS = [
    {"attention": "luong", "cell": "gru"},
    {"attention": "luong", "cell": "lstm", "input_feeding": False, "score": "dot"},
    {"attention": "luong", "cell": "gru", "score": "concat", "bidirectional": False},
    {"attention": "luong", "cell": "gru", "input_feeding": False, "score": "additive"},
    {"attention": "bahdanau", "cell": "gru"},
    {"attention": "bahdanau", "cell": "lstm", "score": "scaled_dot"},
    {"attention": "none", "cell": "gru"},
]


def tiny(**options: object) -> Seq2Seq:
    torch.manual_seed(0)
    config = Seq2SeqConfig(source_vocab_size=11, target_vocab_size=9, embedding_dim=6,
                           hidden_size=5, dropout=0.1, **options)  # type: ignore[arg-type]
    return Seq2Seq(config).eval()


def batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    source = torch.tensor([[4, 5, 6, 7], [8, 9, 0, 0]])
    lengths = torch.tensor([4, 2])
    target = torch.tensor([[BOS_INDEX, 4, 5, 6, EOS_INDEX], [BOS_INDEX, 7, EOS_INDEX, 0, 0]])
    return source, lengths, target


@pytest.mark.parametrize("options", VARIANTS, ids=lambda o: "-".join(map(str, o.values())))
def test_step_by_step_decoding_equals_the_teacher_forced_forward(options: dict) -> None:
    model = tiny(**options)
    source, lengths, target = batch()
    with torch.no_grad():
        hidden, weights = model.teacher_forced(source, lengths, target[:, :-1])
        forced = torch.log_softmax(model.decoder.output(hidden), dim=-1)  # (B, T, V)
        state = model.start(source, lengths)
        for t in range(target.size(1) - 1):
            log_probs, state = model.step(state, target[:, t])
            assert torch.allclose(log_probs, forced[:, t], atol=1e-5), t
    if options["attention"] == "none":
        assert weights is None
    else:
        assert weights.shape == (2, 4, 4)
        assert torch.allclose(weights.sum(-1), torch.ones(2, 4), atol=1e-5)
        assert weights[1, :, 2:].abs().sum() == 0  # the padding of the short source


@pytest.mark.parametrize("options", VARIANTS[:1] + VARIANTS[3:4], ids=["luong", "bahdanau"])
def test_beam_of_one_equals_greedy_search(options: dict) -> None:
    model = tiny(**options)
    source, lengths, _ = batch()
    bos = torch.full((2,), BOS_INDEX)
    greedy = greedy_search(model.step, model.start(source, lengths), bos, EOS_INDEX, 8)
    beams = beam_search(model.step, model.start(source, lengths), bos, EOS_INDEX, 1, 8)
    for row in range(2):
        length = int(greedy.lengths[row])
        assert list(beams[row][0].tokens) == greedy.tokens[row, :length].tolist()
        assert beams[row][0].log_prob == pytest.approx(float(greedy.log_prob[row]), abs=1e-5)
    again = decode_ids(model.step, model.start(source, lengths), 2, 1, 8)
    assert [ids for ((ids, _),) in again] == [
        [t for t in greedy.tokens[r, : int(greedy.lengths[r])].tolist() if t != EOS_INDEX]
        for r in range(2)]


def test_beam_search_finds_at_least_the_greedy_log_probability() -> None:
    model = tiny()
    source, lengths, _ = batch()
    greedy = decode_ids(model.step, model.start(source, lengths), 2, 1, 12)
    beam = decode_ids(model.step, model.start(source, lengths), 2, 4, 12, n_best=3)
    for g, b in zip(greedy, beam):
        assert len(b) == 3 and b[0][1] >= g[0][1] - 1e-5


@pytest.mark.parametrize("options", VARIANTS, ids=lambda o: "-".join(map(str, o.values())))
def test_beams_keep_the_sentence_constant_state_and_find_what_a_full_reorder_finds(
        options: dict) -> None:
    model = tiny(**options)
    source, lengths, _ = batch()
    bos = torch.full((2,), BOS_INDEX)
    full = beam_search(model.step, model.start(source, lengths), bos, EOS_INDEX, 3, 10,
                       n_best=3, alpha=0.6)
    kept = decode_ids(model.step, model.start(source, lengths), 2, 3, 10, alpha=0.6, n_best=3)
    # decode_ids cuts each hypothesis at its first <eos> or padding id
    assert kept == [[(seqnlp.models.seq2seq._strip(list(h.tokens)), h.log_prob) for h in row]
                    for row in full]


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_the_loss_falls_when_learning_to_copy(smoothing: float) -> None:
    torch.manual_seed(0)
    model = Seq2Seq(Seq2SeqConfig(source_vocab_size=9, target_vocab_size=9, embedding_dim=16,
                                  hidden_size=16, dropout=0.0, label_smoothing=smoothing))
    source = torch.randint(4, 9, (16, 5))
    target = torch.cat([torch.full((16, 1), BOS_INDEX), source,
                        torch.full((16, 1), EOS_INDEX)], 1)
    lengths = torch.full((16,), 5)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.03)
    losses = []
    for _ in range(60):
        optimizer.zero_grad()
        _, loss = model(source, lengths, target)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.5 * losses[0]
    model.eval()
    found = decode_ids(model.step, model.start(source[:4], lengths[:4]), 4, 3, 8)
    assert sum(ids == source[i].tolist() for i, ((ids, _),) in enumerate(found)) >= 3


def test_teacher_forcing_below_one_still_trains_and_stays_exact_in_eval() -> None:
    model = tiny(teacher_forcing=0.5).train()
    source, lengths, target = batch()
    _, loss = model(source, lengths, target)
    loss.backward()
    assert model.source_embedding.weight.grad is not None


@pytest.mark.parametrize("change, message", [
    ({"attention": "global"}, "attention must be one of"),
    ({"score": "dot", "decoder_hidden_size": 7}, "decoder_hidden_size == the memory size"),
    ({"tie_embeddings": True}, "tie_embeddings needs"),
    ({"dropout": 1.0}, "dropout must be in"),
    ({"teacher_forcing": 1.5}, "teacher_forcing must be in"),
    ({"target_vocab_size": 3}, "at least 5"),
    ({"cell": "rnn"}, "cell must be one of"),
])
def test_bad_configs_are_refused_with_the_value(change: dict, message: str) -> None:
    options = {"source_vocab_size": 10, "target_vocab_size": 10, **change}
    with pytest.raises(ValueError, match=message):
        Seq2SeqConfig(**options)


def test_tied_embeddings_share_one_parameter() -> None:
    model = tiny(tie_embeddings=True, decoder_hidden_size=6)
    assert model.decoder.output.weight is model.decoder.embedding.weight


def test_a_saved_model_loads_back_through_load_model(tmp_path: Path) -> None:
    from seqnlp.models.registry import load_model, save_model
    from seqnlp.text.vocab import Vocab

    model = tiny(attention="bahdanau")
    source_vocab = Vocab(["<pad>", "<unk>", "<bos>", "<eos>"] + [f"s{i}" for i in range(7)],
                         specials=("<pad>", "<unk>", "<bos>", "<eos>"))
    target_vocab = Vocab(["<pad>", "<unk>", "<bos>", "<eos>"] + [f"t{i}" for i in range(5)],
                         specials=("<pad>", "<unk>", "<bos>", "<eos>"))
    path = tmp_path / "m.pt"
    save_model(path, "seq2seq", model, {"source": source_vocab, "target": target_vocab},
               {"tokenizer": {"kind": "words", "lowercase": False}, "languages": ["de", "en"]})
    loaded = load_model(path, expect="seq2seq")
    assert dataclasses.asdict(loaded.config) == dataclasses.asdict(model.config)
    assert loaded.languages == ["de", "en"] and loaded.tokenizer["kind"] == "words"
    assert loaded.vocabs["target"].itos == target_vocab.itos
    source, lengths, target = batch()
    with torch.no_grad():
        assert torch.equal(loaded.model.teacher_forced(source, lengths, target)[0],
                           model.teacher_forced(source, lengths, target)[0])
    save_model(path, "seq2seq", model, {"source": source_vocab, "target": source_vocab},
               {"tokenizer": {"kind": "words"}})
    from seqnlp.models.artifact import ArtifactError

    with pytest.raises(ArtifactError, match="target vocabulary has 11 tokens"):
        load_model(path)
