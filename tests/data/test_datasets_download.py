"""Downloading against a real HTTP server on 127.0.0.1 (no mocks).

The server serves good, corrupted (same size, wrong bytes), truncated (the
connection drops mid-file) and missing (404) files; a tiny four-file dataset
with its own checksum table stands in for MNIST.
"""

import hashlib
import logging
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from xpnet.datasets import (
    FASHION_MNIST,
    KNOWN_DATASETS,
    MNIST,
    DataError,
    DatasetUnavailable,
    FileSpec,
    KnownDataset,
    ensure_downloaded,
    fetch_files,
    load_dataset,
    write_idx,
)
from xpnet.datasets.cache import data_root
from xpnet.datasets.sources import get_known_dataset

FILE_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


class Truncated:
    """Announce the full length, send only the first ``sent`` bytes, then hang up."""

    def __init__(self, data, sent):
        self.data, self.sent = data, sent


class GzipEncoded:
    """Serve the bytes with ``Content-Encoding: gzip``, as some static hosts do for .gz files."""

    def __init__(self, data):
        self.data = data


class FileServer:
    """A real HTTP server on 127.0.0.1 serving ``routes`` (URL path -> content) and logging requests."""

    def __init__(self):
        self.routes = {}
        self.requests = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                content = server.routes.get(self.path)
                if content is None:
                    self.send_error(404)
                    return
                data = content.data if isinstance(content, (Truncated, GzipEncoded)) else content
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                if isinstance(content, GzipEncoded):
                    self.send_header("Content-Encoding", "gzip")
                self.end_headers()
                self.wfile.write(data[: content.sent] if isinstance(content, Truncated) else data)
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, mirror):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{mirror}/"

    def serve(self, mirror, files):
        for name, content in files.items():
            self.routes[f"/{mirror}/{name}"] = content

    def requested(self, mirror=None):
        return [path for path in self.requests if mirror is None or path.startswith(f"/{mirror}/")]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    file_server = FileServer()
    yield file_server
    file_server.close()


@pytest.fixture
def closed_port_url():
    """A URL on 127.0.0.1 where nothing listens (connections are refused)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = httpd.server_address[1]
    httpd.server_close()
    return f"http://127.0.0.1:{port}/mnist/"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny MNIST-like dataset: the gzipped bytes of its four files and its KnownDataset table."""
    rng = np.random.default_rng(0)
    arrays = [
        rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, 6).astype(np.uint8),
        rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, 4).astype(np.uint8),
    ]
    directory = tmp_path_factory.mktemp("tiny-source")
    contents = {name: write_idx(directory / name, array).read_bytes() for name, array in zip(FILE_NAMES, arrays)}
    specs = tuple(FileSpec(name, len(data), hashlib.sha256(data).hexdigest()) for name, data in contents.items())
    dataset = KnownDataset("tiny", "Tiny", specs, mirrors=(), class_names=tuple("abcdefghij"))
    return dataset, contents, arrays


def corrupted(data):
    """Same size, different bytes."""
    damaged = bytearray(data)
    damaged[len(data) // 2] ^= 0x55
    return bytes(damaged)


def directory_listing(directory):
    return sorted(path.name for path in directory.iterdir()) if directory.exists() else []


# -- successful downloads ----------------------------------------------------------------------


def test_download_verify_and_load(server, tiny, tmp_path):
    dataset, contents, arrays = tiny
    server.serve("good", contents)
    data = load_dataset(dataset, data_dir=tmp_path, mirrors=[server.url("good")])
    assert data.name == "tiny" and data.class_names == tuple("abcdefghij")
    np.testing.assert_array_equal(data.x_train, arrays[0].reshape(6, 784))
    np.testing.assert_array_equal(data.y_test, arrays[3])
    assert directory_listing(tmp_path / "tiny") == sorted(FILE_NAMES)  # and no temporary files
    assert data.checksums == {spec.name: spec.sha256 for spec in dataset.files}
    assert sorted(server.requested()) == sorted(f"/good/{name}" for name in FILE_NAMES)


def test_files_already_present_are_not_downloaded_again(server, tiny, tmp_path):
    dataset, contents, _ = tiny
    server.serve("good", contents)
    ensure_downloaded(dataset, tmp_path, mirrors=[server.url("good")])
    server.requests.clear()
    paths = ensure_downloaded(dataset, tmp_path, mirrors=[server.url("good")])
    assert server.requested() == []
    assert list(paths) == list(FILE_NAMES) and all(path.is_file() for path in paths.values())


def test_only_missing_and_corrupt_files_are_fetched(server, tiny, tmp_path, caplog):
    dataset, contents, _ = tiny
    directory = tmp_path / "tiny"
    directory.mkdir()
    (directory / FILE_NAMES[0]).write_bytes(contents[FILE_NAMES[0]])
    (directory / FILE_NAMES[1]).write_bytes(corrupted(contents[FILE_NAMES[1]]))
    (directory / FILE_NAMES[2]).write_bytes(contents[FILE_NAMES[2]])
    server.serve("good", contents)
    with caplog.at_level(logging.WARNING, logger="xpnet.datasets"):
        ensure_downloaded(dataset, tmp_path, mirrors=[server.url("good")])
    assert sorted(server.requested()) == sorted([f"/good/{FILE_NAMES[1]}", f"/good/{FILE_NAMES[3]}"])
    assert (directory / FILE_NAMES[1]).read_bytes() == contents[FILE_NAMES[1]]
    assert "is corrupt" in caplog.text and "downloading it again" in caplog.text


def test_mirror_given_without_trailing_slash(server, tiny, tmp_path):
    dataset, contents, _ = tiny
    server.serve("good", contents)
    ensure_downloaded(dataset, tmp_path, mirrors=server.url("good").rstrip("/"))
    assert len(server.requested("good")) == 4


def test_content_encoding_gzip_does_not_unpack_the_file(server, tiny, tmp_path):
    dataset, contents, _ = tiny
    server.serve("encoded", {name: GzipEncoded(data) for name, data in contents.items()})
    paths = ensure_downloaded(dataset, tmp_path, mirrors=[server.url("encoded")])
    assert paths[FILE_NAMES[0]].read_bytes() == contents[FILE_NAMES[0]]


def test_progress_bar_is_silent_when_not_a_terminal(server, tiny, tmp_path, capsys):
    dataset, contents, _ = tiny
    server.serve("good", contents)
    ensure_downloaded(dataset, tmp_path, mirrors=[server.url("good")], progress=True)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("progress", [True, False])
def test_progress_bar_on_a_terminal_can_be_switched_off(server, tiny, tmp_path, capsys, monkeypatch, progress):
    dataset, contents, _ = tiny
    server.serve("good", contents)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    ensure_downloaded(dataset, tmp_path, mirrors=[server.url("good")], progress=progress)
    out, err = capsys.readouterr()
    assert out == ""
    assert ("train-images-idx3-ubyte.gz" in err) == progress


# -- mirror fallback ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_bad, logged",
    [
        (lambda data: None, "HTTP 404"),
        (corrupted, "checksum mismatch: got SHA-256"),
        (lambda data: Truncated(data, len(data) // 3), "transfer interrupted"),
        (lambda data: data[: len(data) // 3], "truncated download: got"),
        (lambda data: data + b"more", "more than the expected"),
    ],
    ids=["missing", "corrupted", "connection-dropped", "short-file", "too-long"],
)
def test_bad_first_mirror_falls_back_to_second(server, tiny, tmp_path, caplog, make_bad, logged):
    dataset, contents, arrays = tiny
    bad = {name: make_bad(data) for name, data in contents.items()}
    server.serve("bad", {name: content for name, content in bad.items() if content is not None})
    server.serve("good", contents)
    with caplog.at_level(logging.WARNING, logger="xpnet.datasets"):
        data = load_dataset(dataset, data_dir=tmp_path, mirrors=[server.url("bad"), server.url("good")])
    np.testing.assert_array_equal(data.y_train, arrays[1])
    # Each file was asked of the bad mirror first, then of the good one.
    assert server.requested() == [f"/{mirror}/{name}" for name in FILE_NAMES for mirror in ("bad", "good")]
    assert logged in caplog.text and server.url("bad") in caplog.text
    assert directory_listing(tmp_path / "tiny") == sorted(FILE_NAMES)


def test_all_mirrors_bad_leaves_nothing_behind(server, tiny, tmp_path):
    dataset, contents, _ = tiny
    server.serve("corrupt", {name: corrupted(data) for name, data in contents.items()})
    server.serve("cut", {name: Truncated(data, len(data) // 2) for name, data in contents.items()})
    with pytest.raises(DatasetUnavailable) as error:
        ensure_downloaded(dataset, tmp_path, mirrors=[server.url("corrupt"), server.url("cut")])
    assert directory_listing(tmp_path / "tiny") == []  # no partial or temporary files
    message = str(error.value)
    assert "4 of its 4 files are not in" in message and "downloading them failed" in message
    assert f"{server.url('corrupt')}: checksum mismatch" in message
    assert f"{server.url('cut')}: transfer interrupted" in message


def test_failed_download_keeps_the_good_files(server, tiny, tmp_path):
    dataset, contents, _ = tiny
    server.serve("partial", {name: data for name, data in contents.items() if name != FILE_NAMES[2]})
    with pytest.raises(DatasetUnavailable) as error:
        ensure_downloaded(dataset, tmp_path, mirrors=[server.url("partial")])
    assert directory_listing(tmp_path / "tiny") == sorted(set(FILE_NAMES) - {FILE_NAMES[2]})
    assert "1 of its 4 files" in str(error.value)
    assert f"{FILE_NAMES[2]}" in str(error.value) and "(missing)" in str(error.value)


# -- offline -----------------------------------------------------------------------------------


def test_offline_error_message_says_what_to_do(tiny, tmp_path, closed_port_url):
    dataset, _, _ = tiny
    with pytest.raises(DatasetUnavailable) as error:
        load_dataset(dataset, data_dir=tmp_path, mirrors=[closed_port_url])
    message = str(error.value)
    assert isinstance(error.value, DataError)
    assert message.startswith("Tiny is not available")
    assert f"{closed_port_url}: cannot connect (connection refused)" in message
    assert f"put them in {tmp_path / 'tiny'}" in message
    for spec in dataset.files:
        assert spec.name in message and spec.sha256 in message
    assert "--data DIR" in message
    assert directory_listing(tmp_path / "tiny") == []


def test_offline_with_the_real_mnist_table(tmp_path, closed_port_url):
    with pytest.raises(DatasetUnavailable) as error:
        load_dataset("MNIST", data_dir=tmp_path, mirrors=[closed_port_url])
    message = str(error.value)
    assert message.startswith("MNIST is not available")
    for spec in MNIST.files:
        assert f"{spec.name}" in message and spec.sha256 in message and f"{spec.size:,} bytes" in message
    assert str(tmp_path / "mnist") in message


def test_unreachable_mirror_is_not_retried_for_every_file(server, tiny, tmp_path, closed_port_url, caplog):
    dataset, contents, _ = tiny
    server.serve("good", contents)
    with caplog.at_level(logging.WARNING, logger="xpnet.datasets"):
        ensure_downloaded(dataset, tmp_path, mirrors=[closed_port_url, server.url("good")])
    assert caplog.text.count("cannot connect") == 1
    assert len(server.requested("good")) == 4


def test_download_switched_off(server, tiny, tmp_path):
    dataset, contents, _ = tiny
    server.serve("good", contents)
    with pytest.raises(DatasetUnavailable, match="downloading is switched off") as error:
        load_dataset(dataset, data_dir=tmp_path, download=False, mirrors=[server.url("good")])
    assert server.requested() == []
    assert "Download attempts" not in str(error.value)
    assert not (tmp_path / "tiny").exists()


def test_download_switched_off_with_files_present(tiny, tmp_path):
    dataset, contents, _ = tiny
    (tmp_path / "tiny").mkdir()
    for name, data in contents.items():
        (tmp_path / "tiny" / name).write_bytes(data)
    assert load_dataset(dataset, data_dir=tmp_path, download=False).n_test == 4


def test_unwritable_data_directory(server, tiny, tmp_path):
    dataset, contents, _ = tiny
    server.serve("good", contents)
    (tmp_path / "blocker").write_text("a file where the directory should be")
    with pytest.raises(DataError, match="cannot create the data directory .*XPNET_DATA_DIR"):
        ensure_downloaded(dataset, tmp_path / "blocker", mirrors=[server.url("good")])


def test_fetch_files_with_a_custom_table(server, tmp_path):
    data = b"hello, mirror"
    server.serve("m", {"greeting.bin": data})
    spec = FileSpec("greeting.bin", len(data), hashlib.sha256(data).hexdigest())
    paths = fetch_files([spec], tmp_path, [server.url("m")])
    assert paths["greeting.bin"].read_bytes() == data


# -- names and directories ---------------------------------------------------------------------


def test_known_dataset_names():
    assert set(KNOWN_DATASETS) == {"mnist", "fashion-mnist"}
    assert get_known_dataset("MNIST") is MNIST
    for alias in ("fashion-mnist", "Fashion_MNIST", "FASHION-mnist"):
        assert get_known_dataset(alias) is FASHION_MNIST
    assert get_known_dataset("cifar10") is None
    with pytest.raises(DataError, match="unknown dataset 'cifar10'; known datasets: mnist, fashion-mnist"):
        ensure_downloaded("cifar10")


def test_known_tables_are_complete():
    for dataset in KNOWN_DATASETS.values():
        assert tuple(spec.name for spec in dataset.files) == FILE_NAMES
        assert len(dataset.class_names) == 10 and len(dataset.mirrors) >= 2
        assert all(mirror.endswith("/") for mirror in dataset.mirrors)
        assert not any("yann.lecun.com" in mirror for mirror in dataset.mirrors)  # 403 since 2024
        for spec in dataset.files:
            assert len(spec.sha256) == 64 and len(spec.md5) == 32 and spec.size > 0
    assert MNIST.mirrors[0] == "https://storage.googleapis.com/cvdf-datasets/mnist/"
    assert FASHION_MNIST.class_names[0] == "T-shirt/top" and FASHION_MNIST.class_names[9] == "Ankle boot"
    assert MNIST.file("train-images-idx3-ubyte.gz").sha256.startswith("440fcabf")


def test_data_directory_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("XPNET_DATA_DIR", str(tmp_path / "from-env"))
    assert data_root(tmp_path / "explicit") == tmp_path / "explicit"
    assert data_root() == tmp_path / "from-env"
    monkeypatch.delenv("XPNET_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data_root() == tmp_path / "cache" / "xpnet" / "datasets"


def test_environment_variable_directory_is_used(server, tiny, tmp_path, monkeypatch):
    dataset, contents, _ = tiny
    server.serve("good", contents)
    monkeypatch.setenv("XPNET_DATA_DIR", str(tmp_path / "env"))
    load_dataset(dataset, mirrors=[server.url("good")])
    assert directory_listing(tmp_path / "env" / "tiny") == sorted(FILE_NAMES)
