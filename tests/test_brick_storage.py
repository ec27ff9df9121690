"""The brick device is brick storage's fact: its model fragment, its rules and its data; the
core names none."""

from __future__ import annotations

from importlib import resources
from ipaddress import IPv4Address

import pytest

from confgen import models
from confgen.components import brick_storage

CORE = ("models", "loader", "validator", "planner", "context", "renderer", "writer", "cli")


@pytest.mark.parametrize("module", CORE)
def test_the_core_names_no_brick_device(module: str) -> None:
    text = (resources.files("confgen") / f"{module}.py").read_text(encoding="utf-8")
    assert "brick_device" not in text


def _host(name: str, kind: type[models.Host] = brick_storage.Host, **more: object) -> models.Host:
    interface = models.Interface(nic="eth0", address=IPv4Address("10.0.0.1"))
    return kind(name=name, fqdn=f"{name}.example", host_id=1, interfaces={"lan": interface}, **more)


def test_a_host_that_holds_a_brick_needs_a_device_and_one_without_a_brick_does_not() -> None:
    hosts = [
        _host("a", brick_device="/dev/vdb"),
        _host("b"),  # holds a brick, no device
        _host("c"),  # holds none
        _host("d", models.Host),  # a target's host without brick devices: never one
    ]
    holders = {"a": "data", "b": "data", "d": "engine"}
    problems = list(brick_storage.devices_given(hosts, holders))
    assert [p.path for p in problems] == ["hosts[1].brick_device", "hosts[3].brick_device"]
    assert "'data'" in problems[0].message


def test_step_00_checks_the_device_only_of_a_host_that_holds_a_brick() -> None:
    host = _host("a", brick_device="/dev/vdb")
    assert brick_storage.host_data(host, holds_bricks=True) == {
        "brick_device": "/dev/vdb",
        "checked_brick_device": "/dev/vdb",
    }
    assert brick_storage.host_data(host, holds_bricks=False)["checked_brick_device"] is None
    assert brick_storage.device_of(_host("d", models.Host)) is None


def test_a_device_must_be_a_device_path() -> None:
    bad = [_host("a", brick_device="vdb; rm -rf /")]
    assert [p.path for p in brick_storage.forms(bad)] == ["hosts[0].brick_device"]
    assert list(brick_storage.forms([_host("a", brick_device="/dev/vdb")])) == []
