"""firewalld: the services a target opens, and the cluster's ports, in the default zone or in
a zone whose sources are the cluster's networks."""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Sequence

from confgen.errors import Problem, warning
from confgen.models import FirewallRule, Network
from confgen.planner import Check


def ports(rules: Sequence[FirewallRule]) -> tuple[str, ...]:
    """The rules' ports in firewalld's form: 8080/tcp, 5900-6923/tcp."""
    return tuple(
        f"{r.ports.first}{'' if r.ports.first == r.ports.last else f'-{r.ports.last}'}"
        f"/{r.protocol.value}"
        for r in rules
    )


def sources(networks: Sequence[Network]) -> tuple[str, ...]:
    """A zone's sources for the cluster's networks."""
    return tuple(str(n.cidr) for n in networks)


def open_networks(networks: Sequence[Network]) -> Iterator[Problem]:
    """The cluster's networks become a zone's sources; one network that holds the whole
    Internet would open the services to everyone."""
    for i, network in enumerate(networks):
        if network.cidr.prefixlen == 0:
            yield warning(
                f"networks[{i}].cidr",
                f"{network.cidr} holds every address: cluster_networks_only opens the "
                "services to everyone through it",
            )


def services_open(on: str, zone: str | None, services: Sequence[str]) -> Check:
    """--list-services: the zone's services, on one line (firewall-cmd(1))."""
    option = [f"--zone={zone}"] if zone else []
    return Check(
        on=on,
        command=shlex.join(["firewall-cmd", *option, "--list-services"]),
        shows=tuple(services),
    )
