"""`fetch(name, from_dir=...)`: verified import from a local folder, all or nothing."""

from __future__ import annotations

import gzip
import lzma
import shutil
from pathlib import Path

import pytest

from seqnlp.datasets import REGISTRY, dataset_names, dataset_status, fetch, split_files, verify
from seqnlp.errors import ChecksumError, DatasetError
from tests.conftest import shared_file

IN_SHARED = [name for name in dataset_names() if name != "text8"]


def copy_folder(source: Path, target: Path) -> Path:
    """Copy the files of `source` into a new, writable folder `target`."""
    target.mkdir()
    for path in source.iterdir():
        shutil.copyfile(path, target / path.name)
    return target


def listing(root: Path) -> list[tuple[str, int]]:
    """Every path under `root` with its size (folders as -1), to compare before/after."""
    if not root.exists():
        return []
    return sorted(
        (str(p.relative_to(root)), p.stat().st_size if p.is_file() else -1)
        for p in root.rglob("*")
    )


@pytest.mark.parametrize("name", IN_SHARED)
def test_get_from_shared_then_verify(name: str, data_home: Path) -> None:
    source = shared_file(name)
    folder = fetch(name, from_dir=source)
    assert folder == data_home / name
    checks = verify(name)
    assert [c.status for c in checks] == ["ok"] * len(checks)
    assert set(split_files(name)) == {c.key for c in checks}
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        p.name for p in source.iterdir() if p.name != "SOURCE.md"
    )


def test_the_parent_folder_is_searched_by_dataset_name(data_home: Path) -> None:
    root = shared_file("sst").parent
    fetch("sst", from_dir=root)
    assert dataset_status("sst").complete


def test_raw_form_is_accepted_and_checked_against_the_raw_digest(
    tmp_path: Path, data_home: Path
) -> None:
    local = tmp_path / "sst"
    local.mkdir()
    raw = lzma.decompress(shared_file("sst", "train.txt.xz").read_bytes())
    (local / "train.txt").write_bytes(raw)
    for name in ("dev.txt", "test.txt"):
        shutil.copyfile(shared_file("sst", name), local / name)
    fetch("sst", from_dir=local)
    assert split_files("sst")["train"] == data_home / "sst" / "train.txt"
    assert all(c.ok for c in verify("sst"))


def test_download_form_gz_is_imported_by_decompressing(tmp_path: Path, data_home: Path) -> None:
    local = copy_folder(shared_file("multi30k"), tmp_path / "m30k")
    raw = lzma.decompress((local / "train.de.xz").read_bytes())
    (local / "train.de.xz").unlink()
    (local / "train.de.gz").write_bytes(gzip.compress(raw))
    fetch("multi30k", from_dir=local)
    assert split_files("multi30k")["train.de"].name == "train.de"
    assert all(c.ok for c in verify("multi30k"))


def test_checksum_mismatch_leaves_the_data_home_unchanged(
    tmp_path: Path, data_home: Path
) -> None:
    fetch("wordsim", from_dir=shared_file("wordsim"))  # the data home is not empty
    local = copy_folder(shared_file("sst"), tmp_path / "sst")
    with open(local / "test.txt", "ab") as f:  # dev.txt and train.txt.xz stay good
        f.write(b"(2 extra)\n")
    before = listing(data_home)
    with pytest.raises(ChecksumError) as caught:
        fetch("sst", from_dir=local)
    assert caught.value.expected == REGISTRY["sst"].file("test").stored.sha256
    assert caught.value.actual != caught.value.expected
    assert "sha256 mismatch" in str(caught.value)
    assert listing(data_home) == before
    assert dataset_status("sst").state == "absent"


def test_failed_reimport_keeps_the_earlier_good_copy(tmp_path: Path, data_home: Path) -> None:
    fetch("sst", from_dir=shared_file("sst"))
    (data_home / "sst" / "dev.txt").unlink()  # one file lost; the others are valid
    local = tmp_path / "sst"
    local.mkdir()
    (local / "dev.txt").write_text("(2 wrong)\n")
    before = listing(data_home)
    with pytest.raises(ChecksumError):
        fetch("sst", from_dir=local)
    assert listing(data_home) == before
    assert dataset_status("sst").missing == ("dev",)


def test_missing_files_are_listed_and_nothing_is_written(tmp_path: Path, data_home: Path) -> None:
    local = tmp_path / "ptb"
    local.mkdir()
    shutil.copyfile(shared_file("ptb", "ptb.valid.txt"), local / "ptb.valid.txt")
    with pytest.raises(DatasetError, match=r"ptb: not found in .*: train \(ptb\.train\.txt\.xz "
                                           r"or ptb\.train\.txt\); test \(ptb\.test\.txt\)"):
        fetch("ptb", from_dir=local)
    assert listing(data_home) == []


def test_from_a_folder_that_does_not_exist(tmp_path: Path, data_home: Path) -> None:
    with pytest.raises(DatasetError, match="no such folder"):
        fetch("ptb", from_dir=tmp_path / "nowhere")


def test_importing_the_stored_form_replaces_a_raw_copy(tmp_path: Path, data_home: Path) -> None:
    folder = data_home / "sst"
    folder.mkdir(parents=True)
    (folder / "train.txt").write_text("stale, unverified\n")
    fetch("sst", from_dir=shared_file("sst"))
    assert not (folder / "train.txt").exists()
    assert all(c.ok for c in verify("sst"))


def test_verify_reports_a_changed_file_as_mismatch(data_home: Path) -> None:
    fetch("wordsim", from_dir=shared_file("wordsim"))
    with open(data_home / "wordsim" / "wordsim353.tsv", "ab") as f:
        f.write(b"x\ty\t1.0\n")
    (data_home / "wordsim" / "simlex999.txt").unlink()
    statuses = {c.key: c.status for c in verify("wordsim")}
    assert statuses == {"analogies": "ok", "wordsim353": "mismatch", "simlex999": "missing"}
