"""`seqnlp data list|info|get|verify|path`, run through the real entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import run_cli as run
from tests.conftest import shared_file


def test_list_shows_every_dataset_and_what_is_present(
    capsys: pytest.CaptureFixture[str], data_home: Path
) -> None:
    run(capsys, "data", "get", "wordsim", "--from", str(shared_file("wordsim")))
    code, out, _ = run(capsys, "data", "list")
    assert code == 0
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines()[2:]}
    assert rows == {
        "conll2003": "no", "imdb": "no", "multi30k": "no", "pfr1998": "no", "ptb": "no",
        "sighan2005": "no", "sst": "no", "text8": "no", "wikitext-2": "no", "wordsim": "yes",
    }
    assert f"data home: {data_home}" in out


def test_get_sst_then_info_prints_the_tree_counts(
    capsys: pytest.CaptureFixture[str], data_home: Path
) -> None:
    code, out, _ = run(capsys, "data", "get", "sst", "--from", str(shared_file("sst")))
    assert (code, out) == (0, f"sst: 3 files verified in {data_home / 'sst'}\n")
    code, out, _ = run(capsys, "data", "info", "sst")
    assert code == 0
    stats = out.split("statistics (counted by the seqnlp.text readers):\n")[1].splitlines()
    assert [line.split()[:3] for line in stats] == [
        ["train", "8,544", "trees"], ["dev", "1,101", "trees"], ["test", "2,210", "trees"]
    ]
    assert "(expected" not in out and out.count("(ok)") == 6
    assert "78a14ae0dbbc212a43fdb65eab8696ce0ab345370082ff585c7b42f14ab12959" in out


def test_info_of_an_absent_dataset_shows_the_registry_only(
    capsys: pytest.CaptureFixture[str], data_home: Path
) -> None:
    code, out, _ = run(capsys, "data", "info", "text8")
    assert code == 0
    assert "http://mattmahoney.net/dc/text8.zip" in out
    assert "100,000,000 bytes, 17,005,207 words" in out
    assert f"data home: {data_home / 'text8'} (absent)" in out
    assert "statistics" not in out


def test_verify_exits_non_zero_on_a_mismatch(
    capsys: pytest.CaptureFixture[str], data_home: Path
) -> None:
    run(capsys, "data", "get", "wordsim", "--from", str(shared_file("wordsim")))
    code, out, _ = run(capsys, "data", "verify", "wordsim")
    assert (code, out.splitlines()[-1]) == (0, "wordsim: all 3 files ok")
    with open(data_home / "wordsim" / "simlex999.txt", "ab") as f:
        f.write(b"\n")
    code, out, err = run(capsys, "data", "verify", "wordsim")
    assert code == 1
    assert "mismatch  simlex999           simlex999.txt  expected d5e05019" in out
    assert "wordsim: 1 of 3 files failed" in err


def test_verify_of_an_absent_dataset_reports_missing_files(
    capsys: pytest.CaptureFixture[str], data_home: Path
) -> None:
    code, out, _ = run(capsys, "data", "verify", "ptb")
    assert code == 1
    assert [line.split()[0] for line in out.splitlines()] == ["missing"] * 3


def test_path_prints_the_folder(capsys: pytest.CaptureFixture[str], data_home: Path) -> None:
    run(capsys, "data", "get", "sst", "--from", str(shared_file("sst")))
    assert run(capsys, "data", "path", "sst") == (0, f"{data_home / 'sst'}\n", "")


@pytest.mark.parametrize(
    "args,message",
    [
        (("data", "info", "sts"), "seqnlp: error: unknown dataset 'sts' (did you mean 'sst'?); "
                                  "known: conll2003, imdb, multi30k, pfr1998, ptb, sighan2005, "
                                  "sst, text8, wikitext-2, wordsim\n"),
        (("data", "path", "ptb"), "seqnlp: error: dataset 'ptb' is not in the data home "
                                  "({home}/ptb); run `seqnlp data get ptb`\n"),
    ],
)
def test_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], data_home: Path, args: tuple[str, ...], message: str
) -> None:
    assert run(capsys, *args) == (1, "", message.format(home=data_home))


def test_a_bad_import_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], data_home: Path, tmp_path: Path
) -> None:
    (tmp_path / "dev.txt").write_text("(2 x)\n")
    code, out, err = run(capsys, "data", "get", "sst", "--from", str(tmp_path))
    assert (code, out) == (1, "")
    assert err.startswith("seqnlp: error: sst: not found in ") and err.count("\n") == 1


def fetch_and_export(
    capsys: pytest.CaptureFixture[str], name: str, folder: Path
) -> tuple[int, str, Path]:
    """Import `name` from the shared copy, run `seqnlp data text`; return status, stdout, file."""
    run(capsys, "data", "get", name, "--from", str(shared_file(name)))
    out_file = folder / f"{name}.txt"
    code, out, _ = run(capsys, "data", "text", name, "-o", str(out_file))
    return code, out, out_file


def test_text_writes_ptb_train_one_sentence_per_line(
    capsys: pytest.CaptureFixture[str], data_home: Path, tmp_path: Path
) -> None:
    code, out, out_file = fetch_and_export(capsys, "ptb", tmp_path)
    assert code == 0 and "42,068 lines, 887,521 tokens" in out  # Mikolov's PTB train
    lines = out_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 42_068 and lines[0].startswith("aer banknote berlitz")


def test_text_writes_the_imdb_reviews_as_the_word2vec_benchmark_reads_them(
    capsys: pytest.CaptureFixture[str], data_home: Path, tmp_path: Path
) -> None:
    code, out, out_file = fetch_and_export(capsys, "imdb", tmp_path)
    assert code == 0 and "50,000 lines, 11,546,629 tokens" in out  # the benchmark's count
    with out_file.open(encoding="utf-8") as handle:
        first = handle.readline().split()
    assert first[:4] == ["bromwell", "high", "is", "a"] and "<br" not in " ".join(first)


def test_text_of_a_dataset_without_running_text_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "data", "text", "sst", "-o", str(tmp_path / "x.txt"))
    assert code != 0 and "imdb, ptb, wikitext-2" in err
    assert not (tmp_path / "x.txt").exists()


def test_info_and_list_report_a_file_changed_after_the_import(
    capsys: pytest.CaptureFixture[str], data_home: Path
) -> None:
    run(capsys, "data", "get", "wordsim", "--from", str(shared_file("wordsim")))
    path = data_home / "wordsim" / "wordsim353.tsv"
    path.write_bytes(path.read_bytes().replace(b"tiger", b"tigre", 1))  # same size
    code, out, _ = run(capsys, "data", "info", "wordsim")
    assert code == 0 and "statistics" not in out
    assert out.splitlines()[-1] == (
        f"data home: {data_home / 'wordsim'} (changed: wordsim353.tsv was modified after it "
        "was verified; run `seqnlp data verify wordsim`)")
    code, out, _ = run(capsys, "data", "list")
    assert [line.split()[1] for line in out.splitlines() if line.startswith("wordsim")] == [
        "changed"]
    code, out, err = run(capsys, "data", "path", "wordsim")
    assert (code, out) == (1, "") and "seqnlp data verify wordsim" in err


def test_info_of_files_without_a_record_says_to_verify_them(
    capsys: pytest.CaptureFixture[str], data_home: Path
) -> None:
    run(capsys, "data", "get", "wordsim", "--from", str(shared_file("wordsim")))
    (data_home / ".verified" / "wordsim.json").unlink()
    code, out, _ = run(capsys, "data", "info", "wordsim", "--no-stats")
    assert code == 0 and out.splitlines()[-1].endswith(
        "(complete, not verified by this seqnlp: run `seqnlp data verify wordsim`)")
    assert run(capsys, "data", "verify", "wordsim")[0] == 0
    assert run(capsys, "data", "info", "wordsim", "--no-stats")[1].endswith("(complete)\n")
