"""The ports a cluster file opens beyond its target's (`firewall.extra_rules`), whichever
firewall opens them (`iptables`, `firewalld`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from confgen.errors import Problem, error
from confgen.models import FirewallRule
from confgen.validator import form


def extra_rules(rules: Sequence[FirewallRule]) -> Iterator[Problem]:
    """Each added rule: a service of one line, and a port or a range of ports that exist."""
    for i, rule in enumerate(rules):
        path = f"firewall.extra_rules[{i}]"
        yield from form(f"{path}.service", rule.service, "text")
        if not (1 <= rule.ports.first <= rule.ports.last <= 65535):
            yield error(
                f"{path}.ports",
                f"{rule.ports} is not a port in 1..65535 or a range first:last with first <= last",
            )
