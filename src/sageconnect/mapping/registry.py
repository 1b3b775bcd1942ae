"""Find a mapping by name among the mappings/ folders, and validate it."""

from __future__ import annotations

import tomllib
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

from pydantic import ValidationError

from sageconnect.errors import MappingError, Problem
from sageconnect.mapping.spec import MappingSpec

PROJECT_MAPPINGS = Path(__file__).resolve().parents[3] / "mappings"


def search_path(config_dir: Path, mappings_dir: Path | None) -> list[Path]:
    """Folders looked in: the configured one, beside the config, the project's."""
    folders = [mappings_dir] if mappings_dir else []
    folders += [config_dir / "mappings", PROJECT_MAPPINGS]
    seen: list[Path] = []
    for folder in folders:
        if folder not in seen:
            seen.append(folder)
    return seen


def available(folders: list[Path]) -> dict[str, Path]:
    """Every mapping name found, the first folder winning."""
    found: dict[str, Path] = {}
    for folder in folders:
        for file in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
            found.setdefault(file.stem, file)
    return found


GROUP = "sageconnect.mappers"


def plugins() -> dict[str, EntryPoint]:
    """Code mappers installed by packages, under the entry-point group."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def resolve(
    name: str, folders: list[Path], *, key: str = "mapping"
) -> MappingSpec | EntryPoint:
    """The mapping file or code plug-in named ``name``.

    A name defined both ways, or not at all, is a MappingError that lists what
    exists and where sageconnect looked.
    """
    found = available(folders)
    code = plugins()
    if name in found and name in code:
        raise MappingError(
            [
                Problem(
                    key,
                    repr(name),
                    f"one definition, not two: {found[name]} and the plug-in "
                    f"{code[name].value} (entry point {GROUP})",
                )
            ]
        )
    if name in code:
        return code[name]
    if name not in found:
        names = ", ".join(sorted({*found, *code})) or "none"
        where = ", ".join(str(f) for f in folders)
        raise MappingError(
            [
                Problem(
                    key,
                    repr(name),
                    f"one of: {names} (looked in {where} and entry points {GROUP})",
                )
            ]
        )
    return load_file(found[name])


def load_file(path: Path) -> MappingSpec:
    """Parse one mapping file, reporting every problem with the file's name."""
    file = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(
            [Problem("(file)", file, f"valid TOML: {exc}", file)]
        ) from exc
    try:
        spec = MappingSpec.model_validate(raw)
    except ValidationError as exc:
        raise MappingError(
            [
                Problem(
                    ".".join(str(p) for p in err["loc"]),
                    repr(err.get("input")) if err["type"] != "missing" else "(missing)",
                    err["msg"].removeprefix("Value error, "),
                    file,
                )
                for err in exc.errors()
            ]
        ) from None
    if spec.mapping.name != path.stem:
        raise MappingError(
            [Problem("mapping.name", repr(spec.mapping.name), f"{path.stem!r}", file)]
        )
    return spec
