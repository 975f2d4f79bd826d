"""`python -m tools.pulumi_cli`: install the Pulumi CLI of the SDK's version, print its folder.

It goes into .cache/pulumi/<version>/; scripts/deploy-local.sh puts that folder
first on PATH, where the CLI also finds its Python language host.

requirements.txt's `pulumi==X` pin is the one home of the version: the CLI, the
SDK the program runs with and the workflows' `pulumi-version` follow it.

The archive comes from Pulumi's release folder and is checked against the
release's SHA-256 checksums file before anything is unpacked. What the names
and layout rest on, in github.com/pulumi/pulumi:
- .goreleaser.yml: archives named `pulumi-v<version>-<os>-<x64|arm64>.tar.gz`,
  wrapped in a folder `pulumi/` that holds `pulumi` and the language hosts;
- .github/workflows/sign.yml: `sha256sum ./pulumi-*.{tar.gz,zip}` written to
  `pulumi-<version>-checksums.txt` (no `v`), `<sha256>  <archive name>` lines;
- .github/workflows/release.yml (s3-blobs): the release's `pulumi-*` files are
  synced to s3://get.pulumi.com/releases/sdk, the checksums file among them.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from http.client import HTTPException
from pathlib import Path, PurePosixPath

REPO_ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = REPO_ROOT / "requirements.txt"
INSTALL_ROOT = REPO_ROOT / ".cache" / "pulumi"
# Where the release files are fetched from. Set it to a mirror (or, in the
# tests, a local server) that serves the same file names.
BASE_URL_VARIABLE = "PULUMI_RELEASES_URL"
DEFAULT_BASE_URL = "https://get.pulumi.com/releases/sdk"
# Pulumi's names for the machines it builds for (goreleaser's arch, amd64 renamed).
ARCHES = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}
TIMEOUT = 60


class InstallError(Exception):
    pass


def pinned_version(requirements: Path = REQUIREMENTS) -> str:
    """The pulumi SDK version requirements.txt pins."""
    match = re.search(r"^pulumi==(\S+)$", requirements.read_text(), re.MULTILINE)
    if not match:
        raise InstallError(f"{requirements} pins no pulumi version (a `pulumi==X` line)")
    return match.group(1)


def archive_name(version: str, system: str | None = None, machine: str | None = None) -> str:
    system = (system or platform.system()).lower()
    machine = (machine or platform.machine()).lower()
    if system not in ("linux", "darwin") or machine not in ARCHES:
        raise InstallError(f"Pulumi publishes no CLI archive for {system} on {machine}")
    return f"pulumi-v{version}-{system}-{ARCHES[machine]}.tar.gz"


def checksums_name(version: str) -> str:
    return f"pulumi-{version}-checksums.txt"


def installed_version(folder: Path) -> str | None:
    """What `pulumi version` says in ``folder``, or None when there is no working CLI there."""
    binary = folder / "pulumi"
    if not binary.is_file():
        return None
    # No update check: it only adds a network request and a notice to stderr.
    env = {**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"}
    try:
        result = subprocess.run(
            [str(binary), "version"], capture_output=True, text=True, timeout=TIMEOUT, env=env, check=False
        )
    except OSError:
        return None
    return result.stdout.strip().removeprefix("v") if result.returncode == 0 else None


def download(url: str, target: Path) -> None:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response, target.open("wb") as out:
            shutil.copyfileobj(response, out)
    except (urllib.error.URLError, HTTPException, OSError) as error:
        raise InstallError(f"cannot download {url}: {error}") from error


def expected_sha256(checksums: str, archive: str) -> str | None:
    for line in checksums.splitlines():
        fields = line.split()
        # sha256sum marks binary-mode names with a leading `*`.
        if len(fields) == 2 and fields[1].lstrip("*") == archive:
            return fields[0].lower()
    return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def safe_extract(archive: Path, target: Path) -> None:
    """Unpack ``archive`` into ``target``, refusing any member that could land elsewhere."""
    with tarfile.open(archive, "r:gz") as tar:
        members = tar.getmembers()
        for member in members:
            path = PurePosixPath(member.name)
            if path.is_absolute() or ".." in path.parts:
                raise InstallError(f"{archive.name}: refusing member {member.name!r} (outside the archive's folder)")
            # The release holds files and folders only; a link or a device is not Pulumi's.
            if not (member.isfile() or member.isdir()):
                raise InstallError(f"{archive.name}: refusing member {member.name!r} (not a file or folder)")
        if hasattr(tarfile, "data_filter"):
            tar.extractall(target, members=members, filter="data")
        else:  # Python < 3.11.4: the checks above are all there is.
            tar.extractall(target, members=members)


def install(version: str, root: Path = INSTALL_ROOT, base_url: str | None = None) -> Path:
    """The folder holding Pulumi CLI ``version`` under ``root``, installed there first if need be."""
    folder = root / version
    if installed_version(folder) == version:
        return folder
    base_url = (base_url or os.environ.get(BASE_URL_VARIABLE) or DEFAULT_BASE_URL).rstrip("/")
    archive = archive_name(version)
    root.mkdir(parents=True, exist_ok=True)
    # Everything happens in a scratch folder beside the final one, so the last
    # step is a rename on one file system and an interrupted run leaves no
    # half-installed CLI at ``folder``.
    with tempfile.TemporaryDirectory(prefix=f".{version}-", dir=root) as scratch_name:
        scratch = Path(scratch_name)
        sums_url = f"{base_url}/{checksums_name(version)}"
        download(sums_url, scratch / "checksums.txt")
        expected = expected_sha256((scratch / "checksums.txt").read_text(), archive)
        if expected is None:
            raise InstallError(f"{sums_url} lists no sha256 for {archive}; nothing installed")
        print(f"pulumi-cli: downloading {base_url}/{archive}", file=sys.stderr)
        download(f"{base_url}/{archive}", scratch / archive)
        actual = sha256_of(scratch / archive)
        if actual != expected:
            raise InstallError(
                f"{archive}: expected sha256 {expected} (from {sums_url}), got {actual}; nothing installed"
            )
        safe_extract(scratch / archive, scratch / "unpacked")
        staged = scratch / "unpacked" / "pulumi"
        found = installed_version(staged)
        if found != version:
            raise InstallError(f"{archive}: pulumi/pulumi says version {found!r}, not {version}; nothing installed")
        if folder.exists():
            # A broken or foreign install: moved into the scratch folder, which goes with it.
            folder.rename(scratch / "previous")
        staged.rename(folder)
    print(f"pulumi-cli: installed Pulumi CLI v{version} in {folder}", file=sys.stderr)
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else None,
        epilog=f"{BASE_URL_VARIABLE}: where to download from (default {DEFAULT_BASE_URL})",
    )
    parser.add_argument(
        "--root", type=Path, default=INSTALL_ROOT, help=f"install under ROOT/<version> ({INSTALL_ROOT})"
    )
    args = parser.parse_args(argv)
    try:
        print(install(pinned_version(), args.root))
    except InstallError as error:
        print(f"pulumi-cli: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
