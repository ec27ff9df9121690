"""Paths on the hosts that every target's scripts use, and the kinds of folder in a host's
output tree. A target's own paths are in its folder (`confgen/targets/<name>/paths.py`)."""

ETC_HOSTS = "/etc/hosts"
FSTAB = "/etc/fstab"
SELINUX_CONFIG = "/etc/selinux/config"
SYSTEMD_DIR = "/etc/systemd/system"
# What confgen's scripts record on a host of the steps no program can be asked about.
STATE_DIR = "/var/lib/confgen"


def is_within(path: str, folder: str) -> bool:
    """True when `path` is `folder` or lies below it (both normalised absolute paths)."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


# Kinds of file in a host's folder of the output tree.
FILES = "files"  # installed whole at the path below this folder
# blocks/<path>/<name>: kept as the block <name>, between confgen's markers, in the file <path>.
BLOCKS = "blocks"
HOSTS_BLOCK = "cluster-hosts"  # every host's names
DATA = "data"  # read by the scripts, not installed
SCRIPTS = "scripts"
UNDO = "undo"  # scripts that take back what a failed step left, each named after its step
# At the top of each host's folder: the sha256 of every other file of that folder, as
# `sha256sum` writes them. Every script checks its folder against it before anything else, so
# no script runs beside files of another render (an older copy's renumbered script).
STAMP = "render.sha256"
