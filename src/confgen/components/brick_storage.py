"""The storage a host's bricks lie on, made on its brick device: one filesystem made with
ssm (EL7), or an LVM volume group with a logical volume and an XFS filesystem for each
volume's brick (EL9)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from confgen import models
from confgen.errors import Problem, error, quoted
from confgen.records import record
from confgen.validator import form

# --- the model ------------------------------------------------------------------------------


# A target whose bricks lie on disks of their own gives its cluster
# `hosts: tuple[brick_storage.Host, ...]`.
@record
class Host(models.Host):
    """One machine of the cluster, with the disk its bricks lie on."""

    # The block device the brick filesystem is created on; only a host that holds a brick
    # needs one.
    brick_device: str | None = None


def device_of(host: models.Host) -> str | None:
    """A host's brick device; none for a host of a target without brick devices."""
    device: str | None = getattr(host, "brick_device", None)
    return device


# --- the rules ------------------------------------------------------------------------------


def forms(hosts: Sequence[Host]) -> Iterator[Problem]:
    """Each brick device given is a device's path (whether a host needs one at all, the
    volumes say: `devices_given`)."""
    for i, host in enumerate(hosts):
        if host.brick_device is not None:
            yield from form(f"hosts[{i}].brick_device", host.brick_device, "device")


def devices_given(hosts: Sequence[models.Host], holders: Mapping[str, str]) -> Iterator[Problem]:
    """Each host that holds a brick has a brick device: `holders` gives, by host name, the
    first volume it holds a brick of."""
    for i, host in enumerate(hosts):
        if device_of(host) is None and host.name in holders:
            yield error(
                f"hosts[{i}].brick_device",
                f"required: {quoted(host.name)} holds a brick of volume "
                f"{quoted(holders[host.name])}, and "
                "the brick filesystem is made on this device (a disk such as /dev/vdb)",
            )


def device_outside(hosts: Sequence[Host], group: str) -> Iterator[Problem]:
    """No host's brick device is in the volume group (or ssm pool) the brick step makes on it:
    `group` is its folder, /dev/<name>/."""
    for i, host in enumerate(hosts):
        if host.brick_device is not None and host.brick_device.startswith(group):
            yield error(
                f"hosts[{i}].brick_device",
                f"{host.brick_device} is in the volume group {group} the brick step makes on "
                "the device: name the disk it is to be made on",
            )


# LVM names: letters, digits and "+_.-", not starting with "-" (lvm(8), VALID NAMES); kept to
# the forms that need no quoting, as every name is.
LVM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}")
# Names LVM keeps for its own hidden volumes: no LV name may contain them (lvm(8) at lvm2
# v2_03_21, VALID NAMES).
LVM_RESERVED = (
    "_cdata",
    "_cmeta",
    "_corig",
    "_iorig",
    "_mimage",
    "_mlog",
    "_pmspare",
    "_rimage",
    "_rmeta",
    "_tdata",
    "_tmeta",
    "_vdata",
    "_vorigin",
    "_wcorig",
)
# A size as lvcreate takes it, with its unit written: k, m, g, t, p, either case, each a
# power of 1024 (lvcreate(8) at lvm2 v2_03_21, "Size[UNIT]"); a bare number would be MiB.
_SIZE = re.compile(r"([0-9]{1,15})(\.[0-9]{1,6})?([kKmMgGtTpP])")
_UNITS = {"k": 1, "m": 2, "g": 3, "t": 4, "p": 5}


def size_bytes(text: str) -> int | None:
    """The bytes of a size such as 100G or 1.5T (powers of 1024); None if it is not one."""
    match = _SIZE.fullmatch(text)
    if match is None:
        return None
    whole, fraction, unit = match.groups()
    scale: int = 1024 ** _UNITS[unit.lower()]
    return int(whole) * scale + int(float(fraction or "0") * scale)


def size(path: str, text: str, least: int, most: int | None, what: str) -> Iterator[Problem]:
    """A size as lvcreate takes it, from `least` to `most` bytes; else it `is {what}`."""
    found = size_bytes(text)
    if found is None:
        yield error(
            path,
            f"{quoted(text)} is not a size: a number and its unit, k, m, g, t or p (powers of "
            "1024, as lvcreate takes them), as 100G",
        )
    elif found < least or (most is not None and found > most):
        yield error(path, f"{text} is {what}")


def lvm_reserved(name: str) -> str | None:
    """The part of `name` LVM keeps for its own volumes, if it has one."""
    return next((r for r in LVM_RESERVED if r in name), None)


# --- the plan -------------------------------------------------------------------------------


@record
class BrickMade:
    """How a host shows it has what the brick step makes: the query the step itself asks
    before it touches the device (exit 0: made), and those words for a message."""

    command: tuple[str, ...]
    what: str


# LVM + XFS, a logical volume for each volume's brick:


@record
class BrickVolume:
    """The filesystem of one volume's brick on a host: a logical volume of its own, XFS,
    mounted by UUID at <mount_point>/<volume>, holding the brick folder."""

    volume: str
    logical_volume: str  # gluster_lv_<volume>
    device: str  # /dev/<volume group>/<logical volume>
    thin: bool  # a thin logical volume in the pool; else thick
    size: str  # thick: its size (lvcreate -L); thin: its virtual size (lvcreate -V)
    mount_point: str
    brick_dir: str


@record
class BrickStorage:
    """What the brick step makes on one host: the logical volumes of the volumes it holds a
    brick of, and nothing for the others; the thin pool only when a thin volume needs it."""

    device: str | None  # the brick disk
    thick: tuple[BrickVolume, ...]  # made first: the pool takes what they leave
    thin: tuple[BrickVolume, ...]

    @property
    def volumes(self) -> tuple[BrickVolume, ...]:
        return (*self.thick, *self.thin)


def _brick_volume(b: BrickVolume) -> dict[str, Any]:
    return {
        "volume": b.volume,
        "logical_volume": b.logical_volume,
        "device": b.device,
        "thin": b.thin,
        "size": b.size,
        "mount_point": b.mount_point,
        "brick_dir": b.brick_dir,
    }


def host_data(host: models.Host, holds_bricks: bool) -> dict[str, Any]:
    """What a host's entry in the templates' `plan.hosts` has of its brick device: the
    device, and the one step 00 checks (none on a host that holds no brick)."""
    device = device_of(host)
    return {"brick_device": device, "checked_brick_device": device if holds_bricks else None}


def data(s: BrickStorage) -> dict[str, Any]:
    """A host's brick storage for the templates."""
    return {
        "device": s.device,
        "thick": [_brick_volume(b) for b in s.thick],
        "thin": [_brick_volume(b) for b in s.thin],
        "volumes": [_brick_volume(b) for b in s.volumes],
    }
