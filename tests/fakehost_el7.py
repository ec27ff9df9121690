"""Stand-ins for the programs only the seed target ovirt35-el7's scripts call (see fakehost.py).

One stand-in, two clusters: `answer(program, state, me, args, root)` answers on the in-process
fake cluster (fakehost_cmd.py) and on the end-to-end hosts, whose overlay el7.py turns a host's
real state into `me` before the call and the changes made to `me` into the host's after it
(tests/e2e/standins/ovirt35-el7/usr/local/lib/el7-standin/el7.py). It returns (exit code,
stdout, changed, stderr), as fakehost_el9.answer does, and updates `state` (what every host
shares: the hosted engine's HA metadata, state["engine"]) and `me` (this host) for a call
that changes them. Files a program writes go below `root`, the host's / .

`me` holds: packages (installed, by name), enabled and active (systemd units), selinux (the
running mode), devices (path -> signature, "" for an empty device), mounts, children and
mounted_devices (what lsblk shows), clock_synced, repos_reachable, and the host's host_id
once a deploy gave it one. Each behaviour names its source at the target's version: CentOS
7 (yum 3.4.3, libselinux 2.5, systemd 219) and oVirt 3.5 (ovirt-hosted-engine-setup 1.2,
ovirt-hosted-engine-ha 1.2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Beside this file: in tests/, and on an end-to-end host (tests/e2e/targets.py copies both).
import hosted_engine_setup as hes

Answer = tuple[int, str, bool, str]

PROGRAMS = frozenset(
    {"rpm", "yum", "getenforce", "setenforce", "ssm", "hosted-engine", "timedatectl"}
)

# Packages the seed's list pulls in as dependencies (their RPMs' Requires).
DEPENDS = {
    "ovirt-hosted-engine-setup": ["ovirt-hosted-engine-ha", "vdsm"],
    "vdsm-gluster": ["vdsm", "glusterfs-server"],
}
CONF = "etc/ovirt-hosted-engine/hosted-engine.conf"
# The ovirt-hosted-engine-setup whose answer keys the deploy checks (hosted_engine_setup.TABLES).
SETUP_VERSION = "1.2.6.1"
VM_ID = "00000000-0000-0000-0000-000000000001"
# /etc/sysconfig/iptables as the deploy leaves it, a file iptables-restore loads.
DEPLOY_RULES = (
    "# written by hosted-engine --deploy\n*filter\n:INPUT ACCEPT [0:0]\n"
    ":FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"
)
# The dated copy of the old rules the deploy keeps.
RULES_BACKUP = "etc/sysconfig/iptables.20141112134450"
# What ovirt-hosted-engine-ha 1.2 stores as each host's engine status (json.dumps of a dict,
# agent/hosted_engine.py), which vm_status.py prints as it is.
ENGINE_UP = '{"health": "good", "vm": "up", "detail": "up"}'
ENGINE_ELSEWHERE = (
    '{"reason": "vm not running on this host", "health": "bad", "vm": "down", "detail": "unknown"}'
)


def _fail(message: str, code: int = 1) -> Answer:
    return code, "", False, message + "\n"


def _words(args: list[str]) -> list[str]:
    return [a for a in args if not a.startswith("-")]


def rpm(me: dict[str, Any], args: list[str]) -> Answer:
    """rpm -q PACKAGE: its name-version-release.arch and exit 0, or "package X is not
    installed" on standard output and exit 1 (rpm(8))."""
    package = _words(args)[0]
    if package not in me["packages"]:
        return 1, f"package {package} is not installed\n", False, ""
    return 0, f"{package}-0-0.el7.x86_64\n", False, ""


def yum(me: dict[str, Any], args: list[str]) -> Answer:
    """yum 3.4.3 (rpm-software-management/yum, commit 02a6d7ad "Bump version to 3.4.3"), the
    verbs the seed's scripts use: install and localinstall (a package file, named by the
    file) install the packages and what they require, exit 0; makecache [fast]. Any other
    verb: "No such command: VERB. Please use /usr/bin/yum --help" (cli.py:348) raises
    CliError, a YumBaseError, which yummain.py:101 hands to exFatal: exit 1 (yummain.py:66-69)."""
    verb, *rest = _words(args) or [""]
    if verb == "makecache":
        return _makecache(me, args)
    if verb not in ("install", "localinstall"):
        return _fail(f"No such command: {verb}. Please use /usr/bin/yum --help")
    change = False
    for item in rest:
        name = item.rsplit("/", 1)[-1].removesuffix(".rpm") if verb == "localinstall" else item
        for package in [name, *DEPENDS.get(name, [])]:
            if package not in me["packages"]:
                me["packages"].append(package)
                change = True
    return 0, "Complete!\n", change, ""


def _makecache(me: dict[str, Any], args: list[str]) -> Answer:
    """yum makecache [fast] sets every enabled repository's metadata as expired and fetches
    it (yumcommands.py, MakeCacheCommand.doCommand; "fast" from commit 4cb7c50c, in EL7's
    yum 3.4.3), into --setopt=cachedir=DIR; a repository that does not answer stops it
    (yummain.py:71-125, exRepoError: the message, then "Cannot retrieve repository metadata
    (repomd.xml)", exit 1; skip_if_unavailable defaults to False, yum.conf(5))."""
    cache = next((a.split("=", 2)[2] for a in args if a.startswith("--setopt=cachedir=")), None)
    if not me.get("repos_reachable", True):
        return _fail(
            "\n\n One of the configured repositories failed (CentOS-7 - Base),\n and yum "
            "doesn't have enough cached data to continue.\n\nCannot retrieve repository "
            "metadata (repomd.xml) for repository: base. Please verify its path and try again"
        )
    if cache is not None:
        Path(cache, "base").mkdir(parents=True, exist_ok=True)
        Path(cache, "base", "repomd.xml").write_text("<repomd/>\n")
    return 0, "", False, ""


def getenforce(me: dict[str, Any]) -> Answer:
    """getenforce(8): the running mode, Enforcing, Permissive or Disabled."""
    return 0, me["selinux"] + "\n", False, ""


def setenforce(me: dict[str, Any], args: list[str]) -> Answer:
    """libselinux 2.5 (EL7's), SELinuxProject/selinux libselinux-2.5
    libselinux/utils/setenforce.c:9-42: exactly one argument (else the usage, exit 1); with
    SELinux disabled "setenforce: SELinux is disabled", exit 1; "0" or "1" as it is, or
    Enforcing or Permissive in any case (strcasecmp); anything else the usage, exit 1."""
    usage = "usage:  setenforce [ Enforcing | Permissive | 1 | 0 ]"
    if len(args) != 1:
        return _fail(usage)
    if me["selinux"] == "Disabled":
        return _fail("setenforce: SELinux is disabled")
    value = args[0]
    if value in ("0", "1"):
        enforcing = value == "1"
    elif value.lower() in ("enforcing", "permissive"):
        enforcing = value.lower() == "enforcing"
    else:
        return _fail(usage)
    mode = "Enforcing" if enforcing else "Permissive"
    change = me["selinux"] != mode
    me["selinux"] = mode
    return 0, "", change, ""


def ssm(me: dict[str, Any], args: list[str], root: Path) -> Answer:
    """ssm create -p POOL --fstype FS -n NAME MOUNT DEVICE (ssm(8)): the volume group POOL on
    DEVICE, the logical volume /dev/POOL/NAME with FS on it, mounted at MOUNT. pvcreate, which
    ssm runs first, stops at a device that is not there or holds a signature; the mount point
    must exist."""
    if _words(args)[:1] != ["create"]:
        return _fail(f"fakehost: no stand-in behaviour for ssm {args}", 2)
    device, mount_point = _words(args)[-1], _words(args)[-2]
    pool, name = args[args.index("-p") + 1], args[args.index("-n") + 1]
    fstype = args[args.index("--fstype") + 1]
    if device not in me["devices"] or me["devices"][device]:
        return _fail(f"SSM Error (2012): {device} is not a free device")
    if not (root / mount_point.lstrip("/")).is_dir():
        return _fail(f"SSM Error (2001): mount point {mount_point} does not exist")
    volume = f"/dev/{pool}/{name}"
    me["devices"][device] = "LVM2_member"
    me["devices"][volume] = fstype
    me["mounts"][mount_point] = "brick-fs"
    me.setdefault("children", {})[device] = [volume]
    me.setdefault("mounted_devices", {})[mount_point] = volume
    return 0, "", True, ""


def timedatectl(me: dict[str, Any], args: list[str]) -> Answer:
    """systemd 219 (CentOS 7): `timedatectl status` prints "NTP synchronized: yes|no" among
    its lines (redhat-plumbers/systemd-rhel7 v219 src/timedate/timedatectl.c:149-156); it has
    no `show` ("Unknown operation show", exit 1). Whether the clock is synchronised is the
    host's state."""
    if args != ["status"]:
        return _fail(f"Unknown operation {args[0] if args else ''}")
    synced = "yes" if me.get("clock_synced", True) else "no"
    return (
        0,
        "      Local time: Fri 2026-12-04 19:00:00 UTC\n"
        "  Universal time: Fri 2026-12-04 19:00:00 UTC\n"
        "        RTC time: Fri 2026-12-04 19:00:00\n"
        "       Time zone: UTC (UTC, +0000)\n"
        "     NTP enabled: yes\n"
        f"NTP synchronized: {synced}\n"
        " RTC in local TZ: no\n"
        "      DST active: n/a\n",
        False,
        "",
    )


def _conf(root: Path) -> dict[str, str]:
    path = root / CONF
    if not path.is_file():
        return {}
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def _under(root: Path, path: str) -> Path:
    return root / path.lstrip("/")


def hosted_engine(state: dict[str, Any], me: dict[str, Any], args: list[str], root: Path) -> Answer:
    """hosted-engine of ovirt-hosted-engine-setup 1.2 (oVirt/ovirt-hosted-engine-setup tag
    ovirt-hosted-engine-setup-1.2.6.1, src/bin/hosted-engine.in). The command sources
    /etc/ovirt-hosted-engine/hosted-engine.conf (:24-26), which only a deploy writes: its
    `conf` must be readable for --vm-status and --set-maintenance (:206, :365), its `vmid`
    set for --vm-shutdown (:173), else "You must run deploy first" and exit 0. An unknown
    option: "Invalid option 'X'" on standard error and the usage, exit 1 (:399-401, rc=1
    :28)."""
    engine = state["engine"]
    command, rest = (args[0], args[1:]) if args else ("", [])
    conf = _conf(root)
    readable = bool(conf) and _under(root, conf.get("conf", "/nonexistent")).is_file()
    # vm_status.py and set_maintenance.py talk to the HA broker; without it they print
    # "Cannot connect to the HA daemon, please check the logs." and exit 1.
    broker_down = "ovirt-ha-broker" not in me["active"]
    if command == "--vm-status":
        if not readable:
            return 0, "You must run deploy first\n", False, ""
        if broker_down:
            return _fail("Cannot connect to the HA daemon, please check the logs.")
        lines = ["", "", "!! Cluster is in GLOBAL MAINTENANCE mode !!", ""]
        lines = lines if engine["global_maintenance"] else []
        for host_id in engine["hosts"]:
            here = engine["vm"] == "up" and host_id == engine["runs_on"]
            lines += ["", "", f"--== Host {host_id} status ==--", ""]
            lines += [f"{'Host ID':35}: {host_id}"]
            lines += [f"{'Engine status':35}: {ENGINE_UP if here else ENGINE_ELSEWHERE}"]
        return 0, "\n".join(lines) + "\n", False, ""
    if command == "--set-maintenance":
        # The mode first (:347-361, on standard output), then the deploy (:365-367).
        if not rest or not rest[0].startswith("--mode="):
            return 1, "You must specify a maintenance mode with --mode\n", False, ""
        mode = rest[0].removeprefix("--mode=")
        if mode not in ("global", "local", "none"):
            return 1, f"Invalid value '{mode}' for --mode\n", False, ""
        if not readable:
            return 0, "You must run deploy first\n", False, ""
        if broker_down:
            return _fail("Cannot connect to the HA daemon, please check the logs.")
        engine["global_maintenance"] = mode == "global"
        if mode == "none" and engine["vm"] != "up" and "ovirt-ha-agent" in me["active"]:
            # Out of global maintenance, the agents start the engine VM where the score is
            # best; hosts of equal score each try, and the one that takes the VM's sanlock
            # lease runs it (ovirt-hosted-engine-ha-1.2.6.1 agent/states.py:447-459,
            # EngineDown.consume). Here that is this host, whose agent runs.
            engine["vm"] = "up"
            engine["runs_on"] = int(conf["host_id"])
        return 0, "", True, ""
    if command == "--vm-shutdown":
        if not conf.get("vmid"):
            return 0, "You must run deploy first\n", False, ""
        # vdsClient shutdown <vmid> (:174): vdsClient fails when vdsmd does not answer.
        if "vdsmd" not in me["active"]:
            return _fail("Connection to localhost:54321 refused")
        engine["vm"] = "down"
        return 0, "", True, ""
    if command == "--deploy":
        return _deploy(state, me, rest, root)
    return (
        1,
        "Usage: hosted-engine [--help] <command> [<command-args>]\n",
        False,
        (f"Invalid option '{command}'\n"),
    )


def _deploy(state: dict[str, Any], me: dict[str, Any], args: list[str], root: Path) -> Answer:
    """hosted-engine --deploy --config-append=ANSWERS on an additional host, as far as the
    scripts see it (ovirt-hosted-engine-setup-1.2.6.1):

    - the answer file read as otopi reads it (hosted_engine_setup.read_answers); a key
      1.2.6.1 never reads is refused, naming it, as the el9 stand-in refuses 2.7.2's
      (fakehost_engine.deploy): the table is tests/data/hosted-engine-setup/
      answers-1.2.6.1.json, extracted from the setup's source at that tag;
    - validation: a host ID the HA metadata already lists is refused, "Invalid value for Host
      ID: already used", unless the answers say it is a re-deployment
      (src/plugins/ovirt-hosted-engine-setup/storage/storage.py:290-298); without
      OVEHOSTED_CORE/additionalHostReDeployment the setup asks (:73-91), and with nothing to
      read otopi's dialog fails, "End of file" (otopi src/otopi/dialog.py, _readline). Either
      fails the stage (otopi-1.3.2 src/otopi/context.py:159), exit 1, before any file is
      written;
    - hosted-engine.conf written with the host ID (templates/hosted-engine.conf.in, one key a
      line; core/conf.py:48-56), /etc/sysconfig/iptables replaced by its own rules, a dated
      copy of the old ones kept, and reloaded;
    - vdsmd enabled and started (system/vdsmenv.py:175-222, STAGE_MISC);
    - at closing up the host added to the engine by its address (engine/add_host.py:628-650,
      `address=socket.gethostname()`, here its FQDN), then ovirt-ha-agent and ovirt-ha-broker
      enabled and started (ha/ha_services.py:85-129). The engine refuses a host whose address
      it has (`engine["in_engine"]`: a new machine of the same name before the administrator
      removed the old one), and any host named by state["engine"]["deploy_fails"] (a test
      sets it to a host's FQDN or name): the setup logs the engine's reason and fails the
      stage (:651-670), exit 1, hosted-engine.conf left behind. The reason in ovirt-engine's
      words (AppErrors ACTION_TYPE_FAILED_VDS_WITH_SAME_HOST_EXIST, the text of 4.5.7 as
      fakehost_engine.py has it; the 3.5 engine's text is not checked)."""
    append = next((a for a in args if a.startswith("--config-append=")), None)
    if append is None:
        return _fail("fakehost: the stand-in deploys additional hosts only, from an answer file", 2)
    path = Path(append.split("=", 1)[1])
    try:
        answers = hes.read_answers(path.read_text())
    except (hes.AnswerFileError, OSError) as e:
        return _fail(f"[ ERROR ] {e}")
    # The real setup keeps a key no plugin reads in its environment and goes on; the stand-in
    # refuses it, as fakehost_engine.deploy does: an answer that has no effect should fail a
    # test, not pass it.
    unread = hes.unread(answers, version=SETUP_VERSION)
    if unread:
        tag = hes.table(SETUP_VERSION)["provenance"]["tag"]
        return (
            1,
            "",
            False,
            "".join(
                f"[ ERROR ] {key} in {path}: ovirt-hosted-engine-setup {tag} never reads it, "
                "so it has no effect\n"
                for key in unread
            ),
        )
    # storage.py:151-165 takes int() of the host ID; :74-91 asks for the re-deployment when
    # the answer is None (absent, or `none:`) and otherwise tests the value's truth (:294).
    host_id = int(answers["OVEHOSTED_STORAGE/hostID"])
    engine = state["engine"]
    redeploy = answers.get("OVEHOSTED_CORE/additionalHostReDeployment")
    if host_id in engine["hosts"] and not redeploy:
        why = "End of file" if redeploy is None else "Invalid value for Host ID: already used"
        return _fail(f"[ ERROR ] Failed to execute stage 'Setup validation': {why}")
    conf = root / CONF
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(f"vmid={VM_ID}\nconf=/etc/ovirt-hosted-engine/vm.conf\nhost_id={host_id}\n")
    (conf.parent / "vm.conf").write_text(f"vmId={VM_ID}\n")
    rules = root / "etc/sysconfig/iptables"
    (root / RULES_BACKUP).write_bytes(rules.read_bytes())
    rules.write_text(DEPLOY_RULES)
    me.setdefault("restarted", []).append("iptables")
    units = ["vdsmd"]
    failing = engine.get("deploy_fails")
    address = me["fqdn"]
    known = address in engine["in_engine"]
    fails = known or (failing is not None and failing in (address, me.get("name")))
    if not fails:
        if host_id not in engine["hosts"]:
            engine["hosts"].append(host_id)
        engine["in_engine"].append(address)
        units += ["ovirt-ha-broker", "ovirt-ha-agent"]
    for unit in units:
        for key in ("enabled", "active"):
            if unit not in me[key]:
                me[key].append(unit)
    if fails:
        return (
            1,
            "",
            True,
            "[ ERROR ] Cannot automatically add the host to cluster Default:\n"
            + ("Cannot add Host. Host with the same address already exists.\n" if known else "")
            + "\n"
            "[ ERROR ] Failed to execute stage 'Closing up': Cannot add the host to "
            "cluster Default\n",
        )
    return 0, "", True, ""


def answer(
    program: str, state: dict[str, Any], me: dict[str, Any], args: list[str], root: Path
) -> Answer:
    if program == "rpm":
        return rpm(me, args)
    if program == "yum":
        return yum(me, args)
    if program == "getenforce":
        return getenforce(me)
    if program == "setenforce":
        return setenforce(me, args)
    if program == "ssm":
        return ssm(me, args, root)
    if program == "timedatectl":
        return timedatectl(me, args)
    if program == "hosted-engine":
        return hosted_engine(state, me, args, root)
    return _fail(f"fakehost: no stand-in behaviour for {program}", 2)
