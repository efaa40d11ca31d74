"""Whether a path found under a source folder stays inside it once its symbolic links are followed.

A link planted in a document folder (``notes.md -> /etc/airflow/airflow.cfg``) would otherwise send the
file it points at to the agent's knowledge. Folders and globs the provider expands itself skip such links
(and say so); a path the user names explicitly is theirs to choose.
"""

from __future__ import annotations

import os
from pathlib import Path


class SourceRoot:
    """A local folder whose expansion must not lead out of it.

    :param root: the folder.
    :param follow_symlinks: ``True`` follows every link, wherever it leads (the user's explicit choice).
    """

    def __init__(self, root: str | os.PathLike[str], *, follow_symlinks: bool = False) -> None:
        self.root = Path(root)
        self.real = os.path.realpath(root)
        self.follow_symlinks = follow_symlinks
        #: Paths skipped because they lead outside, as found (not resolved), in the order found.
        self.skipped: list[str] = []

    def admits(self, path: str | os.PathLike[str]) -> bool:
        """Whether ``path`` (under the root) may be read; records it in :attr:`skipped` if not."""
        if self.follow_symlinks:
            return True
        real = os.path.realpath(path)
        if real == self.real or real.startswith(self.real.rstrip(os.sep) + os.sep):
            return True
        self.skipped.append(os.fspath(path))
        return False
