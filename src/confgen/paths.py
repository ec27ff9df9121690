"""Paths on the hosts that the seed edits, and the kinds of folder in a host's output tree."""

# Where the seed puts the files it edits on a host.
IPTABLES = "/etc/sysconfig/iptables"
NFSMOUNT_CONF = "/etc/nfsmount.conf"
ETC_HOSTS = "/etc/hosts"
FSTAB = "/etc/fstab"
SELINUX_CONFIG = "/etc/selinux/config"
CTDB_SYSCONFIG = "/etc/sysconfig/ctdb"
CTDB_NODES_LINK = "/etc/ctdb/nodes"
CTDB_PUBLIC_ADDRESSES_LINK = "/etc/ctdb/public_addresses"
SYSTEMD_DIR = "/etc/systemd/system"
CTDB_SERVICE = "ctdb.service"
# Waits at boot until Gluster serves the meta volume, before its mount unit mounts it.
META_VOLUME_READY_SERVICE = "meta-volume-ready.service"
HOSTED_ENGINE_CONF = "/etc/ovirt-hosted-engine/hosted-engine.conf"
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
MOUNT_NAME_BLOCK = "nfs-mount-name"  # the hosted engine's NFS mount name -> the CTDB VIP
DATA = "data"  # read by the scripts, not installed
SCRIPTS = "scripts"
