"""The language-modelling pipeline: corpora, windows, perplexity, training, saved models,
sentence scores and generation."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from seqnlp.errors import DatasetError, SeqnlpError
from seqnlp.models.artifact import ArtifactError, save_artifact
from seqnlp.models.language_model import LanguageModelConfig, RNNLanguageModel
from seqnlp.tasks.language_modeling import (
    CorpusTooShortError,
    IncompatibleModelError,
    LMBatching,
    check_resumable,
    evaluate_saved,
    lm_batches,
    load_language_model,
    load_lm_corpus,
    perplexity,
    read_splits,
    save_language_model,
    tokenize_line,
    train_language_model,
)
from seqnlp.tasks.lm_generation import GenerationOptionError, generate_text, score_lines
from seqnlp.text import Vocab
from seqnlp.training import TrainerConfig
from tests.conftest import shared_file

SENTENCES = ["the cat sat on the mat", "a dog ran in the park", "the dog sat on a log"]


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture()
def repeating_file(tmp_path: Path) -> Path:
    path = tmp_path / "toy.txt"
    path.write_text("\n".join(SENTENCES * 60) + "\n", encoding="utf-8")
    return path


def tiny_model(vocab_size: int, seed: int = 0, **options: object) -> RNNLanguageModel:
    torch.manual_seed(seed)
    config = LanguageModelConfig(vocab_size=vocab_size, embedding_dim=16, hidden_size=16,
                                 num_layers=1, **options)
    return RNNLanguageModel(config)


def fast_trainer(**options: object) -> TrainerConfig:
    defaults = {"optimizer": "adam", "lr": 0.02, "epochs": 3, "metric": "ppl",
                "device": "cpu", "progress": False}
    return TrainerConfig(**{**defaults, **options})


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A word-level model that learned the three repeating sentences, saved."""
    folder = tmp_path_factory.mktemp("lm")
    text = folder / "toy.txt"
    text.write_text("\n".join(SENTENCES * 60) + "\n", encoding="utf-8")
    torch.set_num_threads(1)
    corpus = load_lm_corpus(str(text))
    config = LanguageModelConfig(vocab_size=len(corpus.vocab), embedding_dim=16, hidden_size=16,
                                 num_layers=1)
    result = train_language_model(corpus, config, fast_trainer(epochs=4),
                                  LMBatching(batch_size=4, bptt=10, eval_batch_size=2))
    path = folder / "toy.lm"
    save_language_model(path, result.model, corpus.vocab, "word",
                        {"valid_ppl": result.valid["ppl"]})
    return path


# ---------------------------------------------------------------------------- data


@pytest.mark.parametrize(
    ("text", "level", "tokens"),
    [
        (" the  cat sat ", "word", ["the", "cat", "sat"]),
        ("我爱 北京", "char", ["我", "爱", " ", "北", "京"]),
        ("", "word", []),
    ],
)
def test_lines_split_into_words_or_characters(text: str, level: str, tokens: list[str]) -> None:
    assert tokenize_line(text, level) == tokens


def test_a_single_file_is_cut_90_5_5_in_stream_order(repeating_file: Path) -> None:
    splits = read_splits(str(repeating_file), "word")
    whole = [t for line in SENTENCES * 60 for t in line.split() + ["<eos>"]]
    assert splits["train"] + splits["valid"] + splits["test"] == whole
    assert len(splits["train"]) == int(len(whole) * 0.9)
    assert len(splits["valid"]) == int(len(whole) * 0.05)


def test_a_folder_gives_its_three_files(tmp_path: Path) -> None:
    for split in ("train", "valid", "test"):
        (tmp_path / f"{split}.txt").write_text(f"{split} words\n", encoding="utf-8")
    splits = read_splits(str(tmp_path), "word")
    assert splits == {s: [s, "words", "<eos>"] for s in ("train", "valid", "test")}
    (tmp_path / "test.txt").unlink()
    with pytest.raises(DatasetError, match="missing test.txt"):
        read_splits(str(tmp_path), "word")


def test_unknown_data_names_the_choices() -> None:
    with pytest.raises(DatasetError, match="use ptb, wikitext-2, a text file"):
        read_splits("no-such-corpus", "word")


def test_vocabulary_is_counted_on_train_only(tmp_path: Path) -> None:
    for split, text in (("train", "a a b"), ("valid", "c a"), ("test", "a b")):
        (tmp_path / f"{split}.txt").write_text(text + "\n", encoding="utf-8")
    corpus = load_lm_corpus(str(tmp_path))
    assert corpus.vocab.itos == ("<unk>", "<eos>", "a", "b")
    assert corpus.valid.tolist() == [0, 2, 1]  # c is unknown


def test_ptb_gives_the_standard_10k_vocabulary_and_token_counts(data_home: Path) -> None:
    from seqnlp.datasets import fetch

    fetch("ptb", from_dir=shared_file("ptb"))
    corpus = load_lm_corpus("ptb")
    assert len(corpus.vocab) == 10_000
    assert (len(corpus.train), len(corpus.valid), len(corpus.test)) == (929_589, 73_760, 82_430)


def test_too_short_a_corpus_names_the_batch_size_and_bptt(tmp_path: Path) -> None:
    (tmp_path / "short.txt").write_text("one two three\n" * 20, encoding="utf-8")
    corpus = load_lm_corpus(str(tmp_path / "short.txt"))
    config = LanguageModelConfig(vocab_size=len(corpus.vocab), embedding_dim=4, hidden_size=4)
    with pytest.raises(CorpusTooShortError, match="batch size 8 and BPTT length 30") as info:
        train_language_model(corpus, config, fast_trainer(), LMBatching(batch_size=8, bptt=30))
    assert f"has {len(corpus.train)} tokens" in str(info.value)
    assert isinstance(info.value, SeqnlpError)


def test_fixed_windows_repeat_and_variable_ones_depend_on_the_epoch() -> None:
    ids = np.arange(2000)
    fixed = lm_batches(ids, 4, 10)
    assert fixed(0) is fixed(3)
    inputs, targets = fixed(0)[0]
    assert inputs.shape == (4, 10) and torch.equal(targets[:, :-1], inputs[:, 1:])
    variable = lm_batches(ids, 4, 10, variable=True, seed=1)
    lengths = [[x.size(1) for x, _ in variable(epoch)] for epoch in (0, 0, 1)]
    assert lengths[0] == lengths[1] != lengths[2]


# ---------------------------------------------------------------------------- perplexity, training


def test_a_uniform_model_has_the_vocabulary_size_as_perplexity() -> None:
    model = tiny_model(37)
    nn.init.zeros_(model.decoder.weight)
    nn.init.zeros_(model.decoder.bias)
    result = perplexity(model, np.random.default_rng(0).integers(0, 37, 500), 5, 7)
    assert result["ppl"] == pytest.approx(37.0, rel=1e-5)
    assert result["tokens"] == 5 * (500 // 5 - 1)


def test_perplexity_is_the_exponential_of_the_mean_token_loss() -> None:
    model = tiny_model(20).eval()
    ids = np.random.default_rng(1).integers(0, 20, 300)
    result = perplexity(model, ids, 1, 300)  # one window: the whole stream at once
    with torch.no_grad():
        logits, _ = model(torch.from_numpy(ids[None, :-1]))
    nll = nn.functional.cross_entropy(logits[0], torch.from_numpy(ids[1:]))
    assert result["ppl"] == pytest.approx(math.exp(float(nll)), rel=1e-5)


def test_the_model_learns_a_repeating_corpus(repeating_file: Path) -> None:
    corpus = load_lm_corpus(str(repeating_file))
    config = LanguageModelConfig(vocab_size=len(corpus.vocab), embedding_dim=16,
                                 hidden_size=16, num_layers=1)
    result = train_language_model(corpus, config, fast_trainer(epochs=4),
                                  LMBatching(batch_size=4, bptt=10, eval_batch_size=2))
    first = result.fit.history[0]["metrics"]["ppl"]
    assert result.valid["ppl"] < 1.5 < first  # the three sentences are then predictable
    assert result.test["ppl"] < 1.5


def test_sgd_with_the_zaremba_schedule_halves_the_rate(repeating_file: Path) -> None:
    corpus = load_lm_corpus(str(repeating_file))
    config = LanguageModelConfig(vocab_size=len(corpus.vocab), embedding_dim=8, hidden_size=8,
                                 num_layers=1)
    trainer = fast_trainer(optimizer="sgd", lr=20.0, clip_norm=0.25, epochs=4,
                           schedule="exponential", constant_epochs=2, gamma=0.5)
    result = train_language_model(corpus, config, trainer, LMBatching(4, 10, eval_batch_size=2))
    assert [h["lr"] for h in result.fit.history] == [20.0, 20.0, 10.0, 5.0]


# ---------------------------------------------------------------------------- saved models


def test_a_saved_model_reads_back_with_the_same_numbers(trained: Path) -> None:
    lm = load_language_model(trained)
    assert lm.level == "word" and not lm.model.training
    result = evaluate_saved(lm, str(trained.with_name("toy.txt")), "valid", 2, 10)
    assert result["ppl"] == pytest.approx(lm.extra["valid_ppl"], rel=1e-5)
    assert result["oov_rate"] == 0.0


def test_a_classifier_artifact_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "clf.pt"
    save_artifact(path, "classifier", LanguageModelConfig(vocab_size=5), nn.Linear(2, 2))
    with pytest.raises(ArtifactError, match="is a 'classifier' model, expected a 'language_model'"):
        load_language_model(path)


def test_a_vocabulary_that_does_not_fit_the_model_is_refused(tmp_path: Path) -> None:
    model = tiny_model(6)
    vocab = Vocab(["<unk>", "<eos>", "a", "b"], specials=("<unk>", "<eos>"))
    save_language_model(tmp_path / "bad.lm", model, vocab, "word")
    with pytest.raises(IncompatibleModelError, match="vocabulary has 4 tokens but the model predicts 6"):
        load_language_model(tmp_path / "bad.lm")


def test_resuming_from_a_checkpoint_of_another_vocabulary_is_refused(tmp_path: Path) -> None:
    from seqnlp.training import save_checkpoint

    save_checkpoint(tmp_path / "last.pt", {"model": tiny_model(9).state_dict()})
    with pytest.raises(IncompatibleModelError, match="vocabulary has 9 tokens, this corpus's has 7"):
        check_resumable(tmp_path / "last.pt", tiny_model(7))
    check_resumable(tmp_path / "absent.pt", tiny_model(7))  # nothing to resume: fine


# ---------------------------------------------------------------------------- scores, generation


def test_a_line_longer_than_the_score_window_scores_as_one_pass(
    trained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from seqnlp.tasks import lm_generation

    lm = load_language_model(trained)
    lines = [" ".join(SENTENCES * 9), "the cat sat", " ".join(SENTENCES * 4)]  # 120 tokens
    monkeypatch.setattr(lm_generation, "SCORE_WINDOW", 1000)
    whole = score_lines(lm, lines)  # one window holds every line
    monkeypatch.setattr(lm_generation, "SCORE_WINDOW", 7)
    windowed = score_lines(lm, lines, batch_size=2)
    assert [s.num_tokens for s in windowed] == [s.num_tokens for s in whole]
    for a, b in zip(windowed, whole):
        assert a.log_prob == pytest.approx(b.log_prob, abs=1e-3)


def test_a_long_prompt_is_read_in_windows_with_the_state_carried(
    trained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from seqnlp.models import language_model

    lm = load_language_model(trained)
    prompt = torch.from_numpy(lm.vocab.encode(" ".join(SENTENCES * 3).split())).unsqueeze(0)
    with torch.no_grad():
        (h, c), last = lm.model.prime(prompt)
        monkeypatch.setattr(language_model, "PRIME_WINDOW", 5)
        (h5, c5), last5 = lm.model.prime(prompt)
    torch.testing.assert_close(h5, h, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(c5, c, atol=1e-5, rtol=1e-5)
    assert torch.equal(last5, last)


def test_sentence_scores_sum_the_step_log_probabilities(trained: Path) -> None:
    lm = load_language_model(trained)
    lines = ["the cat sat", "a dog ran in the park today", ""]
    scores = score_lines(lm, lines, batch_size=2)
    for line, result in zip(lines, scores):
        ids = lm.vocab.encode(["<eos>", *line.split(), "<eos>"])
        state, total = lm.model.initial_state(1), 0.0
        for current, following in zip(ids[:-1], ids[1:]):
            with torch.no_grad():
                log_probs, state = lm.model.step(state, torch.tensor([current]))
            total += float(log_probs[0, following])
        assert result.log_prob == pytest.approx(total, abs=1e-4)
        assert result.num_tokens == len(ids) - 1
    assert scores[1].unknown == ["today"]
    assert scores[0].log_prob > score_lines(lm, ["sat cat the"])[0].log_prob


def test_unknown_prompt_words_are_read_as_unk_and_reported(trained: Path) -> None:
    lm = load_language_model(trained)
    result = generate_text(lm, "the zebra zebra sat", "greedy")
    assert result.prompt_tokens == ["the", "<unk>", "<unk>", "sat"]
    assert result.unknown == ["zebra"]


def test_greedy_generation_continues_a_learned_sentence(trained: Path) -> None:
    lm = load_language_model(trained)
    assert generate_text(lm, "a dog", "greedy").continuations == [["ran", "in", "the", "park"]]


def test_beam_returns_distinct_hypotheses_best_first(trained: Path) -> None:
    lm = load_language_model(trained)
    result = generate_text(lm, "the", "beam", num_outputs=3, beam_size=4)
    assert len({tuple(c) for c in result.continuations}) == 3
    assert result.log_probs == sorted(result.log_probs, reverse=True)


def test_sampling_is_reproducible_for_a_seed(trained: Path) -> None:
    lm = load_language_model(trained)
    first = generate_text(lm, "the", "sample", num_outputs=4, temperature=2.0, seed=5)
    again = generate_text(lm, "the", "sample", num_outputs=4, temperature=2.0, seed=5)
    assert first == again and len(first.continuations) == 4


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"strategy": "greedy", "num_outputs": 2}, "greedy search has one output"),
        ({"strategy": "beam", "num_outputs": 6, "beam_size": 5}, "width 5 cannot return 6"),
        ({"strategy": "nucleus"}, "strategy must be one of"),
        ({"strategy": "greedy", "max_len": 10**9}, "max_len must be at most 10000"),
        ({"strategy": "beam", "beam_size": 10**9}, "beam size must be at most 100"),
        ({"strategy": "sample", "num_outputs": 10**9}, "outputs must be at most 1000"),
    ],
)
def test_generation_options_that_do_not_fit_are_refused(
    trained: Path, options: dict, message: str
) -> None:
    with pytest.raises(GenerationOptionError, match=message):
        generate_text(load_language_model(trained), "the", **options)


def test_an_empty_prompt_starts_a_sentence(trained: Path) -> None:
    lm = load_language_model(trained)
    result = generate_text(lm, "", "beam", num_outputs=3, beam_size=3)
    assert result.prompt_tokens == []
    # after <eos> from a zero state the toy model has seen only sentence-initial words
    assert {c[0] for c in result.continuations} <= {"the", "a"}


@pytest.mark.parametrize("strategy", ["greedy", "beam", "sample"])
def test_no_unk_never_generates_unk(trained: Path, strategy: str) -> None:
    lm = load_language_model(trained)
    unk = lm.vocab.unk_index
    with torch.no_grad():
        lm.model.decoder.bias[unk] = 50.0  # make <unk> the most likely word everywhere
    options = {"num_outputs": 3, "temperature": 1.0} if strategy == "sample" else {}
    plain = generate_text(lm, "the", strategy, max_len=5, **options)
    assert any("<unk>" in c for c in plain.continuations)
    banned = generate_text(lm, "the", strategy, max_len=5, no_unk=True, **options)
    assert all("<unk>" not in c for c in banned.continuations)
    assert all(len(c) > 0 for c in banned.continuations)
