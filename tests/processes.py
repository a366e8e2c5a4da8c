"""The processes under a server: its tree from /proc, and which of them are live query workers."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["process_tree", "query_workers"]


def _processes() -> dict[int, tuple[int, str, float]]:
    """pid -> (parent pid, state, CPU seconds) of every process."""
    ticks = os.sysconf("SC_CLK_TCK")
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        table[int(entry.name)] = (int(fields[1]), fields[0], (int(fields[11]) + int(fields[12])) / ticks)
    return table


def process_tree(root: int) -> dict[int, tuple[int, str, float]]:
    """pid -> (parent pid, state, CPU seconds) of ``root`` and every process below it."""
    table = _processes()
    tree, frontier = {}, [root]
    while frontier:
        pid = frontier.pop()
        if pid in table:
            tree[pid] = table[pid]
            frontier += [child for child, (parent, _, _) in table.items() if parent == pid]
    return tree


def query_workers(root: int) -> list[int]:
    """The live query workers of every web process under ``root`` (a killed one is a zombie until reaped)."""
    workers = []
    for pid, (_, state, _) in process_tree(root).items():
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in command and state != "Z":
            workers.append(pid)
    return workers
