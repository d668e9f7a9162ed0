"""The shape of a registry entry: a dataset, its files with their sha256 digests and sizes,
where each file can be downloaded, and the published split sizes (frozen dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    """Where one data file can be downloaded from.

    Attributes:
        url: the address to fetch.
        archive: None when the URL serves the file's raw bytes; "gzip" when it serves
            them gzip-compressed; "zip" when the file is `member` of a zip archive.
        member: the archive member that holds the file (zip only).
        sha256: digest of the download itself, when one is known. The extracted file is
            always checked against the `DataFile` digest in any case.
        size: size in bytes of the download, when known.
    """

    url: str
    archive: str | None = None
    member: str | None = None
    sha256: str | None = None
    size: int | None = None

    def __post_init__(self) -> None:
        if self.archive not in (None, "gzip", "zip"):
            raise ValueError(f"archive must be None, 'gzip' or 'zip', got {self.archive!r}")
        if (self.archive == "zip") != (self.member is not None):
            raise ValueError(f"a zip source needs a member and only it, got {self!r}")

    @property
    def filename(self) -> str:
        """The last component of the URL: the name of the download as a local file."""
        return self.url.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class FileForm:
    """One acceptable on-disk form of a data file: its name, sha256 and size in bytes."""

    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class DataFile:
    """One file of a dataset, as stored in the shared data folder.

    Attributes:
        key: the name `split_files` gives it ("train", "dev", "train.de", ...).
        stored: the form kept in the shared data folder (`train.txt.xz` for files over
            1 MB, otherwise the raw file).
        raw: the uncompressed form (`train.txt`) when `stored` is compressed, else None.
        source: where it can be downloaded, or None when no download gives these exact
            bytes (the file must then be imported with `fetch(name, from_dir=...)`).
    """

    key: str
    stored: FileForm
    raw: FileForm | None = None
    source: Source | None = None

    @property
    def forms(self) -> tuple[FileForm, ...]:
        """Every accepted form, the stored one first."""
        return (self.stored,) if self.raw is None else (self.stored, self.raw)

    @property
    def content(self) -> FileForm:
        """The uncompressed form: what a download produces once decompressed."""
        return self.stored if self.raw is None else self.raw


@dataclass(frozen=True)
class SplitSize:
    """A published size of one split: `count` items of `unit` (e.g. 8544 "trees")."""

    split: str
    count: int
    unit: str


@dataclass(frozen=True)
class DatasetSpec:
    """Everything seqnlp knows about one benchmark data set.

    Attributes:
        name: the registry name (`seqnlp data get NAME`).
        description: one line saying what it is.
        license: the license or terms of use as the source states them, and what to cite.
        urls: canonical addresses: the original project page or archive, then the
            source the stored files were taken from.
        files: the data files.
        splits: published split sizes, checked against the stored files.
        notes: anything a user must know (gaps, substitutes, how to import).
    """

    name: str
    description: str
    license: str
    urls: tuple[str, ...]
    files: tuple[DataFile, ...]
    splits: tuple[SplitSize, ...]
    notes: str = ""

    def __post_init__(self) -> None:
        keys = [f.key for f in self.files]
        if len(set(keys)) != len(keys):
            raise ValueError(f"{self.name}: file keys must be unique, got {keys}")

    @property
    def stored_size(self) -> int:
        """Total bytes of the files in their stored forms."""
        return sum(f.stored.size for f in self.files)

    @property
    def downloadable(self) -> bool:
        """True when every file has a download source."""
        return all(f.source is not None for f in self.files)

    def file(self, key: str) -> DataFile:
        """The file with `key`; KeyError when there is none."""
        for data_file in self.files:
            if data_file.key == key:
                return data_file
        raise KeyError(f"{self.name} has no file {key!r}")


def github_source(repo: str, commit: str, path: str, archive: str | None = None) -> Source:
    """A file of a GitHub repository at a fixed commit."""
    return Source(f"https://raw.githubusercontent.com/{repo}/{commit}/{path}", archive)


def plain_file(key: str, name: str, sha256: str, size: int, source: Source | None) -> DataFile:
    """A file stored uncompressed."""
    return DataFile(key, FileForm(name, sha256, size), None, source)


def xz_file(
    key: str, name: str, sha256: str, size: int,
    raw_sha256: str, raw_size: int, source: Source | None,
) -> DataFile:
    """A file stored as `NAME.xz` whose raw form `NAME` has its own digest."""
    raw = FileForm(name.removesuffix(".xz"), raw_sha256, raw_size)
    return DataFile(key, FileForm(name, sha256, size), raw, source)


def split_sizes(unit: str, *counts: tuple[str, int]) -> tuple[SplitSize, ...]:
    """`SplitSize`s of one unit for several splits: `("train", 8544), ...`."""
    return tuple(SplitSize(split, count, unit) for split, count in counts)
