"""The registry's digests and sizes are those of SOURCE.md and of the real shared files."""

from __future__ import annotations

import hashlib
import lzma
import re
from pathlib import Path

import pytest

from seqnlp.datasets import REGISTRY, DataFile, dataset_names, get_spec
from seqnlp.errors import DatasetError
from tests.conftest import shared_file

ALL_FILES = [(spec.name, f) for spec in REGISTRY.values() for f in spec.files]
SHARED_FILES = [(name, f) for name, f in ALL_FILES if name != "text8"]
HEX64 = re.compile(r"[0-9a-f]{64}")


def _id(item: tuple[str, DataFile]) -> str:
    return f"{item[0]}/{item[1].key}"


def test_registry_has_every_benchmark() -> None:
    assert dataset_names() == [
        "conll2003", "imdb", "multi30k", "pfr1998", "ptb",
        "sighan2005", "sst", "text8", "wikitext-2", "wordsim",
    ]


@pytest.mark.parametrize("item", SHARED_FILES, ids=_id)
def test_stored_file_matches_its_digest_and_size(item: tuple[str, DataFile]) -> None:
    name, data_file = item
    data = shared_file(name, data_file.stored.name).read_bytes()
    assert len(data) == data_file.stored.size
    assert hashlib.sha256(data).hexdigest() == data_file.stored.sha256
    if data_file.raw is not None:
        raw = lzma.decompress(data)
        assert len(raw) == data_file.raw.size
        assert hashlib.sha256(raw).hexdigest() == data_file.raw.sha256


@pytest.mark.parametrize("item", SHARED_FILES, ids=_id)
def test_every_digest_is_the_one_source_md_records(item: tuple[str, DataFile]) -> None:
    name, data_file = item
    source_md = shared_file(name, "SOURCE.md").read_text(encoding="utf-8")
    row = next(line for line in source_md.splitlines()
               if line.startswith(f"| `{data_file.stored.name}` |"))
    digests = HEX64.findall(row)
    assert digests[0] == data_file.stored.sha256
    if data_file.raw is not None:
        assert digests[1] == data_file.raw.sha256
    assert f"{data_file.stored.size:,}" in row


def test_shared_folder_holds_exactly_the_registered_files(shared_datasets: Path) -> None:
    for spec in REGISTRY.values():
        if spec.name == "text8":  # not stored: its folder has only SOURCE.md
            continue
        folder = shared_datasets / spec.name
        stored = {p.name for p in folder.iterdir() if p.name != "SOURCE.md"}
        assert stored == {f.stored.name for f in spec.files}, spec.name


@pytest.mark.parametrize("name", dataset_names())
def test_split_sizes_name_known_splits_and_digests_are_hex(name: str) -> None:
    spec = get_spec(name)
    splits = {s.split for s in spec.splits}
    keys = {f.key for f in spec.files}
    # Each published size belongs to a file key or to a split built from several files
    # (multi30k pairs `train.de` with `train.en`).
    assert all(s in keys or any(k.startswith(f"{s}.") for k in keys) for s in splits)
    for data_file in spec.files:
        for form in data_file.forms:
            assert HEX64.fullmatch(form.sha256) and form.size > 0


@pytest.mark.parametrize("name", dataset_names())
def test_download_urls_pin_a_commit(name: str) -> None:
    for data_file in get_spec(name).files:
        url = data_file.source.url if data_file.source else ""
        if url.startswith("https://raw.githubusercontent.com/"):
            assert re.search(r"/[0-9a-f]{40}/", url), url


def test_datasets_without_a_source_say_how_to_import() -> None:
    for spec in REGISTRY.values():
        if not spec.downloadable:
            assert f"seqnlp data get {spec.name} --from" in spec.notes


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(DatasetError, match=r"unknown dataset 'sts' \(did you mean 'sst'\?\); "
                                           r"known: conll2003, imdb, .*wordsim"):
        get_spec("sts")
