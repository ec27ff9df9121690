"""iptables: a rules file of the target's rules and the cluster's, loaded by iptables.service."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from confgen.errors import Problem, quoted, warning
from confgen.models import FirewallRule
from confgen.planner import Check
from confgen.records import record


@record
class FirewallGroup:
    """Consecutive rules for one service, rendered under one comment."""

    service: str
    rules: tuple[FirewallRule, ...]


def groups(rules: Sequence[FirewallRule]) -> tuple[FirewallGroup, ...]:
    """The rules in groups of consecutive rules of one service, in their order."""
    found: list[FirewallGroup] = []
    for rule in rules:
        if found and found[-1].service == rule.service:
            found[-1] = FirewallGroup(service=rule.service, rules=(*found[-1].rules, rule))
        else:
            found.append(FirewallGroup(service=rule.service, rules=(rule,)))
    return tuple(found)


def overlaps(
    target_rules: Sequence[FirewallRule], extra: Sequence[FirewallRule]
) -> Iterator[Problem]:
    """A warning for each added rule that repeats or overlaps a rule before it: the target's
    (named as the seed's) or an added one."""
    for i, rule in enumerate(extra):
        others = [(f"the seed's {quoted(r.service)} rule", r) for r in target_rules]
        others += [(f"firewall.extra_rules[{j}]", r) for j, r in enumerate(extra[:i])]
        for name, other in others:
            if (
                other.protocol is rule.protocol
                and other.ports.first <= rule.ports.last
                and rule.ports.first <= other.ports.last
            ):
                same = (other.ports.first, other.ports.last) == (rule.ports.first, rule.ports.last)
                yield warning(
                    f"firewall.extra_rules[{i}].ports",
                    f"{rule.protocol.value} {rule.ports} {'repeats' if same else 'overlaps'} "
                    f"{name} ({other.protocol.value} {other.ports})",
                )
                break


def rules_loaded(on: str, last: FirewallRule, rules_file: str) -> Check:
    """`iptables -S INPUT` prints the rules as iptables-save writes them, the form of the
    rules file: the last rule of the file among them."""
    protocol = last.protocol.value
    return Check(
        on=on,
        command="iptables -S INPUT",
        shows=(f"-A INPUT -p {protocol} -m {protocol} --dport {last.ports} -j ACCEPT",),
        note=f"and every other rule of {rules_file}",
    )


def data(found: Sequence[FirewallGroup]) -> list[dict[str, object]]:
    """The groups for the templates."""
    return [
        {
            "service": g.service,
            "rules": [{"protocol": r.protocol.value, "ports": str(r.ports)} for r in g.rules],
        }
        for g in found
    ]
