"""The dataset registry and data home: names, files, sha256 checksums, verified download or
import (`fetch`), rehashing (`verify`), a record of what was verified so that a file
changed since is noticed without rehashing (`manifest`), and the paths models read
(`split_files`, which refuses a changed dataset).

    from seqnlp.datasets import fetch, split_files
    fetch("sst", from_dir="../shared/datasets/sst")   # or fetch("sst") to download
    paths = split_files("sst")                         # {"train": ..., "dev": ..., "test": ...}
"""

from seqnlp.datasets.checksum import FileCheck, sha256_file, verify
from seqnlp.datasets.fetch import fetch
from seqnlp.datasets.home import (
    DatasetStatus,
    data_home,
    dataset_dir,
    dataset_status,
    split_files,
)
from seqnlp.datasets.registry import REGISTRY, dataset_names, get_spec, iter_specs
from seqnlp.datasets.spec import DataFile, DatasetSpec, FileForm, Source, SplitSize

__all__ = [
    "REGISTRY",
    "DataFile",
    "DatasetSpec",
    "DatasetStatus",
    "FileCheck",
    "FileForm",
    "Source",
    "SplitSize",
    "data_home",
    "dataset_dir",
    "dataset_names",
    "dataset_status",
    "fetch",
    "get_spec",
    "iter_specs",
    "sha256_file",
    "split_files",
    "verify",
]
