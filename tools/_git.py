"""Reading a public repository's files at a pinned commit with git (``git --git-dir GITDIR ...``): the import tools
copy published numbers from such repositories into ``likelihoods/data``."""

from __future__ import annotations

import subprocess


def git_bytes(gitdir: str, *args: str) -> bytes:
    """The output of ``git --git-dir gitdir args...`` (an error if git fails)."""
    return subprocess.run(["git", "--git-dir", gitdir, *args], check=True, capture_output=True).stdout


def git(gitdir: str, *args: str) -> str:
    """:func:`git_bytes` as text."""
    return git_bytes(gitdir, *args).decode()
