"""Deliveries into a landing folder, as an SFTP drop makes them: a file appears whole or not at all."""

import os
import uuid
from collections.abc import Callable
from pathlib import Path


def write_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    """Let ``write`` fill a hidden temporary name in the same folder, then rename it to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not tempfile.mkstemp: its files are private to the owner, and the renamed delivery must stay readable.
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path
