"""Every default of the target ovirt45-el9, each with where it comes from.

oVirt 4.5 on EL9 (CentOS Stream 9, a RHEL 9 rebuild, or oVirt Node) with GlusterFS 10 from the
CentOS Storage SIG. The hosted engine lives on a replica-3 GlusterFS storage domain, as oVirt
has had it since 3.6: no NFS share, no CTDB, no virtual IP. Sources are named by repository and
path; the research behind them is in the project's shared research notes
(modern-target-and-day2.md).
"""

from __future__ import annotations

from confgen.planner import StepSpec

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

# The brick filesystem, as gluster-ansible makes it (gluster/gluster-ansible-infra
# roles/backend_setup: vg_create, thick_lv_create, fscreate, mount): one volume group on the
# brick device, one thick logical volume, XFS with 512-byte inodes, mounted by UUID.
BRICK_VOLUME_GROUP = "gluster_vg"
BRICK_LOGICAL_VOLUME = "gluster_lv"
BRICK_MOUNT_POINT = "/gluster_bricks"
PV_DATA_ALIGNMENT = "256K"  # vg_create.yml: pvcreate --dataalignment
MKFS_XFS_OPTIONS: tuple[str, ...] = ("-i", "size=512", "-n", "size=8192")  # fscreate.yml
MOUNT_OPTIONS = "inode64,noatime,nodiratime"  # mount.yml
# SELinux stays enforcing; bricks carry glusterd_brick_t (mount.yml: semanage fcontext, restorecon).
BRICK_SELINUX_TYPE = "glusterd_brick_t"

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


STEPS: tuple[StepSpec, ...] = (
    StepSpec(
        key="packages",
        slug="install-packages",
        on="every",
        after=(),
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
        title="Brick filesystem (LVM + XFS, fstab by UUID), brick folders labelled for "
        "SELinux, glusterd",
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
