"""Paths on the hosts that the seed edits, beyond those every target's scripts use."""

IPTABLES = "/etc/sysconfig/iptables"
NFSMOUNT_CONF = "/etc/nfsmount.conf"
CTDB_SYSCONFIG = "/etc/sysconfig/ctdb"
CTDB_NODES_LINK = "/etc/ctdb/nodes"
CTDB_PUBLIC_ADDRESSES_LINK = "/etc/ctdb/public_addresses"
CTDB_SERVICE = "ctdb.service"
# Waits at boot until Gluster serves the meta volume, before its mount unit mounts it.
META_VOLUME_READY_SERVICE = "meta-volume-ready.service"
HOSTED_ENGINE_CONF = "/etc/ovirt-hosted-engine/hosted-engine.conf"
# The answers the deploy step passes to hosted-engine --config-append, in a host's folder
# (its data/, confgen.paths.DATA).
HOSTED_ENGINE_ANSWERS = "data/hosted-engine-answers.conf"
MOUNT_NAME_BLOCK = "nfs-mount-name"  # the hosted engine's NFS mount name -> the CTDB VIP
