"""The record of verified files: a file changed after its import (a byte, its size, its
time) makes the dataset "changed" and unusable until `verify` finds it intact or `fetch`
replaces it; a data home without a record is complete but unverified."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from seqnlp.datasets import dataset_status, fetch, split_files, verify
from seqnlp.datasets.manifest import manifest_path
from seqnlp.errors import DatasetError
from tests.conftest import shared_file


@pytest.fixture()
def wordsim(data_home: Path) -> Path:
    """wordsim imported into the data home; its folder."""
    return fetch("wordsim", from_dir=shared_file("wordsim"))


def flip_a_byte(path: Path, at: int = 100) -> None:
    """Change one byte in place: same size, a new modification time."""
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    info = path.stat()
    path.write_bytes(bytes(data))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))


def test_an_import_records_every_file_with_its_size_time_and_digest(
        wordsim: Path, data_home: Path) -> None:
    record = json.loads(manifest_path(data_home, "wordsim").read_text())
    assert record["format"] == 1
    assert sorted(record["files"]) == sorted(p.name for p in wordsim.iterdir())
    simlex = record["files"]["simlex999.txt"]
    info = (wordsim / "simlex999.txt").stat()
    assert (simlex["size"], simlex["mtime_ns"]) == (info.st_size, info.st_mtime_ns)
    assert simlex["sha256"].startswith("d5e05019")
    status = dataset_status("wordsim")
    assert (status.state, status.verified, status.changed) == ("complete", True, ())


def test_a_byte_changed_after_the_import_makes_the_dataset_unusable(wordsim: Path) -> None:
    flip_a_byte(wordsim / "simlex999.txt")
    status = dataset_status("wordsim")
    assert status.state == "changed" and not status.complete
    assert status.changed == ("simlex999.txt was modified after it was verified",)
    with pytest.raises(DatasetError, match=r"dataset 'wordsim' has changed in .*simlex999.txt "
                                           r"was modified.*`seqnlp data verify wordsim`.*"
                                           r"`seqnlp data get wordsim`"):
        split_files("wordsim")


def test_a_verify_that_finds_a_mismatch_leaves_the_record_as_it_was(
        wordsim: Path, data_home: Path) -> None:
    record = manifest_path(data_home, "wordsim")
    before = (record.read_bytes(), record.stat().st_mtime_ns)
    flip_a_byte(wordsim / "simlex999.txt")
    assert [c.status for c in verify("wordsim")].count("mismatch") == 1
    assert (record.read_bytes(), record.stat().st_mtime_ns) == before
    assert dataset_status("wordsim").state == "changed"


def test_a_verify_that_finds_every_file_intact_records_the_new_times(wordsim: Path) -> None:
    os.utime(wordsim / "wordsim353.tsv")  # touched, as a copy without -p would
    assert dataset_status("wordsim").state == "changed"
    assert all(c.ok for c in verify("wordsim"))
    assert dataset_status("wordsim").state == "complete"
    assert set(split_files("wordsim")) == {"wordsim353", "simlex999", "analogies"}


def test_fetch_replaces_a_damaged_file_and_records_it_again(wordsim: Path) -> None:
    flip_a_byte(wordsim / "simlex999.txt")
    fetch("wordsim", from_dir=shared_file("wordsim"))
    assert dataset_status("wordsim").state == "complete"
    assert all(c.ok for c in verify("wordsim"))


def test_a_file_of_the_wrong_size_is_changed_even_without_a_record(
        wordsim: Path, data_home: Path) -> None:
    manifest_path(data_home, "wordsim").unlink()
    with open(wordsim / "wordsim353.tsv", "ab") as handle:
        handle.write(b"extra\t1\t2\n")
    status = dataset_status("wordsim")
    assert status.changed == ("wordsim353.tsv has 7,196 bytes, not 7,186",)
    with pytest.raises(DatasetError, match="wordsim353.tsv has 7,196 bytes, not 7,186"):
        split_files("wordsim")


def test_without_a_record_the_dataset_is_complete_but_unverified(
        wordsim: Path, data_home: Path) -> None:
    manifest_path(data_home, "wordsim").unlink()
    status = dataset_status("wordsim")
    assert (status.state, status.verified) == ("complete", False)
    assert set(split_files("wordsim")) == {"wordsim353", "simlex999", "analogies"}
    verify("wordsim")
    assert dataset_status("wordsim").verified


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"format": 99, "files": {}}',
                                     b'["a list"]'])
def test_an_unreadable_record_counts_as_none(
        wordsim: Path, data_home: Path, content: bytes) -> None:
    manifest_path(data_home, "wordsim").write_bytes(content)
    status = dataset_status("wordsim")
    assert (status.state, status.verified) == ("complete", False)


def test_a_file_missing_from_the_record_counts_as_changed(wordsim: Path, data_home: Path) -> None:
    path = manifest_path(data_home, "wordsim")
    record = json.loads(path.read_text())
    del record["files"]["simlex999.txt"]
    path.write_text(json.dumps(record))
    assert dataset_status("wordsim").changed == ("simlex999.txt was never verified",)
