"""The tagger on the shared pipeline: it learns a synthetic segmentation, saves and loads
through the registry, and segments raw text keeping every character."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest
import torch

from seqnlp.errors import DataFormatError, DatasetError
from seqnlp.models import load_model
from seqnlp.models.tagger import Tagger, TaggerConfig
from seqnlp.tasks.pipeline import save_trained, train_task
from seqnlp.tasks.segment import mean_decoder, segment_lines, tag_sentences
from seqnlp.tasks.tagging import TaggingTask, bigrams_of
from seqnlp.tasks.tagging_data import (
    TaggedSentence,
    cws_sentence,
    guess_scheme,
    load_tagging_data,
    read_columns,
)
from seqnlp.tasks.tagging_eval import evaluate_tagger
from seqnlp.training import TrainerConfig

pytestmark = pytest.mark.usefixtures("one_thread")

LEXICON = ["北京", "天安门", "我", "爱", "人民", "大会堂", "的", "中国", "在", "学习", "研究生",
           "生命", "起源", "和", "广场"]


def synthetic_corpus(path: Path, sentences: int, seed: int) -> Path:
    rng = random.Random(seed)
    lines = ["  ".join(rng.choice(LEXICON) for _ in range(rng.randint(3, 9)))
             for _ in range(sentences)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def train_cws(folder: Path, sentences: int, seed: int, sizes: dict[str, int], epochs: int
              ) -> tuple[Path, object]:
    """A cws tagger trained on a synthetic corpus, saved as folder/cws.pt."""
    corpus = synthetic_corpus(folder / "train.txt", sentences, seed=seed)
    data = load_tagging_data("cws", str(corpus), dev_fraction=0.1, seed=0)
    task = TaggingTask(data, batch_size=16, bigrams=True)
    torch.set_num_threads(1)
    trained = train_task(task, sizes, TrainerConfig(epochs=epochs, lr=5e-3, progress=False,
                                                    seed=seed))
    path = folder / "cws.pt"
    save_trained(path, task, trained)
    return path, trained


@pytest.fixture(scope="module")
def trained_cws(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    return train_cws(tmp_path_factory.mktemp("cws"), 600, 0,
                     {"embedding_dim": 16, "bigram_dim": 8, "hidden_size": 24}, epochs=4)


def test_the_tagger_learns_a_segmentation(trained_cws) -> None:
    _, trained = trained_cws
    assert trained.dev["f1"] > 0.95  # a 15-word lexicon is learnt in a few epochs
    assert trained.fit.history[0]["metrics"]["f1"] < trained.dev["f1"] or trained.dev["f1"] == 1


def test_saved_tagger_loads_and_decodes_the_same(trained_cws) -> None:
    path, trained = trained_cws
    loaded = load_model(path, expect="tagger")
    assert loaded.task == "cws" and loaded.normalize == "width"
    tokens = torch.tensor([[3, 4, 5, 6]])
    lengths = torch.tensor([4])
    bigrams = torch.tensor([[[2, 3], [3, 4], [4, 5], [5, 6]]])
    a, _ = trained.model(tokens, lengths, bigrams=bigrams)
    b, _ = loaded.model(tokens, lengths, bigrams=bigrams)
    assert torch.equal(a, b)


def test_segment_keeps_every_character_and_blank_lines(trained_cws) -> None:
    loaded = load_model(trained_cws[0])
    lines = ["我爱北京天安门", "", "  人民 大会堂 ", "访问 http://example.com/a?b=1 和 iPhone12",
             "北京" * 700]
    words = segment_lines(loaded, lines, batch_size=4, max_chunk=64)
    assert len(words) == len(lines) and words[1] == []
    for line, found in zip(lines, words):
        assert "".join(found) == "".join(line.split())
    assert words[0] == ["我", "爱", "北京", "天安门"]
    assert "http://example.com/a?b=1" in words[3]
    assert any(w.startswith("iPhone12") for w in words[3])
    assert len(words[4]) >= 700


def test_user_words_are_never_cut(trained_cws) -> None:
    loaded = load_model(trained_cws[0])
    plain = segment_lines(loaded, ["我爱北京天安门"])[0]
    assert "北京天安门" not in plain
    forced = segment_lines(loaded, ["我爱北京天安门"], user_words={"北京天安门"})[0]
    assert forced == ["我", "爱", "北京天安门"]


def test_full_width_input_is_read_as_ascii_and_written_as_typed(trained_cws) -> None:
    loaded = load_model(trained_cws[0])
    words = segment_lines(loaded, ["ＡＢＣ１２我爱北京"])[0]
    assert "".join(words) == "ＡＢＣ１２我爱北京"
    assert words[0].startswith("ＡＢＣ１２")  # a Latin run (read as "ABC12") is never cut


def test_evaluate_tagger_reports_the_bakeoff_measures(trained_cws, tmp_path) -> None:
    loaded = load_model(trained_cws[0])
    corpus = synthetic_corpus(tmp_path / "t.txt", 100, seed=5)
    data = load_tagging_data("cws", str(corpus), dev_fraction=0.1, seed=0)
    scores = evaluate_tagger(loaded, data, "dev")
    assert scores["f1"] > 0.9 and "OOV recall" in scores["_text"]
    assert scores["oov_rate"] == 0.0  # every word of dev occurs in train


def test_cws_sentence_normalises_width_and_tags_bmes() -> None:
    sentence = cws_sentence(["１９９８年", "，", "北京"])
    assert sentence.tokens == tuple("1998年,北京")
    assert sentence.tags == ("B", "M", "M", "M", "E", "S", "B", "E")


def test_bigrams_of_each_position() -> None:
    assert bigrams_of(["a", "b"]) == [("<s>a", "ab"), ("ab", "b</s>")]


def test_read_columns_and_scheme(tmp_path: Path) -> None:
    path = tmp_path / "ner.txt"
    path.write_text("-DOCSTART- -X- O O\n\nEU NNP I-ORG\nrejects VBZ O\n\nPeter NNP I-PER\n"
                    "Blackburn NNP I-PER\n", encoding="utf-8")
    sentences = read_columns(path)
    assert sentences == [TaggedSentence(("EU", "rejects"), ("I-ORG", "O")),
                         TaggedSentence(("Peter", "Blackburn"), ("I-PER", "I-PER"))]
    assert guess_scheme(sentences) == "iob1"
    assert guess_scheme([TaggedSentence(("a",), ("B-X",))]) == "bio"
    bad = tmp_path / "bad.txt"
    bad.write_text("EU NNP I-ORG\nrejects\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="bad.txt, line 2: expected a token and a tag"):
        read_columns(bad)


def test_a_lexicon_recuts_train_and_dev_words_it_lacks(tmp_path: Path) -> None:
    corpus = tmp_path / "c.txt"
    corpus.write_text("我  不能  去\n他  不能  来\n" * 10, encoding="utf-8")
    plain = load_tagging_data("cws", str(corpus), dev_fraction=0.1, seed=0)
    recut = load_tagging_data("cws", str(corpus), dev_fraction=0.1, seed=0,
                              lexicon=["我", "他", "不", "能", "去", "来"])
    assert "不能" in plain.train_words and "不能" not in recut.train_words
    for split in ("train", "dev"):
        for before, after in zip(getattr(plain, split), getattr(recut, split)):
            assert before.tokens == after.tokens
            assert after.tags == ("S", "S", "S", "S")  # 不能 is two words now
    with pytest.raises(ValueError, match="cws"):
        load_tagging_data("ner", str(corpus), lexicon=["我"])


def test_missing_or_folder_data_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file"):
        load_tagging_data("cws", str(tmp_path / "none.txt"))
    with pytest.raises(DatasetError, match="is a folder"):
        load_tagging_data("ner", str(tmp_path))


def test_ner_tagger_with_character_features_learns(tmp_path: Path) -> None:
    rng = random.Random(1)
    names, others = ["Paris", "Berlin", "Rome", "Oslo"], ["he", "went", "to", "and", "saw"]
    lines = []
    for _ in range(300):
        words = [rng.choice(others) for _ in range(rng.randint(2, 5))]
        at = rng.randrange(len(words) + 1)
        city = rng.choice(names)
        tagged = [f"{w} O" for w in words[:at]] + [f"{city} B-LOC"] + [f"{w} O" for w in words[at:]]
        lines.append("\n".join(tagged) + "\n")
    path = tmp_path / "ner.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    data = load_tagging_data("ner", str(path), dev_fraction=0.1, seed=0)
    assert data.scheme == "bio"
    task = TaggingTask(data, batch_size=16, chars=True)
    trained = train_task(task, {"embedding_dim": 16, "char_filters": 8, "hidden_size": 16},
                         TrainerConfig(epochs=3, lr=1e-2, progress=False))
    assert trained.dev["f1"] > 0.9
    save_trained(tmp_path / "ner.pt", task, trained)
    loaded = load_model(tmp_path / "ner.pt")
    assert tag_sentences(loaded, [["he", "saw", "Rome"], []]) == [["O", "O", "B-LOC"], []]


def test_constrained_tagger_never_decodes_forbidden_bmes() -> None:
    config = TaggerConfig(vocab_size=20, tags=("B", "M", "E", "S"), hidden_size=8,
                          embedding_dim=8)
    model = Tagger(config).eval()
    tokens = torch.randint(1, 20, (50, 9), generator=torch.Generator().manual_seed(0))
    lengths = torch.randint(1, 10, (50,), generator=torch.Generator().manual_seed(1))
    emissions, _ = model(tokens, lengths)
    decoded = model.decode(emissions * 50, lengths)
    for row, length in zip(decoded.tolist(), lengths.tolist()):
        path = "".join("BMES"[t] for t in row[:length])
        assert path[0] in "BS" and path[-1] in "ES"
        for bad in ("BB", "BS", "MB", "MS", "EM", "EE", "SM", "SE"):
            assert bad not in path


def test_character_encoder_equals_the_reference_encoding(trained_cws) -> None:
    import numpy as np

    from seqnlp.tasks.tagging import CharacterEncoder, encode_tagging

    loaded = load_model(trained_cws[0])
    texts = ["我爱北京天安门", "x北京𝕏", "人", "天安门广场和人民大会堂的研究生"]
    fast = CharacterEncoder(loaded.vocabs).encode(texts)
    reference = encode_tagging([tuple(t) for t in texts], loaded.vocabs, with_tags=False)
    for a, b in zip(fast.tokens + fast.bigrams, reference.tokens + reference.bigrams):
        assert np.array_equal(a, b)


def test_length_batches_bound_items_and_characters() -> None:
    from seqnlp.tasks.segment import length_batches

    lengths = [5, 300, 1, 40, 40, 7, 1000]
    batches = length_batches(lengths, batch_size=3, max_chars=100)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) <= 3
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= 100


def _city_corpus(tmp_path: Path, names: list[str]) -> Path:
    rng = random.Random(2)
    others = ["he", "went", "to", "and", "saw"]
    lines = []
    for _ in range(300):
        words = [rng.choice(others) for _ in range(rng.randint(2, 5))]
        at = rng.randrange(len(words) + 1)
        tagged = [f"{w} O" for w in words[:at]] + [f"{rng.choice(names)} B-LOC"] + \
            [f"{w} O" for w in words[at:]]
        lines.append("\n".join(tagged) + "\n")
    path = tmp_path / "ner.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _lowercased_vectors() -> object:
    """Lower-cased vectors in which every city lies near one direction, other words near
    another: the cities the training data lacks (madrid, lisbon) sit with the ones it has."""
    import numpy as np

    from seqnlp.word2vec import KeyedVectors

    words = ["he", "paris", "went", "berlin", "madrid", "to", "rome", "lisbon", "and", "saw",
             "oslo", "zzz"]
    rng = np.random.default_rng(0)
    rows = []
    for word in words:
        base = np.zeros(16, dtype=np.float32)
        base[0 if word in ("paris", "berlin", "madrid", "rome", "lisbon", "oslo") else 1] = 3.0
        rows.append(base + rng.normal(0, 0.1, 16).astype(np.float32))
    return KeyedVectors(np.stack(rows), words)


def test_vector_words_join_the_vocabulary_and_unknown_words_are_looked_up_lowercased(
        tmp_path: Path) -> None:
    from seqnlp.tasks.tagging import encode_tagging

    data = load_tagging_data("ner", str(_city_corpus(tmp_path, ["Paris", "Berlin", "Rome"])),
                             dev_fraction=0.1, seed=0)
    vectors = _lowercased_vectors()
    plain = TaggingTask(data, vectors=vectors).build_vocabs()["tokens"]
    assert "madrid" not in plain.stoi
    task = TaggingTask(data, vectors=vectors, vector_words=11)  # all but "zzz"
    tokens = task.build_vocabs()["tokens"]
    assert tokens.itos[:len(plain)] == plain.itos  # training words keep their ids
    added = tokens.itos[len(plain):]
    assert added == ("paris", "berlin", "madrid", "rome", "lisbon", "oslo")  # file order
    assert "he" in plain.stoi and "zzz" not in tokens.stoi
    ids = encode_tagging([["Madrid", "Rome", "Zzz", "saw"]], {"tokens": tokens},
                         with_tags=False, lowercase_unknown=True).tokens[0]
    assert ids.tolist() == [tokens.stoi["madrid"], tokens.stoi["Rome"], tokens.unk_index,
                            tokens.stoi["saw"]]
    same = encode_tagging([["Madrid"]], {"tokens": tokens}, with_tags=False).tokens[0]
    assert same.tolist() == [tokens.unk_index]
    with pytest.raises(ValueError, match="vector_words"):
        TaggingTask(data, vectors=vectors, vector_words=-1)


def test_a_city_only_the_vectors_know_is_tagged_through_its_vector(tmp_path: Path) -> None:
    data = load_tagging_data("ner", str(_city_corpus(tmp_path, ["Paris", "Berlin", "Rome"])),
                             dev_fraction=0.1, seed=0)
    task = TaggingTask(data, batch_size=16, vectors=_lowercased_vectors(), vector_words=100)
    trained = train_task(task, {"hidden_size": 16},
                         TrainerConfig(epochs=3, lr=1e-2, progress=False))
    save_trained(tmp_path / "ner.pt", task, trained)
    loaded = load_model(tmp_path / "ner.pt")
    assert loaded.lowercase_unknown
    assert tag_sentences(loaded, [["he", "saw", "Madrid"], ["Lisbon", "and", "Oslo"]]) == \
        [["O", "O", "B-LOC"], ["B-LOC", "O", "B-LOC"]]


def test_word_dropout_turns_ids_to_unk_in_training_only() -> None:
    config = TaggerConfig(vocab_size=50, tags=("B", "M", "E", "S"), embedding_dim=8,
                          bigram_vocab_size=40, bigram_dim=4, hidden_size=8, word_dropout=0.5)
    model = Tagger(config)
    torch.manual_seed(0)
    tokens = torch.randint(2, 50, (64, 30))
    tokens[:, 25:] = 0  # padding
    model.train()
    dropped = model._drop_words(tokens)
    changed = dropped != tokens
    assert torch.all(dropped[changed] == 1)  # changed ids read as <unk>
    assert torch.all(dropped[:, 25:] == 0)  # padding stays padding
    share = changed[:, :25].float().mean().item()
    assert 0.45 < share < 0.55
    model.eval()
    assert torch.equal(model._drop_words(tokens), tokens)
    with pytest.raises(ValueError, match="word_dropout"):
        TaggerConfig(vocab_size=50, tags=("B", "S"), word_dropout=1.0)


def test_bigram_vectors_start_the_bigram_embedding(tmp_path: Path) -> None:
    import numpy as np

    from seqnlp.word2vec import KeyedVectors

    corpus = synthetic_corpus(tmp_path / "train.txt", 200, seed=3)
    data = load_tagging_data("cws", str(corpus), dev_fraction=0.1, seed=0)
    pairs = ["北京", "天安", "人民", "zz"]  # "zz" never occurs
    table = np.arange(len(pairs) * 6, dtype=np.float32).reshape(len(pairs), 6) / 10
    vectors = KeyedVectors(table, pairs)
    task = TaggingTask(data, batch_size=16, bigrams=True, bigram_vectors=vectors)
    vocabs = task.build_vocabs()
    config = task.model_config({"embedding_dim": 8, "hidden_size": 8, "bigram_dim": 50}, vocabs)
    assert config.bigram_dim == 6  # the vectors' size wins
    model = Tagger(config)
    info = task.init_model(model, vocabs, seed=0)
    weight = model.bigram_embedding.weight.detach().numpy()
    for row, pair in enumerate(pairs[:3]):
        assert np.allclose(weight[vocabs["bigrams"].stoi[pair]], table[row])
    assert 0 < info["bigram_coverage"] < 1  # most training bigrams are not in the vectors
    with pytest.raises(ValueError, match="bigrams"):
        TaggingTask(data, bigram_vectors=vectors)


# ---------------------------------------------------------------- ensembles

@pytest.fixture(scope="module")
def second_cws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another tagger, trained on other sentences (its vocabulary numbers differ)."""
    return train_cws(tmp_path_factory.mktemp("cws2"), 300, 1,
                     {"embedding_dim": 8, "bigram_dim": 8, "hidden_size": 8}, epochs=1)[0]


def test_an_ensemble_of_a_model_and_its_copy_segments_as_the_model(trained_cws) -> None:
    lines = ["".join(random.Random(i).choices(LEXICON, k=i % 6 + 1)) for i in range(80)]
    alone = segment_lines(load_model(trained_cws[0]), lines, batch_size=16)
    pair = [load_model(trained_cws[0]), load_model(trained_cws[0])]
    assert segment_lines(pair, lines, batch_size=16) == alone


def test_the_ensemble_path_has_the_best_mean_score(trained_cws, second_cws) -> None:
    """Brute force over all 4^T tag paths: the decoded path maximises the mean of the
    models' CRF path scores, each model reading the text through its own vocabularies."""
    from seqnlp.tasks.tagging import CharacterEncoder, make_tagging_batch

    members = [load_model(trained_cws[0]), load_model(second_cws)]
    assert members[0].vocabs["tokens"].itos != members[1].vocabs["tokens"].itos
    for text in ["我爱北京", "研究生命", "人民大会堂", "北京天安门"]:
        emissions = []
        for member in members:
            member.model.eval()
            batch = make_tagging_batch(CharacterEncoder(member.vocabs).encode([text]), [0])
            with torch.no_grad():
                emissions.append(member.model(**batch)[0])
        models = [m.model for m in members]
        decoded = mean_decoder(models)(emissions, batch["lengths"])[0].tolist()
        paths = torch.tensor(list(itertools.product(range(4), repeat=len(text))))
        with torch.no_grad():
            mean = sum(model.crf.score(e.expand(len(paths), -1, -1), paths)
                       for model, e in zip(models, emissions)) / 2
        assert decoded == paths[mean.argmax()].tolist()
    words = segment_lines(members, ["我爱北京天安门", "", "研究生命起源"])
    assert ["".join(w) for w in words] == ["我爱北京天安门", "", "研究生命起源"]


def test_an_ensemble_refuses_taggers_of_other_tags(trained_cws) -> None:
    from types import SimpleNamespace

    model = load_model(trained_cws[0]).model
    other = SimpleNamespace(config=SimpleNamespace(tags=("B", "I", "O")), crf=None)
    with pytest.raises(ValueError, match="share their tags"):
        mean_decoder([model, other])


def test_the_segment_command_decodes_an_ensemble(trained_cws, second_cws) -> None:
    from typer.testing import CliRunner

    from seqnlp.cli.main import app

    first, second = str(trained_cws[0]), str(second_cws)
    text = "我爱北京天安门广场"
    runner = CliRunner()
    alone = runner.invoke(app, ["segment", "-m", first, text, "--threads", "1"])
    pair = runner.invoke(app, ["segment", "-m", first, "-e", first, text, "--threads", "1"])
    mixed = runner.invoke(app, ["segment", "-m", first, "-e", second, text, "--threads", "1"])
    assert alone.exit_code == pair.exit_code == mixed.exit_code == 0, mixed.output
    assert pair.output == alone.output
    expected = segment_lines([load_model(first), load_model(second)], [text])[0]
    assert mixed.output.split() == expected


def test_eval_recuts_with_the_lexicon_the_model_was_trained_with(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from seqnlp.cli.main import app

    corpus = tmp_path / "c.txt"
    corpus.write_text("我  不能  去  北京\n他  不能  来  北京\n" * 40, encoding="utf-8")
    words = tmp_path / "words.txt"
    words.write_text("我\n他\n不\n能\n去\n来\n北京\n", encoding="utf-8")
    model = tmp_path / "m.pt"
    runner = CliRunner()
    trained = runner.invoke(app, ["tagger", "train", "--task", "cws", "--data", str(corpus),
                                  "--lexicon", str(words), "--epochs", "1", "--hidden-size",
                                  "8", "--threads", "1", "--no-progress", "-o", str(model)])
    assert trained.exit_code == 0, trained.output
    args = ["tagger", "eval", str(model), "--data", str(corpus), "--split", "dev"]
    recut = runner.invoke(app, args)
    assert recut.exit_code == 0 and f"re-cut with the word list {words}" in recut.output
    words.rename(tmp_path / "elsewhere.txt")
    as_stored = runner.invoke(app, args)
    assert as_stored.exit_code == 0 and "which is not here" in as_stored.output
    given = runner.invoke(app, [*args, "--lexicon", str(tmp_path / "elsewhere.txt")])
    assert given.exit_code == 0 and "re-cut with the word list" in given.output
