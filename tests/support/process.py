"""Tests start project processes with the library's launcher (shared/process.py)."""

from shared.process import REPO_ROOT, ManagedProcess, free_port

__all__ = ["REPO_ROOT", "ManagedProcess", "free_port"]
