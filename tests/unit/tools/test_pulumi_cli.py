"""The Pulumi CLI installer against a local HTTP server that serves release files as Pulumi names them."""

from __future__ import annotations

import hashlib
import io
import re
import stat
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tools.pulumi_cli import (
    BASE_URL_VARIABLE,
    InstallError,
    archive_name,
    checksums_name,
    install,
    main,
    pinned_version,
)

VERSION = "3.999.1"
# Stands in for the CLI: answers `version` as the real one does.
FAKE_CLI = f'#!/bin/sh\n[ "$1" = version ] && echo v{VERSION}\n'


def tar_gz(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def publish(folder: Path, archive: bytes, listed_sha256: str | None = None, listed_name: str | None = None) -> None:
    """Put ``archive`` and a checksums file in ``folder``, under the release's names."""
    name = archive_name(VERSION)
    (folder / name).write_bytes(archive)
    sha256 = listed_sha256 or hashlib.sha256(archive).hexdigest()
    other = "0" * 64
    (folder / checksums_name(VERSION)).write_text(
        f"{other}  pulumi-v{VERSION}-windows-x64.zip\n{sha256}  {listed_name or name}\n"
    )


@pytest.fixture
def releases(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """(folder served over HTTP, its URL)."""
    folder = tmp_path / "releases"
    folder.mkdir()

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, format, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "pulumi"


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_installs_the_verified_archive_and_the_cli_runs(releases, root):
    folder, url = releases
    publish(folder, tar_gz({"pulumi/pulumi": FAKE_CLI, "pulumi/pulumi-language-python": "#!/bin/sh\n"}))
    installed = install(VERSION, root, url)
    assert installed == root / VERSION
    assert sorted(p.name for p in installed.iterdir()) == ["pulumi", "pulumi-language-python"]
    assert installed.joinpath("pulumi").stat().st_mode & stat.S_IXUSR
    run = subprocess.run([installed / "pulumi", "version"], capture_output=True, text=True, check=True)
    assert run.stdout == f"v{VERSION}\n"
    assert leftovers(root) == [VERSION]


def test_a_working_install_is_left_alone(releases, root):
    folder, url = releases
    publish(folder, tar_gz({"pulumi/pulumi": FAKE_CLI}))
    install(VERSION, root, url)
    marker = root / VERSION / "untouched"
    marker.touch()
    for file in folder.iterdir():
        file.unlink()
    assert install(VERSION, root, url) == root / VERSION
    assert marker.exists()


def test_a_broken_install_is_replaced(releases, root):
    folder, url = releases
    publish(folder, tar_gz({"pulumi/pulumi": FAKE_CLI}))
    (root / VERSION).mkdir(parents=True)
    (root / VERSION / "pulumi").write_text("#!/bin/sh\nexit 3\n")
    install(VERSION, root, url)
    assert subprocess.run([root / VERSION / "pulumi", "version"], capture_output=True, text=True).stdout.strip() == (
        f"v{VERSION}"
    )
    assert leftovers(root) == [VERSION]


def test_a_wrong_checksum_stops_it_before_anything_is_unpacked(releases, root):
    folder, url = releases
    archive = tar_gz({"pulumi/pulumi": FAKE_CLI})
    publish(folder, archive, listed_sha256="ab" * 32)
    with pytest.raises(InstallError) as error:
        install(VERSION, root, url)
    message = str(error.value)
    assert archive_name(VERSION) in message
    assert "ab" * 32 in message
    assert hashlib.sha256(archive).hexdigest() in message
    assert not (root / VERSION).exists()
    assert leftovers(root) == []


def test_a_checksums_file_without_the_archive_stops_it(releases, root):
    folder, url = releases
    publish(folder, tar_gz({"pulumi/pulumi": FAKE_CLI}), listed_name=f"pulumi-v{VERSION}-darwin-x64.tar.gz")
    with pytest.raises(InstallError, match=re.escape(f"lists no sha256 for {archive_name(VERSION)}")):
        install(VERSION, root, url)
    assert leftovers(root) == []


def test_a_missing_checksums_file_stops_it(releases, root):
    folder, url = releases
    publish(folder, tar_gz({"pulumi/pulumi": FAKE_CLI}))
    (folder / checksums_name(VERSION)).unlink()
    with pytest.raises(InstallError, match=re.escape(f"cannot download {url}/{checksums_name(VERSION)}")):
        install(VERSION, root, url)
    assert leftovers(root) == []


@pytest.mark.parametrize("name", ["pulumi/../../escaped", "/tmp/escaped", "../escaped"])
def test_a_member_outside_the_archive_folder_is_refused(releases, root, tmp_path, name):
    folder, url = releases
    publish(folder, tar_gz({"pulumi/pulumi": FAKE_CLI, name: "#!/bin/sh\n"}))
    with pytest.raises(InstallError, match="refusing member"):
        install(VERSION, root, url)
    assert leftovers(root) == []
    assert not list(tmp_path.rglob("escaped"))


def test_a_link_in_the_archive_is_refused(releases, root):
    folder, url = releases
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        link = tarfile.TarInfo("pulumi/pulumi")
        link.type, link.linkname = tarfile.SYMTYPE, "/bin/sh"
        tar.addfile(link)
    publish(folder, archive.getvalue())
    with pytest.raises(InstallError, match="not a file or folder"):
        install(VERSION, root, url)
    assert leftovers(root) == []


def test_an_archive_whose_cli_is_another_version_is_not_installed(releases, root):
    folder, url = releases
    publish(folder, tar_gz({"pulumi/pulumi": FAKE_CLI.replace(VERSION, "3.0.0")}))
    with pytest.raises(InstallError, match=re.escape("says version '3.0.0'")):
        install(VERSION, root, url)
    assert leftovers(root) == []


def test_main_installs_the_pinned_version_from_the_configured_url(releases, root, monkeypatch, capsys):
    folder, url = releases
    monkeypatch.setattr("tools.pulumi_cli.pinned_version", lambda: VERSION)
    monkeypatch.setenv(BASE_URL_VARIABLE, url)
    publish(folder, tar_gz({"pulumi/pulumi": FAKE_CLI}))
    assert main(["--root", str(root)]) == 0
    assert capsys.readouterr().out == f"{root / VERSION}\n"


def test_main_reports_a_failure_in_one_line(releases, root, monkeypatch, capsys):
    _, url = releases
    monkeypatch.setattr("tools.pulumi_cli.pinned_version", lambda: VERSION)
    monkeypatch.setenv(BASE_URL_VARIABLE, url)
    assert main(["--root", str(root)]) == 1
    assert capsys.readouterr().err.startswith("pulumi-cli: cannot download ")


def test_the_pin_is_read_from_requirements_txt(tmp_path):
    assert pinned_version().count(".") == 2
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("pulumi-docker==5.2.0\npulumi==3.1.2\n")
    assert pinned_version(requirements) == "3.1.2"
    requirements.write_text("pulumi-docker==5.2.0\n")
    with pytest.raises(InstallError, match="pins no pulumi version"):
        pinned_version(requirements)


@pytest.mark.parametrize(
    ("system", "machine", "name"),
    [
        ("Linux", "x86_64", f"pulumi-v{VERSION}-linux-x64.tar.gz"),
        ("Linux", "aarch64", f"pulumi-v{VERSION}-linux-arm64.tar.gz"),
        ("Darwin", "arm64", f"pulumi-v{VERSION}-darwin-arm64.tar.gz"),
    ],
)
def test_archive_names_follow_the_release(system, machine, name):
    assert archive_name(VERSION, system, machine) == name
    assert checksums_name(VERSION) == f"pulumi-{VERSION}-checksums.txt"


def test_an_unknown_machine_is_an_error():
    with pytest.raises(InstallError, match="no CLI archive for linux on riscv64"):
        archive_name(VERSION, "Linux", "riscv64")
