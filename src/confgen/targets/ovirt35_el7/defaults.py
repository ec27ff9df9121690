"""Every default that comes from the seed procedure, in one place.

The seed is "Up and Running with oVirt 3.5, Part Two". Each constant names the part of the
procedure it comes from, so a reader can check it against the text.
"""

from __future__ import annotations

from typing import NamedTuple


class StepSpec(NamedTuple):
    """A step of the procedure (see `confgen.planner.StepSpec`). This file imports nothing of
    confgen's, so that bench/floor.py can read it as plain data."""

    key: str
    slug: str
    on: str | tuple[str, ...]
    after: tuple[str, ...]
    title: str


# "Setting up the additional pair of hosts": the release RPM and the package list.
RELEASE_RPM = "http://resources.ovirt.org/pub/yum-repo/ovirt-release35.rpm"
PACKAGES: tuple[str, ...] = (
    "ovirt-hosted-engine-setup",
    "screen",
    "glusterfs-server",
    "nfs-utils",
    # The seed writes `netstat`, which is a command, not a package: on EL7 it ships in net-tools.
    "net-tools",
    "vdsm-gluster",
    "system-storage-manager",
    "ctdb",
    # The seed runs `systemctl enable iptables`; on EL7 iptables.service ships in iptables-services,
    # which a minimal install lacks.
    "iptables-services",
)

# The packages the generated scripts cannot do without, and what each brings: a cluster's own
# `packages.install` must keep them.
REQUIRED_PACKAGES: tuple[tuple[str, str], ...] = (
    ("ovirt-hosted-engine-setup", "hosted-engine"),
    ("glusterfs-server", "glusterd and the gluster command"),
    ("system-storage-manager", "ssm, which makes the brick filesystem"),
    ("ctdb", "ctdbd and the ctdb command"),
    ("iptables-services", "iptables.service, which loads /etc/sysconfig/iptables"),
)

# "Configure your firewall": (service comment, protocol, port or first:last range), in the
# seed's order. The seed spells some rules with `-m multiport --dports a:b`; a single range
# needs no multiport match, so every rule renders as `-m <proto> --dport <port|range>`.
FIREWALL_RULES: tuple[tuple[str, str, str], ...] = (
    ("vdsm", "tcp", "54321"),
    ("SSH", "tcp", "22"),
    ("snmp", "udp", "161"),
    ("libvirt tls", "tcp", "16514"),
    ("guest consoles", "tcp", "5900:6923"),
    ("migration", "tcp", "49152:49216"),
    ("glusterd", "tcp", "24007"),
    ("portmapper", "udp", "111"),
    ("portmapper", "tcp", "38465"),
    ("portmapper", "tcp", "38466"),
    ("nfs", "tcp", "111"),
    ("nfs", "tcp", "38467"),
    ("nfs", "tcp", "2049"),
    ("status", "tcp", "39543"),
    ("status", "tcp", "55863"),
    ("nlockmgr", "tcp", "38468"),
    ("nlockmgr", "udp", "963"),
    ("nlockmgr", "tcp", "965"),
    ("ctdbd", "tcp", "4379"),
    ("Ports for gluster volume bricks (default 100 ports)", "tcp", "24009:24108"),
    ("Ports for gluster volume bricks (default 100 ports)", "tcp", "49152:49251"),
    ("Ports for gluster volume bricks (default 100 ports)", "tcp", "34865:34867"),
)

# "Gluster preparations": `ssm create -p gluster --fstype xfs -n gluster /gluster /dev/vdb`.
BRICK_POOL = "gluster"
BRICK_VOLUME = "gluster"
BRICK_MOUNT_POINT = "/gluster"
BRICK_FSTYPE = "xfs"

# "Gluster preparations" and "CTDB configuration": engine and data exist from part one with a
# single brick on the first host and become replica 3; meta is created as replica 3.
ENGINE_VOLUME = "engine"
META_VOLUME = "meta"
VOLUMES: tuple[tuple[str, bool], ...] = (
    (ENGINE_VOLUME, True),
    ("data", True),
    (META_VOLUME, False),
)
REPLICA = 3

# "CTDB configuration": the meta volume's mount point, the recovery lock and the tunables.
CTDB_MOUNT_POINT = "/mnt/lock"
CTDB_RECOVERY_LOCK_NAME = "reclock"
CTDB_TUNABLES: tuple[tuple[str, int], ...] = (
    ("DeterministicIPs", 1),
    ("RecoveryBanPeriod", 120),
    ("KeepaliveInterval", 5),
    ("KeepaliveLimit", 5),
    ("MonitorInterval", 15),
)

# "Installing the hosted engine": answer `nfs3` for the storage type.
HOSTED_ENGINE_DOMAIN_TYPE = "nfs3"

# The procedure, step by step, in the seed's order. Each step runs on "every" host, the
# "first" (the one part one installed), the "others", or the "second" (the first of the
# others, by ID). The seed's prerequisite, SELinux and host names, comes before anything else.
# The bridge hosted-engine --deploy puts the management NIC's address on (oVirt/ovirt-hosted-
# engine-setup 1.2.6 src/ovirt_hosted_engine_setup/constants.py:831, DEFAULT_BRIDGE_NAME).
MANAGEMENT_BRIDGE = "ovirtmgmt"

# The seed's procedure, after step 00 (confgen.planner.PREFLIGHT_STEP, key "preflight"), which
# checks and changes nothing.
STEPS: tuple[StepSpec, ...] = (
    StepSpec(
        key="base",
        slug="selinux-and-hosts",
        on="every",
        after=("preflight",),
        title=("SELinux permissive; /etc/hosts names every host"),
    ),
    StepSpec(
        key="stop-engine",
        slug="stop-engine",
        on="first",
        after=("base",),
        title=("Global maintenance, shut the engine VM down, stop its services"),
    ),
    StepSpec(
        key="packages",
        slug="install-packages",
        on="every",
        after=("stop-engine",),
        title=(
            "firewalld and NetworkManager off, iptables on, oVirt release and packages installed; "
            "reboots if anything changed"
        ),
    ),
    StepSpec(
        key="firewall",
        slug="firewall",
        on="every",
        after=("packages",),
        title=("Install the iptables rules for oVirt, Gluster and CTDB and reload them"),
    ),
    StepSpec(
        key="bricks",
        slug="brick-storage",
        on="every",
        after=("firewall",),
        title=("Brick filesystem (ssm), brick directories, meta mount point, glusterd, fstab"),
    ),
    StepSpec(
        key="probe",
        slug="peer-probe",
        on="first",
        after=("bricks",),
        title=("Probe every other host into the Gluster trusted pool"),
    ),
    StepSpec(
        key="add-bricks",
        slug="add-bricks",
        on="first",
        after=("probe",),
        title=("Grow the existing volumes to replica sets across the hosts; heal full"),
    ),
    StepSpec(
        key="heal",
        slug="heal-workaround",
        on="second",
        after=("add-bricks",),
        title=("Force replication: mount each grown volume and stat its top-level entries"),
    ),
    StepSpec(
        key="nfsmount",
        slug="nfsmount-conf",
        on="every",
        after=("heal",),
        title=("Disable NFS client locking in /etc/nfsmount.conf (Lock=False)"),
    ),
    StepSpec(
        key="meta",
        slug="new-volumes",
        on="first",
        after=("nfsmount",),
        title=(
            "Create and start the new volumes (the meta volume for CTDB among them); "
            "mount the meta volume"
        ),
    ),
    StepSpec(
        key="ctdb-first",
        slug="ctdb",
        on="first",
        after=("meta",),
        title=("Write the CTDB files on the meta volume, link them into place, start ctdb"),
    ),
    StepSpec(
        key="ctdb-others",
        slug="ctdb",
        on="others",
        after=("ctdb-first",),
        title=("Mount the meta volume, link the CTDB files into place, start ctdb"),
    ),
    StepSpec(
        key="units",
        slug="systemd-units",
        on="every",
        after=("ctdb-others",),
        title=("Install the ctdb service and meta mount units so both come back after a reboot"),
    ),
    StepSpec(
        key="start-engine",
        slug="start-engine",
        on="first",
        after=("units",),
        title=("Start the HA agent and broker, leave maintenance, wait for the engine"),
    ),
)

# "Installing the hosted engine" on each other host, one at a time in host-ID order, each pair
# after the previous one: {host} in a key or title is the host's name.
ADDITIONAL_HOST_STEPS: tuple[StepSpec, ...] = (
    StepSpec(
        key="deploy:{host}",
        slug="hosted-engine-deploy",
        on=(),
        after=(),
        title="hosted-engine --deploy: add {host} as a hosted-engine host",
    ),
    StepSpec(
        key="restore-firewall:{host}",
        slug="restore-firewall",
        on=(),
        after=(),
        title="Put back the iptables rules the installer replaced",
    ),
)

# The tunables ctdb of the seed's era knows (ctdb 2.5 / Samba 4.2, as on CentOS 7): the
# non-obsolete entries of the tunable table in ctdb/server/ctdb_tunables.c. ctdb matches the
# names without regard to case and stores each value as an unsigned 32-bit integer.
CTDB_KNOWN_TUNABLES: tuple[str, ...] = (
    "MaxRedirectCount",
    "SeqnumInterval",
    "ControlTimeout",
    "TraverseTimeout",
    "KeepaliveInterval",
    "KeepaliveLimit",
    "RecoverTimeout",
    "RecoverInterval",
    "ElectionTimeout",
    "TakeoverTimeout",
    "MonitorInterval",
    "TickleUpdateInterval",
    "EventScriptTimeout",
    "EventScriptTimeoutCount",
    "RecoveryGracePeriod",
    "RecoveryBanPeriod",
    "DatabaseHashSize",
    "DatabaseMaxDead",
    "RerecoveryTimeout",
    "EnableBans",
    "DeterministicIPs",
    "LCP2PublicIPs",
    "ReclockPingPeriod",
    "NoIPFailback",
    "DisableIPFailover",
    "VerboseMemoryNames",
    "RecdPingTimeout",
    "RecdFailCount",
    "LogLatencyMs",
    "RecLockLatencyMs",
    "RecoveryDropAllIPs",
    "VerifyRecoveryLock",
    "VacuumInterval",
    "VacuumMaxRunTime",
    "RepackLimit",
    "VacuumLimit",
    "VacuumFastPathCount",
    "MaxQueueDropMsg",
    "UseStatusEvents",
    "AllowUnhealthyDBRead",
    "StatHistoryInterval",
    "DeferredAttachTO",
    "AllowClientDBAttach",
    "RecoverPDBBySeqNum",
    "DeferredRebalanceOnNodeAdd",
    "FetchCollapse",
    "HopcountMakeSticky",
    "StickyDuration",
    "StickyPindown",
    "NoIPTakeover",
    "DBRecordCountWarn",
    "DBRecordSizeWarn",
    "DBSizeWarn",
    "PullDBPreallocation",
    "NoIPHostOnAllDisabled",
    "Samba3AvoidDeadlocks",
    "TDBMutexEnabled",
    "LockProcessesPerDB",
)
