"""What every `train` command shares: --config files, the resolved configuration printed and
stored, `config MODEL`, hidden aliases, output paths checked first, the wrong kind of model."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch

from seqnlp.cli.main import main
from seqnlp.models import load_model
from tests.cli.conftest import run_cli as run

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = ["--epochs", "2", "--hidden-size", "6", "--embedding-dim", "6", "--lr", "0.03",
        "--batch-size", "16", "--device", "cpu"]


@pytest.fixture()
def tiny_tsv(tmp_path: Path) -> Path:
    rng = random.Random(1)
    lines = []
    for _ in range(120):
        label = rng.randint(0, 1)
        words = [rng.choice("the a film plot was".split()) for _ in range(rng.randint(2, 6))]
        words.insert(rng.randint(0, len(words)), "great" if label else "awful")
        lines.append(f"{label}\t{' '.join(words)}")
    path = tmp_path / "tiny.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def weights(path: Path) -> dict[str, torch.Tensor]:
    return load_model(path).model.state_dict()


def test_a_config_file_trains_and_the_command_line_overrides_it(capsys, tmp_path, tiny_tsv):
    config = tmp_path / "run.toml"
    config.write_text(f'[data]\ndata = "{tiny_tsv}"\nmax_vocab = 50\n'
                      '[model]\nencoder = "gru"\nhidden_size = 5\nbidirectional = true\n'
                      '[trainer]\nepochs = 1\nlr = 0.03\nbatch_size = 16\n', encoding="utf-8")
    model = tmp_path / "m.pt"
    code, out, err = run(capsys, "classify", "train", "--config", str(config), "-o", str(model),
                         "--hidden-size", "7", "--device", "cpu")
    assert code == 0, err
    loaded = load_model(model)
    assert (loaded.config.encoder, loaded.config.bidirectional) == ("gru", True)  # from the file
    assert loaded.config.hidden_size == 7  # the command line wins
    stored = loaded.train_config
    assert stored["model"]["hidden_size"] == 7 and stored["data"]["max_vocab"] == 50
    assert stored["trainer"]["epochs"] == 1
    assert "[model]" in out and "hidden_size = 7" in out  # printed at start


def test_config_model_prints_a_file_that_trains_the_same_model_again(capsys, tmp_path, tiny_tsv):
    first = tmp_path / "first.pt"
    code, _, err = run(capsys, "classify", "train", "--data", str(tiny_tsv), "-o", str(first),
                       "--encoder", "rnn", "--num-layers", "2", "--max-vocab", "40", *TINY)
    assert code == 0, err
    code, out, err = run(capsys, "classify", "config", str(first))
    assert code == 0, err
    config = tmp_path / "again.toml"
    config.write_text(out, encoding="utf-8")
    second = tmp_path / "second.pt"
    code, _, err = run(capsys, "classify", "train", "--config", str(config), "-o", str(second))
    assert code == 0, err
    a, b = weights(first), weights(second)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_old_names_are_hidden_aliases(capsys, tmp_path, tiny_tsv):
    model = tmp_path / "m.pt"
    code, _, err = run(capsys, "classify", "train", "--data", str(tiny_tsv), "-o", str(model),
                       "--layers", "2", "--vocab-size", "5", *TINY)
    assert code == 0, err
    loaded = load_model(model)
    assert loaded.config.num_layers == 2 and len(loaded.vocab) == 5
    code, out, _ = run(capsys, "classify", "train", "--help")
    assert "--num-layers" in out and "--max-vocab" in out
    assert "--layers " not in out and "--vocab-size" not in out


@pytest.mark.parametrize("text, message", [
    ('[model]\ncolour = "red"\n', "unknown key(s) in [model]: colour"),
    ('[model]\nhidden_size = "big"\n', "[model] hidden_size must be a int"),
    ("[optimiser]\nlr = 1\n", "unknown table [optimiser]"),
    ("[model\n", "not a TOML file"),
    ('[model]\nencoder = "cnn"\n', "--encoder must be one of rnn, lstm, gru, tdnn"),
])
def test_a_bad_config_file_is_a_one_line_error(capsys, tmp_path, tiny_tsv, text, message):
    config = tmp_path / "bad.toml"
    config.write_text(text, encoding="utf-8")
    code, _, err = run(capsys, "classify", "train", "--data", str(tiny_tsv), "--config",
                       str(config), "-o", str(tmp_path / "m.pt"))
    assert code == 1
    assert err.startswith("seqnlp: error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "m.pt").exists()


def test_data_is_required_somewhere(capsys, tmp_path):
    code, _, err = run(capsys, "classify", "train", "-o", str(tmp_path / "m.pt"))
    assert code == 1 and "--data is required" in err


@pytest.mark.parametrize("command", [["classify", "train"], ["lm", "train"]])
@pytest.mark.parametrize("where", ["folder", "missing-parent", "checkpoint-file"])
def test_output_paths_are_checked_before_any_work(capsys, tmp_path, tiny_tsv, command, where):
    output = tmp_path / "m.pt"
    extra: list[str] = []
    if where == "folder":
        output.mkdir()
    elif where == "missing-parent":
        output = tmp_path / "nowhere" / "m.pt"
    else:
        (tmp_path / "ckpt").write_text("x")
        extra = ["--checkpoint-dir", str(tmp_path / "ckpt")]
    data = tmp_path / "missing-data.tsv"  # never read: the path check comes first
    code, _, err = run(capsys, *command, "--data", str(data), "-o", str(output), *extra)
    assert code == 1 and err.count("\n") == 1
    assert {"folder": "is a folder", "missing-parent": "does not exist",
            "checkpoint-file": "--checkpoint-dir needs a folder"}[where] in err


def test_a_model_of_the_wrong_kind_names_its_command(capsys, tmp_path, tiny_tsv):
    model = tmp_path / "c.pt"
    code, _, err = run(capsys, "classify", "train", "--data", str(tiny_tsv), "-o", str(model),
                       *TINY)
    assert code == 0, err
    code, _, err = run(capsys, "lm", "generate", str(model), "--prompt", "the")
    assert code == 1 and err.count("\n") == 1
    assert "sequence classifier: use it with `seqnlp classify`" in err
    code, out, err = run(capsys, "lm", "config", str(model))
    assert code == 1 and "use it with `seqnlp classify`" in err


def test_config_of_a_release_0_1_model_prints_its_architecture(capsys):
    fixture = Path(__file__).parents[1] / "models" / "fixtures" / "classifier-release-0.1.pt"
    code, out, err = run(capsys, "classify", "config", str(fixture))
    assert code == 0, err
    assert "saved before configurations were stored" in out and 'encoder = "gru"' in out


def test_the_cli_choices_equal_the_models():
    from seqnlp.cli import classify as cli
    from seqnlp.models import classifier
    from seqnlp.nn.pooling import POOLINGS

    assert cli.ENCODERS == classifier.ENCODERS and cli.INITS == classifier.INITS
    assert cli.TRUNCATIONS == classifier.TRUNCATIONS and cli.POOLINGS == POOLINGS
    assert cli.KIND == classifier.ARTIFACT_KIND


def test_the_cli_bounds_equal_the_libraries():
    from seqnlp.cli import classify, lm, options
    from seqnlp.models import registry
    from seqnlp.tasks import lm_generation

    for command in (classify, lm):
        bounds = {o.name: o.high for o in command.OPTIONS}
        assert bounds["hidden_size"] == bounds["embedding_dim"] == registry.MAX_WIDTH
        assert bounds["num_layers"] == registry.MAX_LAYERS
        assert bounds["seed"] == options.MAX_SEED == lm.MAX_SEED
    assert lm.MAX_OUTPUTS == lm_generation.MAX_OUTPUTS and lm.MAX_BEAM == lm_generation.MAX_BEAM
    assert lm.MAX_GENERATED == lm_generation.MAX_GENERATED


def test_printable_escapes_what_could_drive_a_terminal():
    from seqnlp.cli.common import printable

    assert printable("caf\u00e9 \u732b ok") == "caf\u00e9 \u732b ok"
    assert printable("a\x1b[2Jb\tc\nd\x9b\u200be") == "a\\x1b[2Jb\\tc\\nd\\x9b\\u200be"


def test_main_accepts_the_module_entry_point():
    with pytest.raises(SystemExit) as done:
        main(["classify", "--help"])
    assert done.value.code == 0
