"""Every default of the target ovirt45-el9, each with where it comes from.

oVirt 4.5 on EL9 (CentOS Stream 9, a RHEL 9 rebuild, or oVirt Node) with GlusterFS 10 from the
CentOS Storage SIG. The hosted engine lives on a replica-3 GlusterFS storage domain, as oVirt
has had it since 3.6: no NFS share, no CTDB, no virtual IP. Sources are named by repository and
path; the research behind them is in the project's shared research notes
(modern-target-and-day2.md).
"""

from __future__ import annotations

from confgen.planner import PREFLIGHT_STEP, StepSpec

# The release packages that add the repositories: oVirt 4.5 is shipped through CentOS's
# repositories ("dnf install -y centos-release-ovirt45", oVirt/ovirt-site
# source/download/install_on_rhel.md), GlusterFS 10 through the Storage SIG's
# ("dnf install centos-release-gluster10", gluster/glusterdocs
# docs/Install-Guide/Community-Packages.md).
RELEASE_PACKAGES: tuple[str, ...] = ("centos-release-ovirt45", "centos-release-gluster10")

# What a RHEL 9 rebuild needs before it can install those: CentOS Stream's extras-common
# repository and the stream variable (install_on_rhel.md, "Common to RHEL 9.0 and derivatives").
EXTRAS_COMMON_REPO = "/etc/yum.repos.d/CentOS-Stream-Extras-common.repo"
# What RHEL 9 itself (not its rebuilds) enables first: "The following repositories need to be
# enabled for RHEL 9.x only" (oVirt/ovirt-site 28a2498 source/download/install_on_rhel.md:14-20):
# CodeReady Builder and Resilient Storage hold packages oVirt 4.5 needs (ovirt-release's
# repoclosure-45.yml checks EL9 against crb and resilientstorage).
RHEL_REPOSITORIES: tuple[str, ...] = (
    "rhel-9-for-x86_64-baseos-rpms",
    "rhel-9-for-x86_64-appstream-rpms",
    "codeready-builder-for-rhel-9-x86_64-rpms",
    "rhel-9-for-x86_64-resilientstorage-rpms",
)
STREAM_VAR = "/etc/yum/vars/stream"
STREAM = "9-stream"

# The packages every host gets. vdsm-gluster brings glusterfs-server's companions and the
# gluster management of vdsm (oVirt/vdsm vdsm.spec.in, %package gluster); tmux is what oVirt's
# documentation runs hosted-engine --deploy in
# (oVirt/ovirt-site proc-Deploying_the_Self-Hosted_Engine_Using_the_CLI.adoc).
# policycoreutils-python-utils holds semanage, which labels the bricks: nothing of oVirt
# requires it (vdsm.spec.in at v4.50.7 requires python3-policycoreutils only), and a minimal
# EL9 install lacks it. chrony keeps the hosts' clocks together: gluster-ansible's HCI role
# starts and enables chronyd before anything else (gluster/gluster-ansible-features dcd52e2
# roles/gluster_hci/tasks/prerequisites.yml:16-24).
PACKAGES: tuple[str, ...] = (
    "ovirt-hosted-engine-setup",
    "glusterfs-server",
    "vdsm-gluster",
    "policycoreutils-python-utils",
    "chrony",
    "tmux",
)

# The packages the generated scripts cannot do without, and what each brings.
REQUIRED_PACKAGES: tuple[tuple[str, str], ...] = (
    ("ovirt-hosted-engine-setup", "hosted-engine"),
    ("glusterfs-server", "glusterd, the gluster command and firewalld's glusterfs service"),
    ("policycoreutils-python-utils", "semanage, which labels the bricks for SELinux"),
    ("chrony", "chronyd, which keeps the hosts' clocks together"),
)

# firewalld services every host opens (issue: vdsm, libvirt-tls, snmp, ovirt-imageio,
# ovirt-vmconsole, glusterfs, cockpit, ssh). All but glusterfs ship with firewalld
# (firewalld/firewalld config/services/*.xml); glusterfs ships with glusterfs-server
# (gluster/glusterfs extras/firewalld/glusterfs.xml), so the firewall step comes after the
# packages. The engine's host deploy opens the same common set (ovirt-engine
# ovirt-host-deploy-firewalld/vars/firewalld_rules_common.yml).
FIREWALL_SERVICES: tuple[str, ...] = (
    "vdsm",
    "libvirt-tls",
    "snmp",
    "ovirt-imageio",
    "ovirt-vmconsole",
    "glusterfs",
    "cockpit",
    "ssh",
)
# The zone that holds those services when they are opened to the cluster's networks only.
FIREWALL_ZONE = "confgen"
# What the engine's host deploy opens on a host of a cluster with both the virt and the
# Gluster service, always in firewalld's default zone (it names no zone): oVirt/ovirt-engine
# ovirt-engine-4.5.6 packaging/ansible-runner-service-project/project/roles/
# ovirt-host-deploy-firewalld, vars/firewalld_rules_common.yml:1-8 (cockpit .. ipsec),
# firewalld_rules_virt.yml:1-7 (ovirt-vmconsole, 6081/udp for OVN tunnels) and
# firewalld_rules_gluster.yml:1-17 (ctdb .. samba, 8080/tcp, 963/udp, 965/tcp); tasks/main.yml
# adds the SSH port. Traffic from a source bound to another zone never reaches the default
# zone (AllowZoneDrifting is gone from firewalld 1.x), so the cluster's own zone holds them
# all as well, or OVN tunnels and the rest would be dropped between the hosts.
ENGINE_HOST_DEPLOY_SERVICES: tuple[str, ...] = (
    "cockpit",
    "libvirt-tls",
    "snmp",
    "vdsm",
    "ovirt-imageio",
    "ipsec",
    "ovirt-vmconsole",
    "ctdb",
    "glusterfs",
    "nfs",
    "nrpe",
    "ovirt-storageconsole",
    "rpc-bind",
    "samba",
)
ENGINE_HOST_DEPLOY_PORTS: tuple[str, ...] = ("6081/udp", "8080/tcp", "963/udp", "965/tcp")

# The brick storage, as gluster-ansible lays out a hyperconverged cluster
# (gluster/gluster-ansible v1.0.5-28, playbooks/hc-ansible-deployment/gluster_inventory.yml:41-102;
# gluster/gluster-ansible-infra v1.0.4-22-2-g5d4b3a7, roles/backend_setup/tasks): one volume
# group on the brick device; the hosted engine's brick on a thick logical volume of its own
# ("Only the engine brick needs to be thickly provisioned", gluster_inventory.yml:87-92); every
# other volume's brick on a thin logical volume in one thin pool that takes the rest of the
# group; each logical volume its own XFS filesystem, mounted by UUID at
# <mount_point>/<volume>. A data volume that fills its filesystem (or the pool) leaves the
# engine's brick alone: with one filesystem for every brick, it would fill the engine's too.
BRICK_VOLUME_GROUP = "gluster_vg"
BRICK_THIN_POOL = "gluster_thinpool"  # gluster_inventory.yml:66, gluster_thinpool_<disk>
BRICK_LV_PREFIX = "gluster_lv_"  # gluster_inventory.yml:49-58, gluster_lv_<volume>
BRICK_MOUNT_POINT = "/gluster_bricks"
# The engine's thick logical volume: "Engine brick requires 100GB of disk space"
# (gluster_inventory.yml:87-92, size: 100G; thick_lv_create.yml:119, lvcreate -L).
ENGINE_BRICK_SIZE = "100G"
# A thin logical volume's virtual size (gluster_inventory.yml:94-102, lvsize: 200G;
# thin_volume_create.yml:136, lvcreate -T VG/POOL -V SIZE). Virtual: it takes room in the
# pool only as it is written, and the sum may exceed the pool (lvcreate warns).
DATA_BRICK_SIZE = "200G"
PV_DATA_ALIGNMENT = "256K"  # vg_create.yml:17-20 (JBOD): pvcreate --dataalignment
# thin_pool_create.yml:288-289 (JBOD): lvcreate --type thin-pool --zero n -l 100%FREE
# --chunksize 256K (:19-23) --poolmetadatasize 16G (gluster_inventory.yml:60-66, "Recommended
# values for 'poolmetadatasize' is 16GB"). lvcreate takes the metadata and its spare out of
# 100%FREE (lvm2 v2_03_21, tools/lvcreate.c:430-437).
THIN_POOL_CHUNK_SIZE = "256K"
THIN_POOL_METADATA_SIZE = "16G"
# fscreate.yml:7 and :34: mkfs.xfs -f -K -i size=512 -n size=8192. -K: no discard of the
# whole device first (mkfs.xfs(8)); 512-byte inodes hold Gluster's extended attributes.
# Without -f: the step formats only a logical volume blkid and wipefs find empty, and without
# -f mkfs.xfs refuses once more anything it finds there ("appears to contain an existing
# filesystem"); -f would only take that second check away.
MKFS_XFS_OPTIONS: tuple[str, ...] = ("-K", "-i", "size=512", "-n", "size=8192")
MOUNT_OPTIONS = "inode64,noatime,nodiratime"  # mount.yml:54
# SELinux stays enforcing; bricks carry glusterd_brick_t (mount.yml:64-77: semanage fcontext,
# restorecon).
BRICK_SELINUX_TYPE = "glusterd_brick_t"
# mkfs.xfs refuses a filesystem under 300 MiB ("Filesystem must be larger than 300MB", seen
# with xfsprogs 6.1; EL9 has it from 5.19); lvm2 takes a thin pool's metadata from 2 MiB to
# about 16 GiB, reducing a larger size (lvmthin(7) at lvm2 v2_03_21;
# lib/metadata/pool_manip.c:778-789).
MIN_BRICK_SIZE = 300 << 20
POOL_METADATA_SIZES = (2 << 20, 16 << 30)

# multipathd must not take a brick disk: vdsm's multipath.conf blacklists no local disk
# (oVirt/vdsm v4.50.7, lib/vdsm/storage/mpathconf.py, blacklist: protocol and rbd only), and a
# disk multipathd claims at boot is not the brick device LVM and fstab expect.
# gluster-ansible-infra blacklists each brick disk by WWID in /etc/multipath/conf.d
# (roles/backend_setup/tasks/blacklist_mpath_devices.yml:48-74: a "blacklist { wwid "..." }"
# block, then systemctl reload multipathd); the step does the same in a file of its own. The
# WWID is the udev property multipath uses for the disk's subsystem (multipath-tools 0.8.7,
# libmultipath/defaults.h:9-11; read as vdsm reads it for its own blacklist, `udevadm info
# --query=property`, lib/vdsm/storage/lvmfilter.py:41-45 and :284-306), not with
# gluster-ansible's `multipath -a` then `multipath -w` (:24-34), which writes
# /etc/multipath/wwids to learn it.
WWID_PROPERTIES: tuple[tuple[str, str], ...] = (
    ("scsi", "ID_SERIAL"),
    ("nvme", "ID_WWN"),
    ("ccw", "ID_UID"),
)

# Volumes: the hosted engine's and one for VMs, created replica 3 from the start (vdsm allows
# replica 1 or 3: lib/vdsm/common/config.py.in, allowed_replica_counts; the engine's volume is
# one replica set).
ENGINE_VOLUME = "engine"
VOLUMES: tuple[str, ...] = (ENGINE_VOLUME, "data")
REPLICA = 3

# Options set on every volume before it holds data (the virt group turns sharding on, which only
# affects files created after it). oVirt 4.5's CLI deployment guide and gluster-ansible's HCI
# role (gluster/gluster-ansible-features roles/gluster_hci/defaults/main.yml) both set these:
# the virt group first, then the options one by one, some over the group's own values
# (Gluster 10's group sets network.remote-dio disable and network.ping-timeout 20).
VM_VOLUME_GROUP = "virt"
VM_VOLUME_OPTIONS: tuple[tuple[str, str], ...] = (
    ("storage.owner-uid", "36"),  # vdsm
    ("storage.owner-gid", "36"),  # kvm
    ("network.ping-timeout", "30"),
    ("performance.strict-o-direct", "on"),
    ("network.remote-dio", "off"),
    ("cluster.granular-entry-heal", "enable"),
)

# The engine: oVirt's defaults for the cluster and data center a hosted engine deploys into,
# and the user the REST API is called as.
CLUSTER = "Default"
DATA_CENTER = "Default"
# Keycloak on the engine: what hosted-engine 2.6.4 and later (oVirt 4.5.1) do unless told
# otherwise ("Configure Keycloak integration on the engine (Yes, No) [Yes]",
# oVirt/ovirt-hosted-engine-setup 2.7.2 src/plugins/gr-he-ansiblesetup/core/misc.py:310-324).
KEYCLOAK = True
# The engine's admin user for its REST API. With Keycloak the engine turns its internal
# profiles off and the admin is admin@ovirt of the profile internalsso (oVirt/ovirt-engine
# 4.5.6 packaging/services/ovirt-engine/ovirt-engine.conf.in:347-349; oVirt/ovirt-engine-
# keycloak keycloak_usage.md:56 "For REST API access the full username with profile must be
# provided: admin@ovirt@internalsso"); the hosted-engine role picks the same
# (ovirt-ansible-collection 3.2.0-1 bootstrap_local_vm/04_engine_final_tasks.yml:53-65).
ADMIN_USER_KEYCLOAK = "admin@ovirt@internalsso"
ADMIN_USER_INTERNAL = "admin@internal"


# The bridge the management NIC's address moves to once the deploy (on the first host) or the
# engine's host deploy (on the others) has made it: he_mgmt_network: ovirtmgmt
# (oVirt/ovirt-ansible-collection 3.2.0-1 roles/hosted_engine_setup/defaults/main.yml:30).
MANAGEMENT_BRIDGE = "ovirtmgmt"
# hosted-engine --deploy extracts the engine appliance into a folder of /var/tmp on the first
# host (he_local_vm_dir_path, defaults/main.yml:15), and stops unless it has 1.1 times the
# appliance's size free (tasks/bootstrap_local_vm/02_create_local_vm.yml:35-52), a size known
# only once the appliance is installed; the role's README.md:12 asks for "at least 5 GB of
# free space" there, which step 00 checks.
DEPLOY_TMP = "/var/tmp"
DEPLOY_TMP_KIB = 5 * 1024 * 1024

STEPS: tuple[StepSpec, ...] = (
    PREFLIGHT_STEP,
    StepSpec(
        key="packages",
        slug="install-packages",
        on="every",
        after=("preflight",),
        title="oVirt 4.5 and GlusterFS 10 repositories and packages; NetworkManager and "
        "firewalld kept running; /etc/hosts names every host",
    ),
    StepSpec(
        key="firewall",
        slug="firewall",
        on="every",
        after=("packages",),
        title="Open the firewalld services oVirt and Gluster need, permanently",
    ),
    StepSpec(
        key="bricks",
        slug="brick-storage",
        on="every",
        after=("firewall",),
        title="A brick filesystem per volume (LVM, the engine's thick; XFS by UUID), the "
        "disk blacklisted for multipath, SELinux labels, glusterd",
    ),
    StepSpec(
        key="probe",
        slug="peer-probe",
        on="first",
        after=("bricks",),
        title="Probe every other host into the Gluster trusted pool",
    ),
    StepSpec(
        key="probe-back",
        slug="peer-probe-back",
        on="second",
        after=("probe",),
        title="Probe the first host back by its name, so that every peer knows it by name",
    ),
    StepSpec(
        key="volumes",
        slug="volumes",
        on="first",
        after=("probe-back",),
        title="Create the volumes replica 3 with the options for VM images, and start them",
    ),
    StepSpec(
        key="deploy",
        slug="hosted-engine-deploy",
        on="first",
        after=("volumes",),
        title="hosted-engine --deploy with the engine on its GlusterFS volume",
    ),
    StepSpec(
        key="add-hosts",
        slug="add-hosts",
        on="first",
        after=("deploy",),
        title="Add the other hosts from the engine as hosted-engine hosts (REST API)",
    ),
    StepSpec(
        key="data-domains",
        slug="data-domains",
        on="first",
        after=("add-hosts",),
        title="Add the other volumes as GlusterFS data storage domains",
    ),
)
