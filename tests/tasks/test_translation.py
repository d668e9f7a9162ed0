"""Translation task: parallel readers (the line-count error), scores, a toy language learnt
end to end through the pipeline, unknown-word replacement, Multi30k from the data home."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from seqnlp.errors import DataFormatError, DatasetError
from seqnlp.tasks.translation_data import (
    eval_pairs,
    load_parallel_data,
    read_pairs,
    split_data_argument,
)
from seqnlp.tasks.translation_eval import format_scores, translation_scores

pytestmark = pytest.mark.usefixtures("one_thread")

GERMAN = ["eins", "zwei", "drei", "vier", "fünf", "sechs"]
ENGLISH = ["one", "two", "three", "four", "five", "six"]


def toy_pairs(count: int, seed: int = 0) -> list[tuple[str, str]]:
    """German number words -> English ones, with a capital and a full stop."""
    rng = random.Random(seed)
    pairs = []
    for _ in range(count):
        ids = [rng.randrange(6) for _ in range(rng.randint(1, 4))]
        pairs.append((" ".join(GERMAN[i] for i in ids).capitalize() + ".",
                      " ".join(ENGLISH[i] for i in ids).capitalize() + "."))
    return pairs


def write_pairs(folder: Path, pairs: list[tuple[str, str]], extra_target: int = 0
                ) -> tuple[Path, Path]:
    source, target = folder / "a.de", folder / "a.en"
    source.write_text("".join(s + "\n" for s, _ in pairs), encoding="utf-8")
    target.write_text("".join(t + "\n" for _, t in pairs) + "more\n" * extra_target,
                      encoding="utf-8")
    return source, target


def test_parallel_files_of_different_line_counts_give_one_line_naming_both(tmp_path: Path
                                                                           ) -> None:
    source, target = write_pairs(tmp_path, toy_pairs(5), extra_target=2)
    with pytest.raises(DataFormatError) as caught:
        read_pairs(source, target)
    message = str(caught.value)
    assert "\n" not in message
    assert "has 5 lines" in message and "has 7" in message
    assert str(source) in message and str(target) in message


@pytest.mark.parametrize("value, expected", [
    ("multi30k", None), ("a.de,b.en", ("a.de", "b.en")), (" a , b ", ("a", "b"))])
def test_the_data_argument_is_a_name_or_two_files(value: str, expected: object) -> None:
    assert split_data_argument(value) == expected


@pytest.mark.parametrize("value", ["a,b,c", "a,", ",b"])
def test_a_bad_file_pair_is_refused(value: str) -> None:
    with pytest.raises(DatasetError, match="SRC_FILE,TGT_FILE"):
        split_data_argument(value)


def test_unknown_names_and_missing_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="unknown translation data"):
        load_parallel_data("wmt14")
    with pytest.raises(DatasetError, match="no such file"):
        load_parallel_data(f"{tmp_path}/x.de,{tmp_path}/x.en")
    with pytest.raises(DatasetError, match="--split must be one of"):
        eval_pairs("multi30k", "train", "de", "en")


def test_files_hold_out_a_dev_share_and_drop_empty_training_pairs(tmp_path: Path) -> None:
    pairs = toy_pairs(40) + [("", "Leer."), ("Leer.", " ")]
    source, target = write_pairs(tmp_path, pairs)
    data = load_parallel_data(f"{source},{target}", dev_fraction=0.1, seed=3)
    assert len(data.dev) == 4 and len(data.train) + data.dropped == 38
    assert all(s.strip() and t.strip() for s, t in data.train)


def test_scores_are_perfect_for_the_references_and_carry_signatures() -> None:
    references = ["A man rides a bike.", "Two dogs play in the snow."]
    scores = translation_scores(references, references)
    assert scores["bleu"] == pytest.approx(100.0) and scores["chrf"] == pytest.approx(100.0)
    assert "tok:13a" in scores["bleu_signature"] and "case:mixed" in scores["bleu_signature"]
    lower = translation_scores(["a MAN rides a bike .", "two dogs play in the snow ."],
                               references)
    assert lower["bleu_tok"] == pytest.approx(100.0) and lower["bleu"] < 100.0
    assert "BLEU 100.00" in format_scores(scores, "toy")


def test_a_toy_language_is_learnt_and_beam_search_is_no_worse(tmp_path: Path) -> None:
    import torch

    import seqnlp.models.seq2seq  # noqa: F401  (registers the kind)
    from seqnlp.models import load_model
    from seqnlp.tasks.pipeline import save_trained, train_task
    from seqnlp.tasks.translation import TranslationTask, Translator, evaluate_translator
    from seqnlp.tasks.translation_data import ParallelData
    from seqnlp.training import TrainerConfig

    data = ParallelData("toy", "de", "en", toy_pairs(400), toy_pairs(40, seed=1),
                        toy_pairs(40, seed=2))
    task = TranslationTask(data, tokenizer="words", batch_size=32)
    options = {"embedding_dim": 24, "hidden_size": 24, "dropout": 0.0, "label_smoothing": 0.0}
    trained = train_task(task, options, TrainerConfig(epochs=8, lr=1e-2, clip_norm=1.0,
                                                      progress=False))
    assert trained.dev["bleu"] > 60
    translator = task.translator(trained.model, trained.vocabs)
    greedy = translator.translate([s for s, _ in data.test])
    beam = translator.translate([s for s, _ in data.test], beam=4, n_best=2)
    assert all(b.log_prob >= g.log_prob - 1e-4 for g, b in zip(greedy, beam))
    assert all(len(b.alternatives) == 1 for b in beam)
    save_trained(tmp_path / "toy.pt", task, trained)
    loaded = Translator.from_loaded(load_model(tmp_path / "toy.pt"))
    assert [t.text for t in loaded.translate(["Drei eins.", ""])] == [
        t.text for t in translator.translate(["Drei eins.", ""])]
    scores = evaluate_translator(loaded, data.test, beam=3)
    assert scores["bleu"] > 60 and scores["sentences_per_second"] > 0
    first = loaded.translate(["Zwei vier sechs."], attention=True)[0]
    assert first.attention.shape == (len(first.tokens) + 1, len(first.source_tokens))
    assert np.allclose(first.attention.sum(1), 1.0, atol=1e-5)
    assert torch.get_num_threads() == 1


def test_unknown_words_take_the_most_attended_source_token() -> None:
    from seqnlp.models.seq2seq import UNK_INDEX
    from seqnlp.tasks.translation import Translator
    from seqnlp.text.subword import WordTokenizer
    from seqnlp.text.vocab import DEFAULT_SPECIALS, Vocab

    target = Vocab([*DEFAULT_SPECIALS, "the", "city"], specials=DEFAULT_SPECIALS)
    translator = Translator(None, WordTokenizer(), WordTokenizer(), target, target)
    weights = np.array([[0.9, 0.1, 0.0], [0.1, 0.2, 0.7], [0.3, 0.3, 0.4]])
    ids = [target.stoi["the"], UNK_INDEX]
    assert translator._tokens(ids, ["die", "Stadt", "Zürich"], weights) == ["the", "Zürich"]
    assert translator._tokens(ids, ["die", "Stadt", "Zürich"]) == ["the", "<unk>"]


def test_multi30k_reads_from_the_data_home(shared_datasets: Path, data_home: Path) -> None:
    from seqnlp.datasets import fetch

    if not (shared_datasets / "multi30k").is_dir():
        pytest.skip("multi30k not in the shared datasets")
    fetch("multi30k", from_dir=shared_datasets / "multi30k", progress=False)
    data = load_parallel_data("multi30k", "de", "en")
    assert (len(data.train), len(data.dev), len(data.test)) == (29_000, 1_014, 1_000)
    assert data.test[0][1].startswith("A man in an orange hat")
    reverse = load_parallel_data("multi30k", "en", "de")
    assert reverse.train[0] == data.train[0][::-1]
    with pytest.raises(DatasetError, match="de and en"):
        load_parallel_data("multi30k", "de", "fr")
