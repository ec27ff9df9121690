"""The oVirt hosted engine: the engine VM that runs on the cluster's own hosts.

What every target with it shares: the host it runs on first, and the engine VM's name. Each
release's deploy (3.5's part one and `hosted-engine --deploy` of each other host; 4.5's deploy
of the first host and the others added through the engine's REST API) is its target's.
"""

from __future__ import annotations

from collections.abc import Iterator

from confgen.errors import Problem, error, quoted
from confgen.models import Cluster
from confgen.validator import one_first_host

# ovirt-hosted-engine-setup's Const.MAX_HOST_ID (oVirt/ovirt-hosted-engine-setup
# src/ovirt_hosted_engine_setup/constants.py, 1.2 and 2.x alike), which is vdsm's
# clusterlock.MAX_HOST_ID: the sanlock host IDs a storage domain's lockspace has room for.
MAX_HOST_ID = 250


def first_host(cluster: Cluster) -> Iterator[Problem]:
    """One host runs the hosted engine first (`first = true`), and it is hosted-engine host
    ID 1: the deploy of the first host gives it that ID, and each other host's deploy takes
    its own (`host_id`), at most MAX_HOST_ID. IDs need not be consecutive: a host that leaves
    the cluster leaves its ID unused, and the others keep theirs."""
    for i, host in enumerate(cluster.hosts):
        if host.host_id > MAX_HOST_ID:
            yield error(
                f"hosts[{i}].host_id",
                f"a hosted-engine host ID is 1..{MAX_HOST_ID}, found {host.host_id}",
            )
    yield from one_first_host(cluster, "the host that runs the hosted engine")
    first = next((i for i, h in enumerate(cluster.hosts) if h.first), None)
    if first is not None and cluster.hosts[first].host_id != 1:
        yield error(f"hosts[{first}].host_id", "the first host has hosted-engine host ID 1")


def engine_name(cluster: Cluster, fqdn: str, key: str) -> Iterator[Problem]:
    """The engine VM's name (`key`) is a name of its own, not one of a host's."""
    for host in cluster.hosts:
        if fqdn.lower() in (host.name.lower(), host.fqdn.lower()):
            yield error(
                key,
                f"{quoted(fqdn)} is a name of host {quoted(host.name)}: "
                "the engine VM needs a name of its own",
            )
