"""The data home: where it is, what counts as present, and `split_files` errors."""

from __future__ import annotations

from pathlib import Path

import pytest

import seqnlp.datasets as datasets
from seqnlp.datasets import REGISTRY, dataset_dir, dataset_status, split_files
from seqnlp.errors import DatasetError


def test_data_home_follows_the_environment(data_home: Path) -> None:
    assert datasets.data_home() == data_home
    assert dataset_dir("sst") == data_home / "sst"


def test_data_home_defaults_to_the_user_cache(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    monkeypatch.delenv("SEQNLP_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert datasets.data_home() == tmp_path / ".cache" / "seqnlp"


def test_split_files_of_an_absent_dataset_says_how_to_get_it(data_home: Path) -> None:
    with pytest.raises(DatasetError, match=r"'ptb' is not in the data home .*"
                                           r"run `seqnlp data get ptb`"):
        split_files("ptb")


def test_split_files_of_an_unknown_dataset_lists_known_names(data_home: Path) -> None:
    with pytest.raises(DatasetError, match="unknown dataset 'nope'.*known: conll2003"):
        split_files("nope")


def test_a_partial_dataset_is_not_complete(data_home: Path) -> None:
    (data_home / "sst").mkdir(parents=True)
    (data_home / "sst" / "dev.txt").write_text("(2 a)\n")
    status = dataset_status("sst")
    assert (status.state, status.present, status.missing) == (
        "partial", ("dev",), ("train", "test")
    )
    with pytest.raises(DatasetError, match=r"incomplete .*missing: train, test.*data get sst"):
        split_files("sst")


def test_raw_and_stored_forms_both_count_as_present(data_home: Path) -> None:
    folder = data_home / "sst"
    folder.mkdir(parents=True)
    sizes = {form.name: form.size for f in REGISTRY["sst"].files for form in f.forms}
    for name in ("train.txt", "dev.txt", "test.txt.xz"):  # test.txt.xz is no accepted form
        (folder / name).write_bytes(b"x" * sizes.get(name, 1))  # sizes right, never verified
    assert dataset_status("sst").missing == ("test",)
    (folder / "test.txt").write_bytes(b"x" * sizes["test.txt"])
    assert split_files("sst") == {
        "train": folder / "train.txt", "dev": folder / "dev.txt", "test": folder / "test.txt"
    }
