"""systemd's unit-name escaping, so derived unit names match what systemd expects.

systemd refuses a `.mount` unit whose file name is not its `Where=` path escaped as
systemd.unit(5) describes ("String Escaping for Inclusion in Unit Names"); `systemd-escape
--path` implements the same rules, and the tests compare the two.
"""

from __future__ import annotations

import string

_PLAIN = frozenset(string.ascii_letters + string.digits + ":_.")


def escape_path(path: str) -> str:
    """Escape an absolute path as `systemd-escape --path` does: /mnt/lock -> mnt-lock."""
    parts = [part for part in path.split("/") if part and part != "."]
    if not parts:
        return "-"
    escaped = []
    for i, char in enumerate("/".join(parts)):
        if char == "/":
            escaped.append("-")
        elif char in _PLAIN and not (i == 0 and char == "."):
            escaped.append(char)
        else:
            escaped.extend(f"\\x{byte:02x}" for byte in char.encode("utf-8"))
    return "".join(escaped)


def mount_unit_name(where: str) -> str:
    """The file name of the mount unit for mount point `where`."""
    return f"{escape_path(where)}.mount"
