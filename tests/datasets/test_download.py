"""`fetch(name)` without a folder: downloads from a local HTTP server (127.0.0.1, in a
thread), with resume by HTTP Range, checksum refusal and archive extraction."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import lzma
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from seqnlp.datasets import REGISTRY, DatasetSpec, dataset_status, fetch, verify
from seqnlp.datasets.download import download
from seqnlp.datasets.spec import DataFile, FileForm, Source, SplitSize
from seqnlp.errors import ChecksumError, DatasetError
from tests.conftest import shared_file
from tests.datasets.test_fetch_local import listing


class Server(ThreadingHTTPServer):
    """Serves `files` by path; can ignore Range headers or cut a response short."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.cut_after: dict[str, int] = {}  # path -> bytes sent before closing, once
        self.ignore_range = False

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class Handler(BaseHTTPRequestHandler):
    server: Server

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = self.server.files.get(self.path)
        wanted = self.headers.get("Range")
        self.server.requests.append((self.path, wanted))
        if body is None:
            self.send_error(404)
            return
        start = 0
        if wanted and not self.server.ignore_range:
            start = int(wanted.removeprefix("bytes=").removesuffix("-"))
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        cut = self.server.cut_after.pop(self.path, None)
        self.wfile.write(body[start:] if cut is None else body[start:start + cut])

    def log_message(self, *args: object) -> None:
        """Keep the test output quiet."""


@pytest.fixture()
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    httpd = Server()
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture()
def sst_served(server: Server, monkeypatch: pytest.MonkeyPatch) -> Server:
    """The registry's sst entry, its download URLs pointed at the local server."""
    spec = REGISTRY["sst"]
    files = []
    for data_file in spec.files:
        raw_name = data_file.content.name
        stored = shared_file("sst", data_file.stored.name).read_bytes()
        raw = lzma.decompress(stored) if data_file.raw else stored
        server.files[f"/sst/{raw_name}"] = raw
        source = Source(server.url(f"/sst/{raw_name}"))
        files.append(dataclasses.replace(data_file, source=source))
    monkeypatch.setitem(REGISTRY, "sst", dataclasses.replace(spec, files=tuple(files)))
    return server


def test_download_verifies_and_installs_the_raw_files(sst_served: Server, data_home: Path) -> None:
    folder = fetch("sst", progress=False)
    assert sorted(p.name for p in folder.iterdir()) == ["dev.txt", "test.txt", "train.txt"]
    assert all(c.ok for c in verify("sst"))
    assert [r[1] for r in sst_served.requests] == [None, None, None]


def test_download_resumes_a_part_file_with_a_range_request(
    sst_served: Server, data_home: Path
) -> None:
    body = sst_served.files["/sst/train.txt"]
    folder = data_home / "sst"
    folder.mkdir(parents=True)
    (folder / "train.txt.part").write_bytes(body[:1000])
    fetch("sst", progress=False)
    assert ("/sst/train.txt", "bytes=1000-") in sst_served.requests
    assert all(c.ok for c in verify("sst"))
    assert not (folder / "train.txt.part").exists()


def test_an_interrupted_download_keeps_its_part_and_the_next_call_resumes(
    sst_served: Server, data_home: Path
) -> None:
    sst_served.cut_after["/sst/train.txt"] = 700_000
    with pytest.raises(DatasetError, match=r"stopped after 700,000 of 2,160,058 bytes; "
                                           r"run the same command again to resume"):
        fetch("sst", progress=False)
    part = data_home / "sst" / "train.txt.part"
    assert part.stat().st_size == 700_000
    assert dataset_status("sst").state == "absent"
    fetch("sst", progress=False)
    assert ("/sst/train.txt", "bytes=700000-") in sst_served.requests
    assert all(c.ok for c in verify("sst"))


def test_a_server_that_ignores_range_gets_a_fresh_start(
    sst_served: Server, data_home: Path
) -> None:
    sst_served.ignore_range = True
    folder = data_home / "sst"
    folder.mkdir(parents=True)
    (folder / "dev.txt.part").write_bytes(b"garbage that must not stay in front")
    fetch("sst", progress=False)
    assert all(c.ok for c in verify("sst"))


def test_a_whole_part_file_is_finished_by_a_416_answer(tmp_path: Path, server: Server) -> None:
    server.files["/f"] = b"0123456789"
    part = tmp_path / "f.part"
    part.write_bytes(b"0123456789")
    assert download(server.url("/f"), part, progress=False).read_bytes() == b"0123456789"
    assert server.requests == [("/f", "bytes=10-")]


def test_a_wrong_download_raises_and_leaves_the_data_home_unchanged(
    sst_served: Server, data_home: Path
) -> None:
    fetch("wordsim", from_dir=shared_file("wordsim"))
    sst_served.files["/sst/test.txt"] = sst_served.files["/sst/test.txt"].replace(b"(4", b"(0", 1)
    before = listing(data_home)
    with pytest.raises(ChecksumError, match=r"/sst/test\.txt: sha256 mismatch: expected 6e5480"):
        fetch("sst", progress=False)
    assert listing(data_home) == before


def test_http_errors_are_one_line_and_leave_nothing(sst_served: Server, data_home: Path) -> None:
    del sst_served.files["/sst/dev.txt"]
    with pytest.raises(DatasetError, match=r"download of http://127\.0\.0\.1:\d+/sst/dev\.txt "
                                           r"failed: HTTP 404"):
        fetch("sst", progress=False)
    assert listing(data_home) == []


def _zip_spec(server: Server, content: bytes, zip_digest: str | None) -> DatasetSpec:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("corpus", content)
    server.files["/corpus.zip"] = buffer.getvalue()
    form = FileForm("corpus", hashlib.sha256(content).hexdigest(), len(content))
    source = Source(server.url("/corpus.zip"), "zip", "corpus", zip_digest)
    files = (DataFile("train", form, None, source),)
    return DatasetSpec("toy", "a zipped corpus", "none", (), files,
                       (SplitSize("train", len(content), "bytes"),))


def test_a_zip_member_is_extracted_and_the_archive_removed(
    server: Server, data_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _zip_spec(server, b" anarchism originated as a term of abuse" * 100, None)
    monkeypatch.setitem(REGISTRY, "toy", spec)
    folder = fetch("toy", progress=False)
    assert sorted(p.name for p in folder.iterdir()) == ["corpus"]
    assert all(c.ok for c in verify("toy"))


def test_a_zip_with_the_wrong_digest_is_refused(
    server: Server, data_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(REGISTRY, "toy", _zip_spec(server, b"text", "0" * 64))
    with pytest.raises(ChecksumError, match="corpus.zip.part: sha256 mismatch: expected 0000"):
        fetch("toy", progress=False)
    assert listing(data_home) == []


def test_datasets_without_a_source_refuse_to_download(data_home: Path) -> None:
    with pytest.raises(DatasetError, match=r"imdb: no download source .* "
                                           r"`seqnlp data get imdb --from FOLDER`"):
        fetch("imdb")
    assert listing(data_home) == []
