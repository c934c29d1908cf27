"""The index directory: immutable version directories and an atomically replaced ``CURRENT`` pointer.

<index dir>/CURRENT          name of the version readers use
<index dir>/v-<seq>-<time>/  one complete index, never modified once named; seq orders them
<index dir>/.building-<id>/  a version being written; invisible to readers
<index dir>/.lock            held by the one process that writes
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from index._errors import BuildError, IndexCorruptError, IndexMismatchError, IndexNotFoundError

FORMAT_NAME = "quotedesk-index"
# 2: versions named by sequence number, and the manifest checksums its own content.
FORMAT_VERSION = 2
MANIFEST = "manifest.json"
# The manifest holds every other file's checksum, and this one of its own content.
MANIFEST_CHECKSUM = "manifest_sha256"
POINTER = "CURRENT"
LOCK = ".lock"
BUILDING_PREFIX = ".building-"
VERSION_PREFIX = "v-"
# Versions kept besides the current one, so a reader that opened the previous one can finish.
KEEP_PREVIOUS = 1
_HASH_BLOCK = 1 << 20


def resolve_version(index_dir: Path) -> Path:
    """The version directory a reader should open: the one ``CURRENT`` names, or ``index_dir`` itself."""
    if (index_dir / MANIFEST).is_file():
        return index_dir
    pointer = index_dir / POINTER
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexNotFoundError(
            f"no index at {index_dir}; build one with `quotedesk index build --index {index_dir}`"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(
            f"{pointer}: unreadable ({exc}); rebuild with `quotedesk index build`"
        ) from None
    if not name.startswith(VERSION_PREFIX) or "/" in name or not (index_dir / name / MANIFEST).is_file():
        raise IndexCorruptError(
            f"{pointer} names {name!r}, which is not a complete index version; "
            "rebuild with `quotedesk index build`"
        )
    return index_dir / name


def current_version_name(index_dir: Path) -> str | None:
    """The name ``CURRENT`` holds now, cheaply (for noticing a rebuild); None if there is none."""
    try:
        return (index_dir / POINTER).read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def verify_files(version: Path, manifest: dict[str, Any], *, checksums: bool) -> None:
    """Every file the manifest lists exists with its size (and SHA-256); else :class:`IndexCorruptError`."""
    for name, expected in manifest.get("files", {}).items():
        path = version / name
        advice = "rebuild the index with `quotedesk index build`"
        if not path.is_file():
            raise IndexCorruptError(f"{path}: missing; {advice}")
        size = path.stat().st_size
        if size != expected["bytes"]:
            raise IndexCorruptError(
                f"{path}: {size} bytes where the manifest says {expected['bytes']}; {advice}"
            )
        if checksums and sha256_file(path) != expected["sha256"]:
            raise IndexCorruptError(f"{path}: checksum does not match the manifest; {advice}")


def read_manifest(version: Path) -> dict[str, Any]:
    path = version / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexNotFoundError(f"no index at {version}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexCorruptError(f"{path}: unreadable manifest ({exc}); rebuild the index") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise IndexCorruptError(f"{path}: not a quotedesk index manifest; rebuild the index")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"{path}: index format {manifest.get('format_version')} is not the supported {FORMAT_VERSION}; "
            "rebuild it with `quotedesk index build`"
        )
    if manifest.get(MANIFEST_CHECKSUM) != _manifest_digest(manifest):
        raise IndexCorruptError(f"{path}: checksum does not match its content; rebuild the index")
    return manifest


def _manifest_digest(manifest: dict[str, Any]) -> str:
    """SHA-256 of the manifest's canonical JSON, its own checksum left out."""
    content = {k: v for k, v in manifest.items() if k != MANIFEST_CHECKSUM}
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@contextlib.contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """One writer per index directory; a second one fails at once rather than waiting."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / LOCK).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildError(
                f"another build or update is writing {index_dir}; try again when it ends"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def new_building_dir(index_dir: Path) -> Path:
    """A fresh directory for a version being written; stale ones from killed builds are removed first."""
    for stale in index_dir.glob(BUILDING_PREFIX + "*"):
        shutil.rmtree(stale, ignore_errors=True)
    for stale_pointer in index_dir.glob(f"{POINTER}.*.tmp"):
        stale_pointer.unlink(missing_ok=True)
    path = index_dir / f"{BUILDING_PREFIX}{secrets.token_hex(4)}"
    path.mkdir()
    return path


def write_json(path: Path, data: Any) -> None:
    with path.open("w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1)
        handle.write("\n")


def publish(index_dir: Path, building: Path, manifest: dict[str, Any]) -> str:
    """Checksum, sync and name the built version, then point ``CURRENT`` at it in one rename."""
    manifest["files"] = {
        path.name: {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
        for path in sorted(building.iterdir())
        if path.name != MANIFEST
    }
    manifest[MANIFEST_CHECKSUM] = _manifest_digest(manifest)
    write_json(building / MANIFEST, manifest)
    for path in building.iterdir():
        _fsync(path)
    _fsync(building)
    # Writers hold the lock, so the next sequence number is unique; it orders versions even when two
    # builds finish within the same second.
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    name = f"{VERSION_PREFIX}{_next_sequence(index_dir):08d}-{stamp}"
    os.rename(building, index_dir / name)
    _fsync(index_dir)
    pointer_tmp = index_dir / f"{POINTER}.{secrets.token_hex(4)}.tmp"
    pointer_tmp.write_text(name + "\n", encoding="utf-8")
    _fsync(pointer_tmp)
    os.replace(pointer_tmp, index_dir / POINTER)
    _fsync(index_dir)
    _remove_old_versions(index_dir, keep=name)
    return name


def _sequence(name: str) -> int:
    try:
        return int(name[len(VERSION_PREFIX) :].split("-", 1)[0])
    except ValueError:
        return -1


def _next_sequence(index_dir: Path) -> int:
    return 1 + max((_sequence(p.name) for p in index_dir.glob(VERSION_PREFIX + "*")), default=0)


def _remove_old_versions(index_dir: Path, keep: str) -> None:
    versions = sorted(
        (p for p in index_dir.glob(VERSION_PREFIX + "*") if p.is_dir() and p.name != keep),
        key=lambda p: _sequence(p.name),
    )
    for old in versions[: max(0, len(versions) - KEEP_PREVIOUS)]:
        shutil.rmtree(old, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
