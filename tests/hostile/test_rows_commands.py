"""Hostile rows for `seqnlp classify` and `seqnlp lm`: careless option values, missing and
unreadable data, output places the system refuses, bad bytes on stdin, and the bounds of
`lm generate` (see conftest.py for what every row must satisfy). The last tests run
commands that succeed and check that nothing they echo can drive the terminal."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import pytest

from tests.hostile.conftest import Row, check_row, prepare, rows_params, run_row

pytestmark = pytest.mark.usefixtures("one_thread")

C_TRAIN = ("classify", "train", "--data", "{tsv}", "-o", "m.pt")
L_TRAIN = ("lm", "train", "--data", "{text}", "-o", "m.pt")
C_EVAL = ("classify", "eval", "{classifier}", "--data", "{tsv}")
L_EVAL = ("lm", "eval", "{lm}", "--data", "{text}")
GENERATE = ("lm", "generate", "{lm}")
PREDICT = ("classify", "predict", "{classifier}")

ROWS = [
    # non-finite numbers are refused at once, from the command line or a --config file
    Row("classify-lr-inf", (*C_TRAIN, "--lr", "inf"), words=("--lr", "finite")),
    Row("classify-lr-nan", (*C_TRAIN, "--lr", "nan"), words=("--lr", "finite")),
    Row("lm-lr-inf", (*L_TRAIN, "--lr", "inf"), words=("--lr", "finite")),
    Row("lm-lr-nan", (*L_TRAIN, "--lr", "nan"), words=("--lr", "finite")),
    Row("eps-inf", (*C_TRAIN, "--eps", "inf"), words=("--eps", "finite")),
    Row("clip-inf", (*L_TRAIN, "--clip", "inf"), words=("--clip", "finite")),
    Row("weight-decay-nan", (*C_TRAIN, "--weight-decay", "nan"), words=("--weight-decay",)),
    Row("decay-nan", (*L_TRAIN, "--decay", "nan"), words=("--decay", "finite")),
    Row("dev-fraction-nan", (*C_TRAIN, "--dev-fraction", "nan"), words=("--dev-fraction",)),
    Row("dropout-minus-inf", (*L_TRAIN, "--dropout", "-inf"), words=("--dropout", "finite")),
    Row("config-lr-inf", ("lm", "train", "--config", "c.toml", "-o", "m.pt"),
        files={"c.toml": b"[data]\ndata = 'x'\n[trainer]\nlr = inf\n"}, words=("--lr", "finite")),
    # careless numbers: zero, negative, huge
    Row("classify-epochs-negative", (*C_TRAIN, "--epochs", "-1"), words=("--epochs", "at least 1")),
    Row("classify-epochs-huge", (*C_TRAIN, "--epochs", "100000000000"),
        words=("--epochs", "at most")),
    Row("classify-seed-huge", (*C_TRAIN, "--seed", "100000000000000000000"),
        words=("--seed", "at most 9223372036854775807")),
    Row("classify-seed-negative", (*C_TRAIN, "--seed", "-1"), words=("--seed", "at least 0")),
    Row("classify-dev-seed-negative", (*C_TRAIN, "--dev-seed", "-1"), words=("--dev-seed",)),
    Row("classify-batch-zero", (*C_TRAIN, "--batch-size", "0"), words=("--batch-size",)),
    Row("classify-grad-accum-zero", (*C_TRAIN, "--grad-accum", "0"), words=("--grad-accum",)),
    Row("classify-max-vocab-two", (*C_TRAIN, "--max-vocab", "2"), words=("--max-vocab", "at least 3")),
    Row("classify-min-count-zero", (*C_TRAIN, "--min-count", "0"), words=("--min-count",)),
    Row("classify-dev-fraction-one", (*C_TRAIN, "--dev-fraction", "1"), words=("--dev-fraction",)),
    Row("classify-max-len-negative", (*C_TRAIN, "--max-len", "-1"), words=("--max-len",)),
    Row("classify-embedding-dropout-two", (*C_TRAIN, "--embedding-dropout", "2"),
        words=("--embedding-dropout",)),
    Row("classify-decay-two", (*C_TRAIN, "--decay", "2"), words=("--decay", "at most 1")),
    Row("classify-alpha-negative", (*C_TRAIN, "--alpha", "-0.5"), words=("--alpha",)),
    Row("classify-train-limit-negative", (*C_TRAIN, "--train-limit", "-5"),
        words=("--train-limit",)),
    Row("classify-patience-negative", (*C_TRAIN, "--patience", "-1"), words=("--patience",)),
    Row("lm-bptt-zero", (*L_TRAIN, "--bptt", "0"), words=("--bptt",)),
    Row("lm-bptt-huge", (*L_TRAIN, "--bptt", "100001"), words=("--bptt", "at most")),
    Row("lm-train-eval-batch-zero", (*L_TRAIN, "--eval-batch-size", "0"), words=("--eval-batch-size",)),
    Row("lm-train-eval-batch-huge", (*L_TRAIN, "--eval-batch-size", "100000"),
        words=("validation", "batch size 100000")),
    Row("lm-batch-huge", (*L_TRAIN, "--batch-size", "1000000"), words=("training", "too few")),
    Row("lm-lr-negative", (*L_TRAIN, "--lr", "-1"), words=("--lr", "at least 0")),
    Row("lm-init-range-negative", (*L_TRAIN, "--init-range", "-1"), words=("--init-range",)),
    Row("lm-max-vocab-negative", (*L_TRAIN, "--max-vocab", "-1"), words=("--max-vocab",)),
    Row("lm-sampled-softmax-too-big", (*L_TRAIN, "--sampled-softmax", "100000"),
        words=("sampled_softmax", "vocab_size")),
    Row("lm-tie-weights-sizes-differ", (*L_TRAIN, "--tie-weights", "--embedding-dim", "10",
                                        "--hidden-size", "20"), words=("tie_weights",)),
    Row("classify-max-steps-negative", (*C_TRAIN, "--max-steps", "-1"), words=("--max-steps",)),
    Row("classify-clip-negative", (*C_TRAIN, "--clip", "-1"), words=("--clip", "at least 0")),
    Row("lm-weight-decay-negative", (*L_TRAIN, "--weight-decay", "-0.1"),
        words=("--weight-decay",)),
    Row("lm-eps-negative", (*L_TRAIN, "--eps", "-1e-8"), words=("--eps",)),
    Row("lm-decay-start-negative", (*L_TRAIN, "--decay-start", "-2"), words=("--decay-start",)),
    Row("classify-min-count-above-every-word", (*C_TRAIN, "--min-count", "100000000000"),
        words=("no word", "--min-count 100000000000")),
    Row("lm-min-count-above-every-token", (*L_TRAIN, "--min-count", "100000"),
        words=("no token", "--min-count 100000")),
    Row("classify-phrases-with-a-file", (*C_TRAIN, "--phrases"), words=("--phrases",)),
    Row("classify-bidirectional-tdnn", (*C_TRAIN, "--encoder", "tdnn", "--bidirectional"),
        words=("bidirectional",)),
    Row("classify-flatten-without-max-len", (*C_TRAIN, "--pooling", "flatten"),
        words=("flatten", "max_len")),
    # wrong words for a choice
    Row("classify-encoder-unknown", (*C_TRAIN, "--encoder", "transformer"), words=("--encoder",)),
    Row("classify-pooling-unknown", (*C_TRAIN, "--pooling", "sum"), words=("--pooling",)),
    Row("classify-init-unknown", (*C_TRAIN, "--init", "xavier"), words=("--init",)),
    Row("classify-truncate-unknown", (*C_TRAIN, "--truncate", "middle"), words=("--truncate",)),
    Row("classify-schedule-unknown", (*C_TRAIN, "--schedule", "cosine"), words=("--schedule",)),
    Row("classify-optimizer-unknown", (*C_TRAIN, "--optimizer", "lamb"), words=("--optimizer",)),
    Row("classify-device-unknown", (*C_TRAIN, "--device", "tpu"), words=("--device",)),
    Row("generate-beam-over-100", (*GENERATE, "--strategy", "beam", "--beam", "101"),
        words=("--beam",), code=2),
    Row("lm-level-unknown", (*L_TRAIN, "--level", "byte"), words=("--level",)),
    Row("lm-cell-unknown", (*L_TRAIN, "--cell", "transformer"), words=("--cell",)),
    Row("lm-decoder-dtype-unknown", (*L_TRAIN, "--decoder-dtype", "float16"),
        words=("--decoder-dtype",)),
    # model sizes: each bounded, and their product too, before anything is built
    Row("classify-hidden-zero", (*C_TRAIN, "--hidden-size", "0"), words=("--hidden-size",)),
    Row("classify-hidden-huge", (*C_TRAIN, "--hidden-size", "1000000"),
        words=("--hidden-size", "at most 65536")),
    Row("classify-layers-huge", (*C_TRAIN, "--num-layers", "65"), words=("--num-layers", "at most 64")),
    Row("classify-parameters-huge", (*C_TRAIN, "--hidden-size", "65536", "--embedding-dim",
                                     "65536"), words=("parameters", "2,147,483,648")),
    Row("classify-flatten-huge", (*C_TRAIN, "--pooling", "flatten", "--max-len", "100000000"),
        words=("parameters",)),
    Row("lm-embedding-huge", (*L_TRAIN, "--embedding-dim", "100000"), words=("--embedding-dim",)),
    Row("lm-layers-zero", (*L_TRAIN, "--num-layers", "0"), words=("--num-layers",)),
    Row("lm-parameters-huge", (*L_TRAIN, "--hidden-size", "65536", "--embedding-dim", "65536"),
        words=("parameters", "lower the hidden size")),
    # --threads
    Row("classify-threads-huge", (*C_TRAIN, "--threads", "100000"), words=("--threads", "1024")),
    Row("lm-threads-negative", (*L_TRAIN, "--threads", "-1"), words=("--threads",)),
    Row("lm-eval-threads-huge", (*L_EVAL, "--threads", "100000"), words=("--threads", "1024"),
        code=2),
    Row("lm-eval-threads-zero", (*L_EVAL, "--threads", "0"), words=("--threads",), code=2),
    # missing, empty, folder and unknown --data
    Row("classify-train-missing-data", ("classify", "train", "--data", "nosuch.tsv", "-o", "m.pt"),
        words=("nosuch.tsv", "no such file")),
    Row("classify-eval-missing-data", ("classify", "eval", "{classifier}", "--data", "nosuch.tsv"),
        words=("nosuch.tsv", "no such file")),
    Row("lm-train-missing-data", ("lm", "train", "--data", "nosuch.txt", "-o", "m.pt"),
        words=("nosuch.txt", "no such file")),
    Row("lm-eval-missing-data", ("lm", "eval", "{lm}", "--data", "nosuch.txt"),
        words=("nosuch.txt", "no such file")),
    Row("classify-unknown-name", ("classify", "train", "--data", "imbd", "-o", "m.pt"),
        words=("imbd", "unknown", "no such file")),
    Row("classify-data-empty", ("classify", "train", "--data", "", "-o", "m.pt"),
        words=("--data", "empty")),
    Row("lm-data-empty", ("lm", "train", "--data", "", "-o", "m.pt"), words=("--data", "empty")),
    Row("classify-data-folder", ("classify", "train", "--data", "d", "-o", "m.pt"),
        files={"d/": b""}, words=("d", "folder")),
    Row("classify-eval-data-folder", ("classify", "eval", "{classifier}", "--data", "d"),
        files={"d/": b""}, words=("d", "folder")),
    Row("lm-data-folder-without-splits", ("lm", "train", "--data", "d", "-o", "m.pt"),
        files={"d/": b""}, words=("d", "train.txt")),
    Row("classify-embeddings-missing", (*C_TRAIN, "--embeddings", "nosuch.vec"),
        words=("nosuch.vec", "no such file")),
    Row("classify-embeddings-folder", (*C_TRAIN, "--embeddings", "d"), files={"d/": b""},
        words=("d", "directory")),
    # other commands' options
    Row("classify-eval-split-unknown", (*C_EVAL, "--split", "validation"),
        words=("--split", "train, dev, test")),
    Row("classify-eval-batch-zero", (*C_EVAL, "--batch-size", "0"), words=("--batch-size",),
        code=2),
    Row("classify-eval-ensemble-missing", (*C_EVAL, "--ensemble", "nosuch.pt"),
        words=("nosuch.pt", "no such")),
    Row("classify-eval-device-unknown", (*C_EVAL, "--device", "tpu"), words=("--device",)),
    Row("classify-predict-batch-zero", (*PREDICT, "--batch-size", "0", "x"),
        words=("--batch-size",), code=2),
    Row("classify-predict-ensemble-folder", (*PREDICT, "-e", "d", "x"), files={"d/": b""},
        words=("d", "folder")),
    Row("classify-config-folder", ("classify", "config", "d"), files={"d/": b""},
        words=("d", "folder")),
    Row("lm-config-missing", ("lm", "config", "nosuch.pt"), words=("nosuch.pt", "no such")),
    Row("lm-eval-split-unknown", (*L_EVAL, "--split", "dev"), words=("split",)),
    Row("lm-eval-batch-zero", (*L_EVAL, "--batch-size", "0"), words=("--batch-size",), code=2),
    Row("lm-eval-bptt-zero", (*L_EVAL, "--bptt", "0"), words=("--bptt",), code=2),
    Row("lm-eval-batch-huge", (*L_EVAL, "--batch-size", "1000000000"), words=("too few",)),
    # lm generate: every count bounded, every number finite
    Row("generate-max-len-huge", (*GENERATE, "--max-len", "1000000000"),
        words=("--max-len", "10000"), code=2, timeout=20),
    Row("generate-beam-huge", (*GENERATE, "--strategy", "beam", "--beam", "1000000000"),
        words=("--beam", "100"), code=2, timeout=20),
    Row("generate-n-huge", (*GENERATE, "--strategy", "sample", "-n", "1000000000"),
        words=("-n", "1000"), code=2, timeout=20),
    Row("generate-max-len-zero", (*GENERATE, "--max-len", "0"), words=("--max-len",), code=2),
    Row("generate-seed-huge", (*GENERATE, "--strategy", "sample", "--seed",
                               "100000000000000000000"), words=("--seed",), code=2),
    Row("generate-temperature-inf", (*GENERATE, "--strategy", "sample", "--temperature", "inf"),
        words=("temperature", "finite")),
    Row("generate-temperature-nan", (*GENERATE, "--strategy", "sample", "--temperature", "nan"),
        words=("temperature",)),
    Row("generate-temperature-zero", (*GENERATE, "--strategy", "sample", "--temperature", "0"),
        words=("temperature",)),
    Row("generate-top-p-nan", (*GENERATE, "--strategy", "sample", "--top-p", "nan"),
        words=("top_p",)),
    Row("generate-top-p-two", (*GENERATE, "--strategy", "sample", "--top-p", "2"),
        words=("top_p",)),
    Row("generate-top-k-zero", (*GENERATE, "--strategy", "sample", "--top-k", "0"),
        words=("--top-k",), code=2),
    Row("generate-strategy-unknown", (*GENERATE, "--strategy", "nucleus"), words=("strategy",)),
    Row("generate-greedy-several", (*GENERATE, "-n", "2"), words=("greedy", "one output")),
    Row("generate-beam-narrower-than-n", (*GENERATE, "--strategy", "beam", "--beam", "2", "-n", "3"),
        words=("beam", "3")),
    # bytes that are not UTF-8 on stdin: the line is named
    Row("predict-stdin-not-utf8", PREDICT, stdin=b"a fine film\n\xff\xfe bad\n",
        words=("stdin", "line 2", "UTF-8")),
    Row("score-stdin-not-utf8", ("lm", "score", "{lm}"), stdin=b"the cat\nthe \xc3\x28 cat\n",
        words=("stdin", "line 2", "UTF-8")),
    Row("score-stdin-latin1", ("lm", "score", "{lm}"), stdin="the caf\u00e9\n".encode("latin-1"),
        words=("stdin", "line 1", "UTF-8")),
    Row("predict-stdin-without-line-ends", PREDICT, stdin=bytes(10_000_001),
        words=("stdin", "line 1", "longer than 10,000,000 bytes")),
    Row("score-stdin-without-line-ends", ("lm", "score", "{lm}"), stdin=b"the cat\n" + bytes(10**7 + 1),
        words=("stdin", "line 2", "longer than")),
    # devices where a file is expected
    Row("config-from-dev-zero", ("lm", "train", "--config", "/dev/zero", "-o", "m.pt"),
        words=("/dev/zero", "more than 1,000,000 bytes"), timeout=20),
    Row("model-from-dev-zero", ("lm", "generate", "/dev/zero"),
        words=("/dev/zero", "not a regular file"), timeout=20),
    Row("ensemble-member-dev-null", (*PREDICT, "-e", "/dev/null", "x"),
        words=("/dev/null", "not a regular file")),
    # output places: checked before any work
    Row("lm-output-is-folder", (*L_TRAIN[:-1], "out"), files={"out/": b""}, words=("out", "folder")),
    Row("output-parent-is-file", (*C_TRAIN[:-1], "f/m.pt"), files={"f": b"x"},
        words=("f/m.pt", "not a folder")),
    Row("log-parent-missing", (*C_TRAIN, "--log", "no/such/log.jsonl"),
        words=("no/such/log.jsonl", "does not exist")),
    Row("checkpoint-dir-parent-missing", (*L_TRAIN, "--checkpoint-dir", "no/such/ck"),
        words=("no/such/ck", "does not exist")),
    Row("output-is-the-data", ("classify", "train", "--data", "d.tsv", "-o", "d.tsv"),
        files={"d.tsv": b"0\ta dull film\n1\ta fine film\n" * 10},
        words=("d.tsv", "-o and --data", "same file")),
    Row("output-is-the-data-by-another-name", ("lm", "train", "--data", "t.txt", "-o",
                                               "./sub/../t.txt"),
        files={"t.txt": b"the cat sat\n" * 60, "sub/": b""}, words=("-o and --data",)),
    Row("log-is-the-data", (*C_TRAIN[:2], "--data", "d.tsv", "-o", "m.pt", "--log", "d.tsv"),
        files={"d.tsv": b"0\ta dull film\n1\ta fine film\n" * 10}, words=("--log and --data",)),
    Row("output-is-the-config", ("lm", "train", "--config", "c.toml", "-o", "c.toml"),
        files={"c.toml": b"[data]\ndata = 'nosuch.txt'\n"}, words=("-o and --config",)),
    Row("output-is-the-log", (*C_TRAIN, "--log", "m.pt"), words=("-o and --log",)),
    Row("output-is-the-embeddings", (*C_TRAIN[:-1], "{vectors}", "--embeddings", "{vectors}"),
        words=("-o and --embeddings",)),
    Row("data-name-too-long", ("classify", "train", "--data", "x" * 5000, "-o", "m.pt"),
        words=("file name too long", " ... ")),
    Row("output-name-too-long", (*C_TRAIN[:-1], "m" * 5000), words=("file name too long",)),
    Row("lm-checkpoint-dir-is-file", (*L_TRAIN, "--checkpoint-dir", "f"), files={"f": b"x"},
        words=("f", "is a file", "--checkpoint-dir")),
]


@pytest.mark.parametrize("row", rows_params(ROWS))
def test_row(row: Row, hostile_env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    check_row(row, hostile_env, capsys)


# ------------------------------------------------------------------ places the system refuses

def _cannot_create_in(folder: str) -> bool:
    try:
        with tempfile.NamedTemporaryFile(dir=folder):
            return False
    except OSError:
        return True


SYS_READ_ONLY = os.path.isdir("/sys") and _cannot_create_in("/sys")

REFUSED_PLACES = [
    Row("output-in-sys", (*C_TRAIN[:-1], "/sys/m.pt"), words=("/sys/m.pt", "cannot write")),
    Row("checkpoint-dir-in-sys", (*L_TRAIN, "--checkpoint-dir", "/sys/ck"),
        words=("/sys/ck", "--checkpoint-dir", "cannot write")),
    Row("log-in-sys", (*L_TRAIN, "--log", "/sys/log.jsonl"), words=("/sys/log.jsonl", "--log")),
]


@pytest.mark.skipif(not SYS_READ_ONLY, reason="/sys is missing or lets this user create files")
@pytest.mark.parametrize("row", rows_params(REFUSED_PLACES))
def test_a_place_the_system_refuses_is_found_before_training(row: Row, hostile_env, capsys):
    check_row(row, hostile_env, capsys)


@pytest.mark.parametrize("code, reason", [(errno.EROFS, "read-only file system"),
                                          (errno.EACCES, "permission denied"),
                                          (errno.ENOSPC, "no space left on device")])
def test_an_output_folder_the_system_refuses_is_one_line(hostile_env, capsys, monkeypatch,
                                                         code, reason):
    def refused(*args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code), str(kwargs.get("dir")))

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", refused)
    row = Row(f"refused-{code}", C_TRAIN, words=("m.pt", "cannot write", reason, "-o"))
    check_row(row, hostile_env, capsys)


def test_a_full_disk_at_the_final_save_keeps_the_old_model(hostile_env, capsys, monkeypatch):
    import torch

    def disk_full(obj: object, handle: object, *args: object, **kwargs: object) -> None:
        handle.write(b"PK\x03\x04 half a model")  # type: ignore[attr-defined]
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(torch, "save", disk_full)
    row = Row("disk-full", (*C_TRAIN, "--epochs", "1", "--hidden-size", "4", "--embedding-dim",
                            "4", "--no-progress"), files={"m.pt": b"the old model"},
              words=("m.pt", "no space left"))
    check_row(row, hostile_env, capsys)


def _unreadable(work: Path) -> str:
    """A file this process cannot read: one made so (an ordinary user), or a write-only
    file of /sys (root reads every ordinary file)."""
    if os.geteuid() != 0:
        path = work / "locked.txt"
        path.write_text("0\ta b\n" * 20)
        path.chmod(0)
        return str(path)
    for candidate in ("/sys/bus/pci/rescan", "/sys/kernel/mm/ksm/run"):
        try:
            with open(candidate, "rb"):
                pass
        except PermissionError:
            return candidate
        except OSError:
            continue
    pytest.skip("running as root and no write-only file in /sys to stand for an unreadable one")


@pytest.mark.parametrize("command", [("classify", "train"), ("lm", "train")])
def test_an_unreadable_data_file_is_found_before_training(hostile_env, capsys, command):
    locked = _unreadable(hostile_env["tsv"].parent)
    row = Row("unreadable-data", (*command, "--data", locked, "-o", "m.pt"),
              words=(locked, "cannot read", "permission denied"))
    check_row(row, hostile_env, capsys)


# ------------------------------------------------------------------ what reaches the terminal

def _run_ok(args: tuple[str, ...], env: dict[str, Path], capsys: pytest.CaptureFixture[str],
            stdin: bytes | None = None, files: dict[str, bytes] | None = None) -> tuple[str, str]:
    row = Row("ok", args, files=files or {}, stdin=stdin)
    prepare(row, env)
    code, out, err = run_row(row, env, capsys)
    assert code == 0, err
    return out, err


def _no_control_characters(text: str) -> None:
    """Only printable characters, and the line ends and TABs that seqnlp itself writes."""
    assert all(ch.isprintable() or ch in "\t\n" for ch in text), repr(text)


def test_a_prompt_with_escape_sequences_is_escaped_in_the_note(hostile_env, capsys):
    out, err = _run_ok((*GENERATE, "--prompt", "\x1b[2J hello \x9b31m", "--max-len", "3"),
                       hostile_env, capsys)
    _no_control_characters(out + err)
    assert "\\x1b[2J" in err and "\\x9b31m" in err and err.count("\n") == 1


def test_scored_lines_are_echoed_escaped_on_one_line_each(hostile_env, capsys):
    stdin = b"\xef\xbb\xbfthe cat\x1b]0;owned\x07\tsat\rmat\nthe cat\n"
    out, err = _run_ok(("lm", "score", "{lm}"), hostile_env, capsys, stdin=stdin)
    _no_control_characters(out + err)
    lines = out.splitlines()
    assert len(lines) == 2 and lines[0].count("\t") == 4  # log_prob, tokens, unknown, ppl
    assert lines[0].endswith("the cat\\x1b]0;owned\\x07\\tsat\\rmat")  # the BOM dropped
    assert lines[1].endswith("\tthe cat")


def test_predict_reads_stdin_as_utf8_and_drops_a_bom(hostile_env, capsys):
    out, _ = _run_ok(PREDICT, hostile_env, capsys, stdin=b"\xef\xbb\xbfa fine film\n\nsp\xc3\xa4t\n")
    lines = out.splitlines()  # one output line per input line; the blank one stays blank
    assert len(lines) == 3 and lines[1] == "" and lines[0] and lines[2]


# ------------------------------------------------------------------ memory running out

def test_torch_running_out_of_memory_is_one_line(hostile_env, capsys, monkeypatch):
    from seqnlp.tasks import lm_generation

    def allocate(*args: object, **kwargs: object) -> None:
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: "
                           "can't allocate memory: you tried to allocate 16000000000 bytes.\n"
                           "Error code 12 (Cannot allocate memory)")

    monkeypatch.setattr(lm_generation, "generate_text", allocate)
    check_row(Row("oom", GENERATE, words=("out of memory", "--batch-size")), hostile_env, capsys)


def test_another_runtime_error_is_not_disguised(hostile_env, capsys, monkeypatch):
    from seqnlp.cli.main import main
    from seqnlp.tasks import lm_generation

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in seqnlp")

    monkeypatch.setattr(lm_generation, "generate_text", broken)
    with pytest.raises(RuntimeError, match="a bug in seqnlp"):
        main(["lm", "generate", str(hostile_env["lm"])])


@pytest.mark.parametrize("command", ["classify", "lm"])
def test_cuda_where_there_is_none_is_refused_before_the_data_is_read(hostile_env, capsys,
                                                                     monkeypatch, command):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    row = Row("no-cuda", (command, "train", "--data", "nosuch.txt", "-o", "m.pt", "--device",
                          "cuda"), words=("CUDA", "not available"))  # not "no such file"
    check_row(row, hostile_env, capsys)
