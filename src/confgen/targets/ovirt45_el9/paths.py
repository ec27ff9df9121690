"""Paths on the hosts that this target's scripts use, beyond those every target's use."""

from confgen.targets.ovirt45_el9.defaults import EXTRAS_COMMON_REPO, STREAM_VAR

HOSTED_ENGINE_CONF = "/etc/ovirt-hosted-engine/hosted-engine.conf"
# The answers the deploy step passes to hosted-engine --config-append, in a host's folder
# (its data/, confgen.paths.DATA).
HOSTED_ENGINE_ANSWERS = "data/hosted-engine-answers.conf"
# The engine's CA certificate as host deploy leaves it on a host it deployed (vdsm's own
# trust store); the REST API calls from the first host check the engine against it.
ENGINE_CA = "/etc/pki/vdsm/certs/cacert.pem"
# The brick step's multipath blacklist: a file of its own in multipath's config_dir, read as if
# in /etc/multipath.conf (multipath-tools 0.8.7, multipath/multipath.conf.5:931-938), beside
# vdsm's vdsm_blacklist.conf, which vdsm-tool config-lvm-filter rewrites whole.
MULTIPATH_BLACKLIST = "/etc/multipath/conf.d/confgen-bricks.conf"
# A gluster group file: the options `gluster volume set VOLUME group virt` sets.
GLUSTER_GROUPS_DIR = "/var/lib/glusterd/groups"

__all__ = ["EXTRAS_COMMON_REPO", "STREAM_VAR"]
