"""File sources are read whole; a fingerprint says when there is nothing new."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from sageconnect import __version__
from sageconnect.errors import SourceUnavailable
from sageconnect.mapping.spec import MappingSpec


def fingerprint(paths: Iterable[Path], spec: MappingSpec, settings: object) -> str:
    """The files' names and bytes, the mapping, the settings and our version, hashed.

    Any change to one of them means the files must be read again.
    """
    digest = hashlib.sha256(f"{__version__}{settings!r}".encode())
    digest.update(spec.model_dump_json().encode())
    for path in paths:
        digest.update(str(path).encode() + b"\0")
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
        except OSError as exc:
            raise SourceUnavailable(str(path), exc.strerror or str(exc)) from exc
    return digest.hexdigest()
