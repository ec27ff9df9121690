"""The hosted engine of the target ovirt45-el9 on the fake cluster (see fakehost.py).

Two parts. `deploy` stands in for `hosted-engine --deploy` of ovirt-hosted-engine-setup 2.7
(oVirt 4.5) on the first host: it makes the engine VM, whose engine then adds that host, so
afterwards the host has the hosted-engine configuration and vdsm's certificates. `serving`
runs the engine's REST API (oVirt 4.5, API version 4) over HTTPS, a server in the test's process;
the scripts reach it with the real curl, which a .curlrc in the fake cluster's HOME points at
the server (connect-to), checking the server's certificate against the CA the deploy put on
the host. It reads request bodies and writes its answers with the oVirt Python SDK's XML
readers and writers, and its defaults, refusals and faults are ovirt-engine 4.5.7's (the
citations at "The REST API" below).
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import ipaddress
import marshal
import os
import re
import ssl
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import fakehost_el9

Answer = tuple[int, str, bool, str]

ADMIN = "admin@internal"
# What the administrator types: the engine's admin password at the deploy, and each host's
# root password when the engine adds it. The fake cluster's hosts all have this one.
ADMIN_PASSWORD = "engine-admin-secret"
# Blanks at both ends: a script that reads it as bash's `read` does by default loses them.
ROOT_PASSWORD = " root secret <&> "
CA = "/etc/pki/vdsm/certs/cacert.pem"
API = "/ovirt-engine/api"
SSO_TOKEN = "/ovirt-engine/sso/oauth/token"
HEALTH = "/ovirt-engine/services/health"


# The engine VM's ID, as the engine gives it when the deploy creates the VM.
VM_ID = "3f7a2e1c-5b8d-4c6e-9a0f-1d2b3c4d5e6f"
HE_CONF = "etc/ovirt-hosted-engine/hosted-engine.conf"
# Where hosted-engine.conf's conf= points: the role copies vm.conf there (ovirt-ansible-
# collection 3.2.0-1 roles/hosted_engine_setup/templates/hosted-engine.conf.j2:12;
# tasks/create_target_vm/03_hosted_engine_final_tasks.yml:147-154), as the HA agent of an
# added host does from the shared storage.
VM_CONF = "/var/run/ovirt-hosted-engine-ha/vm.conf"


def _host_config(state: dict[str, Any], root: Path, machine: str, host_id: int, fqdn: str) -> None:
    """What a hosted-engine host has once the role (or the engine's host deploy) wrote its
    configuration: hosted-engine.conf with the keys of the role's template that the setup and
    the HA services read (templates/hosted-engine.conf.j2:1-15), vm.conf where conf= points,
    and vdsm's CA certificate, which the engine's host deploy puts there. The host is then
    one the HA services know, by its ID (their metadata on the shared storage)."""
    engine = state["engine"]
    conf = root / HE_CONF
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(
        f"fqdn={engine['fqdn']}\nvmid={VM_ID}\nstorage={engine['connection']}\n"
        f"mnt_options={engine['mount_options']}\nconf={VM_CONF}\nhost_id={host_id}\n"
        "console=vnc\ndomainType=glusterfs\n"
    )
    vm_conf = root / VM_CONF.lstrip("/")
    vm_conf.parent.mkdir(parents=True, exist_ok=True)
    vm_conf.write_text(f"vmId={VM_ID}\n")
    ca = root / CA.lstrip("/")
    ca.parent.mkdir(parents=True, exist_ok=True)
    ca.write_text(engine["ca_pem"])
    ha = engine.setdefault("ha", [])
    if [host_id, machine, fqdn] not in ha:
        ha.append([host_id, machine, fqdn])


def _start_ha(
    me: dict[str, Any], units: tuple[str, ...] = ("vdsmd", "ovirt-ha-broker", "ovirt-ha-agent")
) -> None:
    for unit in units:
        for key in ("enabled", "active"):
            if unit not in me[key]:
                me[key].append(unit)


def _read_line(hidden: bool) -> str:
    """One line the administrator types at the deploy's terminal; EOFError at the end."""
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    _say("\n")  # the terminal's echo of the Enter key, which the captured output lacks
    return line.rstrip("\n")


def _say(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def deploy(
    state: dict[str, Any], me: dict[str, Any], host: str, args: list[str], root: Path
) -> Answer:
    """hosted-engine --deploy [--4|--6] --config-append=FILE, as ovirt-hosted-engine-setup
    2.7 does it (the table of tests/hosted_engine_setup.py, extracted from its source).

    The answer file is read as otopi reads it; a key the setup never reads is refused (see
    below). Then the setup's dialog runs: each question whose key the answers leave open is
    asked at the terminal, the default taken on an empty line; without a terminal the deploy
    fails as otopi does. Its checks, in the order the hosted_engine_setup role makes them
    (ovirt-ansible-collection, roles/hosted_engine_setup/tasks/pre_checks): firewalld enabled
    and active ("firewalld is required to be enabled and active in order to correctly deploy
    hosted-engine"); then the storage: a GlusterFS connection HOST:/VOLUME that mounts, so a
    started volume served by a pool member. A deploy over a host that has hosted-engine.conf
    is not modelled: the setup at 2.7.2 has no check of its own for it (neither its plugins nor
    the role's pre-checks look at the file), and what it then does is not known here, so the
    stand-in refuses to go on, saying so; the deploy step never asks for it (it asks
    hosted-engine --check-deployed first)."""
    import hosted_engine_setup as hes

    if not args or args[0] != "--deploy":
        return 1, "", False, f"Invalid option '{args[0] if args else ''}'\n"
    engine = state["engine"]
    if (root / "etc/ovirt-hosted-engine/hosted-engine.conf").exists():
        return (
            1,
            "",
            False,
            "fakehost: no stand-in behaviour for a deploy over hosted-engine.conf\n",
        )
    if "firewalld" not in me["active"] or "firewalld" not in me["enabled"]:
        return (
            1,
            "",
            False,
            "[ ERROR ] firewalld is required to be enabled and active in order to correctly "
            "deploy hosted-engine. Please check, fix accordingly and re-deploy.\n",
        )
    # ovirt-hosted-engine-setup-2.7.2 src/bin/ovirt-hosted-engine-setup:69-89: the options
    # become otopi environment; an unknown one dies with "Invalid option".
    extra: dict[str, Any] = {}
    files = []
    for arg in args[1:]:
        if arg.startswith("--config-append="):
            files.append(Path(arg.split("=", 1)[1]))
        elif arg == "--4":
            extra["OVEHOSTED_NETWORK/forceIPv4"] = True
        elif arg == "--6":
            extra["OVEHOSTED_NETWORK/forceIPv6"] = True
        else:
            return 1, "", False, f"FATAL: Invalid option '{arg}'\n"
    try:
        answers = {k: v for f in files for k, v in hes.read_answers(f.read_text()).items()}
    except (hes.AnswerFileError, OSError) as e:
        return 1, "", False, f"[ ERROR ] {e}\n"
    # The real setup takes every key of the file into its environment and ignores the ones no
    # plugin reads, silently. The stand-in refuses them on purpose: an answer the setup never
    # reads has no effect, and a test should say so rather than pass (storageDatacenterName is
    # defined in constants.py and read nowhere; the data center is OVEHOSTED_ENGINE/
    # datacenterName).
    unread = hes.unread(answers)
    if unread:
        return (
            1,
            "",
            False,
            "".join(
                f"[ ERROR ] {key} in {' '.join(map(str, files))}: ovirt-hosted-engine-setup "
                f"{hes.table()['provenance']['tag']} never reads it, so it has no effect\n"
                for key in unread
            ),
        )
    answers = {**answers, **extra}
    # The dialog needs a terminal: the real otopi reads standard input and fails at its end
    # (otopi-1.10.4 src/otopi/dialog.py:248, context.py:152).
    interactive = os.isatty(0)

    def read_line(hidden: bool) -> str:
        if not interactive:
            raise EOFError
        return _read_line(hidden)

    try:
        env = hes.converse(answers, os.environ, read_line, _say)
    except hes.DeployFailed as e:
        return 1, "", False, f"\n{e}\n"
    # What the deploy acts on is what the setup read (ovirt-hosted-engine-setup-2.7.2, the
    # table's reads): the storage (src/plugins/gr-he-ansiblesetup/core/storage_domain.py:
    # 583-592), the data center and cluster (core/misc.py:408-413, he_data_center and
    # he_cluster), the gluster service (core/misc.py:396-398, he_enable_hc_gluster_service),
    # Keycloak (core/misc.py:449-454, he_enable_keycloak; asked with default Yes at
    # core/misc.py:310-324) and the admin password (core/misc.py:358).
    connection = env["OVEHOSTED_STORAGE/storageDomainConnection"]
    server, _, volume_name = connection.partition(":/")
    volume = state["volumes"].get(volume_name)
    pool = [state["hosts"][state["first"]]["peer"], *state["peers"]]
    if (
        env.get("OVEHOSTED_STORAGE/domainType") != "glusterfs"
        or server not in pool
        or volume is None
        or volume["status"] != "Started"
    ):
        return 1, "", False, f"[ ERROR ] Failed to mount {connection} (glusterfs)\n"
    options = env.get("OVEHOSTED_STORAGE/mntOptions") or ""
    data_center = env["OVEHOSTED_ENGINE/datacenterName"]
    cluster = env["OVEHOSTED_ENGINE/clusterName"]
    keycloak = bool(env.get("OVEHOSTED_CORE/enableKeycloak"))
    host_name = env.get("OVEHOSTED_NETWORK/host_name") or me["fqdn"]
    # The bootstrap engine adds this host (roles/hosted_engine_setup/tasks/bootstrap_local_vm/
    # 05_add_host.yml:105-140): the engine's host deploy opens its firewall rules and puts
    # vdsm's CA certificate here; vdsm runs.
    fakehost_el9.engine_host_deploy_firewall(me)
    _start_ha(me, ("vdsmd",))
    engine.update(
        fqdn=env["OVEHOSTED_NETWORK/fqdn"],
        connection=connection,
        mount_options=options,
        data_centers={data_center: "dc-1"},
        clusters={
            cluster: {
                "data_center": data_center,
                "gluster_service": bool(env.get("OVEHOSTED_ENGINE/enableHcGlusterService")),
            }
        },
        # The deploy adds this host under the name it is given (he_host_name: ovirt-hosted-
        # engine-setup-2.7.2 src/plugins/gr-he-common/network/bridge.py:227-234, APP_HOST_NAME
        # from HOST_NAME, asked at :203 with socket.getfqdn() as its default).
        hosts={
            host_name: {
                "id": "host-1",
                "status": "up",
                "cluster": cluster,
                "host_id": 1,
                "address": host_name,
                **_deployed_on(engine, me),
            }
        },
        storage_domains={
            "hosted_storage": {"id": "sd-1", "path": f"/{volume_name}", "attached": data_center}
        },
        keycloak=keycloak,
        # With Keycloak the engine's admin is admin@ovirt@internalsso, else admin@internal
        # (ovirt-ansible-collection 3.2.0-1 bootstrap_local_vm/04_engine_final_tasks.yml:53-65;
        # ovirt-engine-keycloak keycloak_usage.md:56); the SSO's token endpoint reads it.
        admin_user="admin@ovirt@internalsso" if keycloak else ADMIN,
        admin_password=env["OVEHOSTED_ENGINE/adminPassword"],
    )
    ca = root / CA.lstrip("/")
    ca.parent.mkdir(parents=True, exist_ok=True)
    ca.write_text(engine["ca_pem"])
    # The role's last tasks, in their order (tasks/create_target_vm/
    # 03_hosted_engine_final_tasks.yml); a test makes one fail with engine["deploy_fails"]:
    #   :155-162 hosted-engine.conf copied to /etc/ovirt-hosted-engine (vm.conf before it,
    #            :147-154);
    #   :186-194 the configuration archive copied to the storage ("conf_archive" fails here:
    #            nothing of the HA services runs yet);
    #   :312-351 ovirt-ha-broker and ovirt-ha-agent started, enabled;
    #   :360-415 the engine's VM up and its engine healthy ("engine_start" fails here: the VM
    #            runs, the engine in it does not answer; :413-415 is the role's message).
    # A failure runs the block's rescue, which removes nothing of it (:487-496), and the
    # setup fails its stage (ovirt_hosted_engine_setup/ansible_utils.py:239-240; otopi
    # context.py:150-156).
    fails = engine.get("deploy_fails")
    _host_config(state, root, host, 1, me["fqdn"])
    if fails == "conf_archive":
        return _deploy_failed(
            'fatal: [localhost]: FAILED! => {"changed": true, "cmd": ["dd", "bs=20480", '
            '"count=1", "oflag=direct"], "msg": "non-zero return code", "rc": 1}'
        )
    _start_ha(me)
    engine["he_vm"] = {"host_id": 1, "engine_up": fails != "engine_start"}
    if fails == "engine_start":
        return _deploy_failed(
            'fatal: [localhost]: FAILED! => {"changed": false, "msg": "The engine failed to '
            'start inside the engine VM; please check engine.log."}'
        )
    engine["deployed"] = True
    return 0, "\n[ INFO  ] Hosted Engine successfully deployed\n", True, ""


def _deploy_failed(task: str) -> Answer:
    """How the setup reports a task of the role that failed: the task's result as the otopi
    callback writes it (ovirt-hosted-engine-setup-2.7.2 src/he_ansible/callback_plugins/
    1_otopi_json.py:89-129), the rescue's own failure (03_hosted_engine_final_tasks.yml:
    491-496), then the stage (ansible_utils.py:239-240). The change is kept: what the deploy
    did up to there stays."""
    return (
        1,
        "",
        True,
        f"[ ERROR ] {task}\n"
        '[ ERROR ] fatal: [localhost]: FAILED! => {"changed": false, "msg": "The system may not '
        "be provisioned according to the playbook results: please check the logs for the issue, "
        'fix accordingly or re-deploy from scratch.\\n"}\n'
        "[ ERROR ] Failed to execute stage 'Closing up': Failed executing ansible-playbook\n",
    )


def hosted_engine(
    state: dict[str, Any], me: dict[str, Any], host: str, args: list[str], root: Path
) -> Answer:
    """`hosted-engine COMMAND` of ovirt-hosted-engine-setup 2.7.2 (src/bin/hosted-engine.in):
    it sources /etc/ovirt-hosted-engine/hosted-engine.conf when readable (:21-28), and each
    command looks at its vmid. --deploy, --check-deployed and --vm-status [--json] here."""
    command = args[0] if args else ""
    if command == "--deploy":
        return deploy(state, me, host, args, root)
    conf_file = root / HE_CONF
    conf = (
        dict(line.split("=", 1) for line in conf_file.read_text().splitlines() if "=" in line)
        if conf_file.is_file()
        else {}
    )
    if command == "--check-deployed":  # :325-339
        if conf.get("vmid"):
            return 0, "The hosted engine has been deployed\n", False, ""
        return 1, "The hosted engine has not been deployed\n", False, ""
    if command == "--vm-status" and args[1:] in ([], ["--json"]):
        return _vm_status(state, me, root, conf, args[1:] == ["--json"])
    # :584-588: anything else is "Invalid option", then the usage, exit 1.
    return (
        1,
        "Usage: hosted-engine [--help] <command> [<command-args>]\n",
        False,
        (f"Invalid option '{command}'\n"),
    )


def _engine_status(state: dict[str, Any], host_id: int) -> dict[str, str]:
    """The engine's status as the HA agent of host `host_id` stores it (ovirt-hosted-engine-ha
    v2.5.2 ovirt_hosted_engine_ha/broker/submonitors/engine_health.py): on the host running
    the VM, up with good health once hosted-engine --check-liveliness passes (:245-250), bad
    health while it fails (:236-243); elsewhere, not running on this host (:105-108)."""
    vm = state["engine"].get("he_vm")
    if vm is None or vm["host_id"] != host_id:
        return {
            "vm": "down",
            "health": "bad",
            "detail": "unknown",
            "reason": "vm not running on this host",
        }
    if vm["engine_up"]:
        return {"vm": "up", "health": "good", "detail": "Up"}
    return {"vm": "up", "health": "bad", "detail": "Up", "reason": "failed liveliness check"}


def _vm_status(
    state: dict[str, Any], me: dict[str, Any], root: Path, conf: dict[str, str], as_json: bool
) -> Answer:
    """hosted-engine --vm-status [--json] (hosted-engine.in:276-295): without a vmid "You must
    run deploy first" (exit 1; the bootstrap VM's check, :290-292, is not modelled); vm.conf
    not readable: check_vm_conf's message (:43-54). Then ovirt_hosted_engine_setup/
    vm_status.py: the HA client asks the broker over its socket; without a running broker the
    socket is not there. Plain, that prints the error and "Cannot connect to the HA daemon"
    (vm_status.py:72-85, 173-179); with --json, log_error puts the error with its newline into
    a JSON string and json.loads fails on it (:60-68), a traceback. Else each host the HA
    services know (ovirt-hosted-engine-ha v2.5.2 lib/metadata.py:191-229, live-data from the
    broker, client/client.py:72-83: the agent there runs), as JSON (vm_status.py:113-123) or
    as text (:125-165), exit 1 when no host is known (:214-217)."""
    import json

    if not conf.get("vmid"):
        return 1, "You must run deploy first\n", False, ""
    if not (root / conf.get("conf", "/nonexistent").lstrip("/")).is_file():
        agent = "ovirt-ha-agent" in me["active"]
        return (
            1,
            "The hosted engine configuration has not been retrieved from shared storage yet,\n"
            + (
                "for more details please check sanlock status.\n"
                if agent
                else "please ensure that ovirt-ha-agent service is running.\n"
            )
            + "\n",
            False,
            "",
        )
    if "ovirt-ha-broker" not in me["active"]:
        error = "[Errno 2] No such file or directory"
        if not as_json:
            return (
                1,
                "",
                False,
                f"{error}\nCannot connect to the HA daemon, please check the logs.\n"
                "An error occured while retrieving vm status, please make sure the HA daemon "
                "is ready and reachable.\nUnable to connect the HA Broker \n",
            )
        # vm_status.py:62-68, as written there.
        text = '{{"exception": "{0}"}}'.format(  # noqa: UP030
            f"{error}\nCannot connect to the HA daemon, please check the logs.\n".strip()
        )
        try:
            json.loads(text)
        except json.JSONDecodeError as e:
            failure = f"json.decoder.JSONDecodeError: {e}"
        return 1, "", False, f"Traceback (most recent call last):\n  ...\n{failure}\n"
    stats: dict[str, Any] = {}
    for host_id, machine, fqdn in state["engine"].get("ha", []):
        live = "ovirt-ha-agent" in state["hosts"][machine]["active"]
        stats[str(host_id)] = {
            "host-id": host_id,
            "host-ts": 1000,
            "score": 3400 if live else 0,  # agent/constants.py.in:55, BASE_SCORE
            "engine-status": _engine_status(state, host_id),
            "hostname": fqdn,
            "maintenance": False,
            "stopped": False,
            "crc32": "0a1b2c3d",
            "conf_on_shared_storage": True,
            "local_conf_timestamp": 1000,
            "extra": f"metadata_parse_version=1\nmetadata_feature_version=1\nhost-id={host_id}\n",
            "live-data": live,
        }
    if as_json:
        maintenance = bool(state["engine"].get("global_maintenance"))
        return 0, json.dumps({**stats, "global_maintenance": maintenance}) + "\n", False, ""
    descriptions = {
        "score": "Score",
        "engine-status": "Engine status",
        "hostname": "Hostname",
        "host-id": "Host ID",
        "host-ts": "Host timestamp",
        "live-data": "Status up-to-date",
        "extra": "Extra metadata (valid at timestamp)",
        "maintenance": "Local maintenance",
    }
    lines = []
    for host_id, host_stats in stats.items():
        lines += ["", "", f"--== Host {host_stats['hostname']} (id: {host_id}) status ==--", ""]
        for key, value in host_stats.items():
            if key == "engine-status":
                value = json.dumps(value) if host_stats["live-data"] else "unknown stale-data"
            if key != "extra":
                lines.append(f"{descriptions.get(key, key):35}: {value}")
        lines.append(f"{descriptions['extra']:35}:")
        lines += [f"\t{line}" for line in host_stats["extra"].splitlines()]
    return (0 if stats else 1), "".join(f"{line}\n" for line in lines), False, ""


# The REST API. Citations name files of oVirt/ovirt-engine at tag ovirt-engine-4.5.7 (commit
# 85cc83ecd2c9), the newest 4.5.x tag, by these prefixes:
#   restapi/  backend/manager/modules/restapi/jaxrs/src/main/java/org/ovirt/engine/api/restapi/
#   common/   backend/manager/modules/restapi/interface/common/jaxrs/src/main/java/org/ovirt/
#             engine/api/common/util/
#   Messages  backend/manager/modules/restapi/jaxrs/src/main/resources/org/ovirt/engine/api/
#             restapi/logging/Messages.properties
#   bll/      backend/manager/modules/bll/src/main/java/org/ovirt/engine/core/bll/
#   errors/   backend/manager/modules/common/src/main/java/org/ovirt/engine/core/common/errors/
#   AppErrors frontend/webadmin/modules/frontend/src/main/resources/org/ovirt/engine/ui/frontend/
#             AppErrors.properties (the backend's bundles/AppErrors.properties is this file,
#             copied at build time: backend/manager/modules/dal/pom.xml:136-152)
#   VdsmErrors backend/manager/modules/dal/src/main/resources/bundles/VdsmErrors.properties
# and the parameters' documentation in oVirt/ovirt-engine-api-model at tag 4.6.1 (commit
# caff9a9d857b, the model.version of ovirt-engine-4.5.7's pom.xml:47),
# src/main/java/services/HostsService.java.
#
# Request bodies are read and answers written with the oVirt Python SDK's own XML readers and
# writers (ovirtsdk4.readers, ovirtsdk4.writers): an element the API does not have, a misspelt
# one included, is skipped by the reader, so the field is missing, as for the engine's JAXB.
# The SDK is imported where it is used: the deploy stand-in imports this module in a Python
# started with -S, which has no site-packages.

# How the engine turns a failed action into a fault: the validation messages, translated
# ("Cannot ${action} ${type}. ..." with the VAR__ messages' values) and shown as a Java list,
# are the detail (restapi/resource/BackendResource.java:252-256 and :412-413); the reason is
# BACKEND_FAILED, "Operation Failed" (restapi/resource/BaseBackendResource.java:237-241,
# :184-185; Messages:2); the status is the message's ErrorType's: CONFLICT 409,
# BAD_PARAMETERS 400, no type 400 (restapi/util/ErrorMessageHelper.java:27-42, :55-80).
# An entity the REST layer looks up and does not find is EntityNotFoundException: 404 with
# reason "Operation Failed" and detail "Entity not found: WHAT" (restapi/resource/
# BackendResource.java:123-148, BaseBackendResource.java:162-164, :237-241; Messages:1).
Fault = tuple[int, str, str | None]


SYNTAX: Fault = (400, "Request syntactically incorrect.", None)


def _failed(detail: str, status: int) -> Fault:
    return status, "Operation Failed", f"[{detail}]"


def _not_found(what: str) -> Fault:
    return 404, "Operation Failed", f"Entity not found: {what}"


def _incomplete(model: str, missing: list[str]) -> Fault:
    """CompletenessAssertor: 400, "Incomplete parameters", "{0} {1} required for {2}" with the
    model's Java class name, the missing fields as a Java list and the resource method (common/
    CompletenessAssertor.java:32-37, :127-135). Every check here is of an add method."""
    return 400, "Incomplete parameters", f"{model} [{', '.join(missing)}] required for add"


# AppErrors texts, with ${action} and ${type} as the command sets them.
# AddVdsCommand: VAR__ACTION__ADD, VAR__TYPE__HOST ("$action add", "$type Host": AppErrors:1193,
# :1355; bll/hostdeploy/AddVdsCommand.java:118-122).
HOST_NAME_USED = (  # AppErrors:384; errors/EngineMessage.java:189 CONFLICT
    "Cannot add Host. The Host name is already in use, please choose a unique name and try again."
)
HOST_ADDRESS_USED = (  # AppErrors:610; EngineMessage.java:375 CONFLICT
    "Cannot add Host. Host with the same address already exists."
)
HOST_CANNOT_CONNECT = (  # AppErrors:1422; EngineMessage.java:495 CONFLICT
    "Cannot add Host. Connecting to host via SSH has failed, verify that the host is reachable "
    "(IP address, routable address etc.) You may refer to the engine.log file for further details."
)
HOST_CANNOT_AUTHENTICATE = (  # AppErrors:1420; EngineMessage.java:496 CONFLICT
    "Cannot add Host. SSH authentication failed, verify authentication parameters are correct "
    "(Username/Password, public-key etc.) You may refer to the engine.log file for further details."
)
# AddStorageServerConnectionCommand: the text has no variables (AppErrors:1415;
# EngineMessage.java:488 CONFLICT).
CONNECTION_HOST_NOT_UP = "Cannot add storage server connection when Host status is not up"
# An EngineError of the host's connectStorageServer: its name is the failure message, translated
# with VdsmErrors, no ErrorType, so 400 (bll/storage/connection/
# AddStorageServerConnectionCommand.java:47-53; bll/CommandBase.java:1515;
# errors/EngineError.java:255; VdsmErrors:154).
MOUNT_FAILED = "Problem while trying to mount target"
# AddStorageDomainCommand, "$type Storage" (AppErrors:1380): AppErrors:543; EngineMessage.java:353
# CONFLICT; bll/storage/domain/AddStorageDomainCommand.java:220.
DOMAIN_NAME_USED = "Cannot add Storage. The Storage Domain name is already in use."
# AttachStorageDomainToPoolCommand (bll/storage/domain/AttachStorageDomainToPoolCommand.java:313,
# :345-346): StoragePoolValidator.exists (bll/validator/storage/StoragePoolValidator.java:55-57;
# AppErrors:554, no variables; EngineMessage.java:905 BAD_PARAMETERS), then a domain in a pool
# already (bll/validator/storage/StorageDomainToPoolRelationValidator.java:103-107; AppErrors:547
# with "$action attach", AppErrors:1196; EngineMessage.java:933 CONFLICT).
NO_DATA_CENTER = "Data Center doesn't exist."
DOMAIN_IN_A_POOL = (
    "Cannot attach Storage. The relevant Storage Domain is inaccessible.\n"
    "-Please handle Storage Domain issues and retry the operation."
)

_FALSE = re.compile(r"^(f(alse)?|n(o)?|0)$", re.IGNORECASE)
_TRUE = re.compile(r"^(t(rue)?|y(es)?|1)$", re.IGNORECASE)


def _boolean(query: dict[str, list[str]], name: str, empty: bool, missing: bool) -> bool:
    """ParametersHelper.getBooleanParameter: `empty` for NAME= with no value, `missing` when the
    parameter is absent or not a boolean (restapi/util/ParametersHelper.java:34-35, :137-154)."""
    if name not in query:
        return missing
    text = query[name][0]
    if text == "":
        return empty
    if _FALSE.match(text):
        return False
    if _TRUE.match(text):
        return True
    return missing


class _Handler(http.server.BaseHTTPRequestHandler):
    """One request to the engine: the state is read from and written to the fake cluster's
    state file, as the stand-ins do, and each request recorded with the calls."""

    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, code: int, body: str = "") -> None:
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        fake = self.server.fake
        state = marshal.loads(fake.state_file.read_bytes())
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if not state["engine"].get("deployed"):
            # No engine answers at its name: before a deploy, or after one that failed before
            # the engine came up in its VM. Not modelled further: the connection is closed
            # unanswered (curl: "Empty reply from server").
            with fake.calls_file.open("a") as calls:
                call = {"host": "engine", "argv": ["engine", method, self.path], "change": False}
                calls.write(repr({**call, "code": None}) + "\n")
            self.close_connection = True
            return
        if self.path == HEALTH:
            # The health servlet: 200 and "DB Up!" then "Welcome to Health Status!" when the
            # engine reaches its database (ovirt-engine 4.5.7 backend/manager/modules/services/
            # src/main/java/org/ovirt/engine/core/services/HealthStatus.java:37-83, mapped at
            # /services/health: services/src/main/webapp/WEB-INF/web.xml:158-165).
            code, text = 200, "DB Up!Welcome to Health Status!"
        elif self.path.startswith(SSO_TOKEN):
            code, text = _token(state, method, self.headers.get("Accept", ""), body.decode())
        else:
            code, text = _respond(state, method, self.path, self.headers.get("Authorization"), body)
        # A token from the SSO changes nothing of the cluster.
        changed = (
            method in ("POST", "DELETE") and code < 300 and not self.path.startswith(SSO_TOKEN)
        )
        after = marshal.dumps(state)
        if after != fake.state_file.read_bytes():  # a change, a look that moved a host on, ...
            fake.state_file.write_bytes(after)
        with fake.calls_file.open("a") as calls:
            call = {"host": "engine", "argv": ["engine", method, self.path], "change": changed}
            calls.write(repr({**call, "code": code}) + "\n")
        self._reply(code, text)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")


class _Server(http.server.HTTPServer):
    fake: Any


def _write(name: str, obj: Any) -> str:
    """OBJ as XML by the SDK's writer ovirtsdk4.writers.NAME (a list: write_many)."""
    from ovirtsdk4 import writers
    from ovirtsdk4.xml import XmlWriter

    writer = XmlWriter(None, True)
    try:
        kind = getattr(writers, name)
        (kind.write_many if isinstance(obj, list) else kind.write_one)(obj, writer)
        return str(writer.string())
    finally:
        writer.close()


def _read(name: str, body: bytes) -> Any:
    """The request body by the SDK's reader ovirtsdk4.readers.NAME; None for a body that is not
    XML. The engine answers such a body with IOExceptionMapper's 400, whose entity is a usage
    message, "Request syntactically incorrect." (restapi/resource/validation/
    IOExceptionMapper.java:47-57, UsageFinder.java:19): here a fault with that reason."""
    from ovirtsdk4 import readers
    from ovirtsdk4.xml import XmlReader

    try:
        reader = XmlReader(io.BytesIO(body))
    except Exception:  # libxml2 cannot read a first node
        return None
    try:
        return getattr(readers, name).read_one(reader)
    except Exception:
        return None
    finally:
        reader.close()


def _fault(fault: Fault) -> tuple[int, str]:
    from ovirtsdk4 import types

    status, reason, detail = fault
    return status, _write("FaultWriter", types.Fault(reason=reason, detail=detail))


def _href(obj: Any, path: str) -> Any:
    obj.href = f"{API}/{path}/{obj.id}"
    return obj


def _search(query: dict[str, list[str]]) -> dict[str, str]:
    """The engine's search language as the scripts use it: `name=X and status=up`."""
    terms: dict[str, str] = {}
    for term in query.get("search", [""])[0].split(" and "):
        if "=" in term:
            key, value = term.split("=", 1)
            terms[key.strip()] = value.strip()
    return terms


def _token(state: dict[str, Any], method: str, accept: str, body: str) -> tuple[int, str]:
    """POST /ovirt-engine/sso/oauth/token, as oVirt's SDK calls it (ovirtsdk4 Connection.
    _get_access_token: grant_type=password, scope=ovirt-app-api, username, password, Accept
    application/json). oVirt/ovirt-engine ovirt-engine-4.5.6 backend/manager/modules/enginesso:
    servlets/OAuthTokenServlet.java:64-76 (grant types), :271-278 buildResponse (access_token,
    scope, exp, token_type "bearer"); a refusal is 400 with {"error_code", "error"} for the
    REST API's scope (service/SsoService.java:695-713), the message "Cannot authenticate user
    '%1$s@%2$s': %3$s." (resources/AppMessages.properties:6). The engine's admin is
    admin@internal, or admin@ovirt@internalsso when the deploy set Keycloak up."""
    import json

    engine = state["engine"]
    form = urllib.parse.parse_qs(body)
    if method != "POST" or "application/json" not in accept:
        return 400, json.dumps({"error_code": "server_error", "error": "bad request"})
    if form.get("grant_type") != ["password"]:
        return 400, json.dumps(
            {"error_code": "unsupported_grant_type", "error": "The grant type is not supported"}
        )
    user, password = form.get("username", [""])[0], form.get("password", [""])[0]
    admin = engine.get("admin_user", ADMIN)
    if user != admin or password != engine["admin_password"]:
        name, _, profile = user.rpartition("@")
        return 400, json.dumps(
            {
                "error_code": "access_denied",
                "error": f"Cannot authenticate user '{name}@{profile}': "
                "The username or password is incorrect..",
            }
        )
    token = f"token-{len(engine.setdefault('tokens', [])) + 1}"
    engine["tokens"].append(token)
    return 200, json.dumps(
        {
            "access_token": token,
            "scope": form.get("scope", [""])[0],
            "exp": "0",
            "token_type": "bearer",
        }
    )


def _respond(
    state: dict[str, Any], method: str, target: str, authorization: str | None, body: bytes
) -> tuple[int, str]:
    engine = state["engine"]
    url = urllib.parse.urlsplit(target)
    query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
    path = url.path.removeprefix(API)
    if not url.path.startswith(API + "/"):
        return 404, ""
    # The API takes the SSO's bearer token (with Keycloak, Apache lets nothing else through:
    # ovirt-engine-keycloak packaging/conf/internalsso-openidc.conf.in:75-78, AuthType oauth20).
    # A refused login is a 401; its body is not modelled (nothing reads it).
    tokens = engine.get("tokens", [])
    if not (authorization or "").startswith("Bearer ") or authorization[7:] not in tokens:
        return 401, ""
    parts = path.strip("/").split("/")
    if method == "GET" and parts == ["hosts"]:
        return 200, _write("HostWriter", _list_hosts(state, _search(query)))
    if method == "POST" and parts == ["hosts"]:
        return _answer(_add_host(state, query, _read("HostReader", body)), "HostWriter")
    if method == "POST" and len(parts) == 3 and parts[0] == "hosts":
        action = _read("ActionReader", body)
        if action is None:
            return _fault(SYNTAX)
        if parts[2] == "deactivate":
            return _done(_deactivate(state, parts[1]))
        if parts[2] == "install":
            return _done(_install(state, query, parts[1], action))
    if method == "DELETE" and len(parts) == 2 and parts[0] == "hosts":
        return _done(_remove_host(state, query, parts[1]))
    if method == "GET" and parts == ["events"]:
        return 200, _write("EventWriter", _list_events(engine, _search(query), query))
    if method == "GET" and parts == ["datacenters"]:
        return 200, _write("DataCenterWriter", _list_data_centers(engine, _search(query)))
    if method == "GET" and parts == ["storagedomains"]:
        return 200, _write("StorageDomainWriter", _list_domains(engine, _search(query)))
    if method == "POST" and parts == ["storagedomains"]:
        added = _add_storage_domain(state, _read("StorageDomainReader", body))
        return _answer(added, "StorageDomainWriter")
    if len(parts) == 3 and parts[0] == "datacenters" and parts[2] == "storagedomains":
        if method == "GET":
            # GetStorageDomainsByStoragePoolId: a data center that does not exist has none
            # (restapi/resource/BackendAttachedStorageDomainsResource.java:33-43).
            return 200, _write("StorageDomainWriter", _attached(engine, parts[1]))
        added = _attach(engine, parts[1], _read("StorageDomainReader", body))
        return _answer(added, "StorageDomainWriter")
    return _fault((404, "Not Found", path))


def _answer(result: Any, writer: str) -> tuple[int, str]:
    """201 Created with the new entity (restapi/resource/AbstractBackendCollectionResource.java
    :245, :258), or the fault."""
    if isinstance(result, tuple):
        return _fault(result)
    return 201, _write(writer, result)


# The engine's trust in a host it deployed. Its SSH host key: the engine stores the key it
# meets when it first connects to a host it has no fingerprint of (bll/utils/EngineSSHClient.
# java:139-145, storeHostSSHPublicKey :166-178), and later accepts no other (:158-159,
# checkPublicKey :180-194). Which of the host's keys it meets is the SSH negotiation's; the
# fake takes ssh-rsa, so a script that does not read the stored key's type fails here. Its
# VDSM: the host deploy enrolls VDSM's certificate from the engine's CA, and the engine talks
# to VDSM over TLS with it (packaging/ansible-runner-service-project/project/roles/
# ovirt-host-deploy-vdsm-certificates); a machine without that certificate (a new machine of
# the host's name) leaves the engine without a VDSM to reach.
STORED_KEY_TYPE = "ssh-rsa"


def _certify(engine: dict[str, Any], machine: dict[str, Any]) -> int:
    """The certificate the host deploy gives the machine's VDSM, as the engine knows it."""
    engine["certificates"] = engine.get("certificates", 0) + 1
    machine["vdsm_certificate"] = engine["certificates"]
    return int(engine["certificates"])


def _key_met(machine: dict[str, Any]) -> dict[str, str]:
    """The SSH host key the engine meets on a machine it holds no key of, as it stores it."""
    key = machine.get("ssh_host_keys", {}).get(STORED_KEY_TYPE)
    return {"ssh_public_key": f"{STORED_KEY_TYPE} {key}"} if key else {}


def _deployed_on(engine: dict[str, Any], machine: dict[str, Any]) -> dict[str, Any]:
    """What the engine keeps of a machine it has just added: the SSH host key it met there and
    the certificate it gave the machine's VDSM."""
    return {"certificate": _certify(engine, machine), **_key_met(machine)}


def fingerprint(public_key: str) -> str:
    """The key's fingerprint as the engine stores it: SSHDefaultKeyDigest SHA256 (packaging/
    etc/engine-config/engine-config.properties; OpenSSHUtils.getKeyFingerprint), the digest
    of the key's blob in base64 without padding after "SHA256:", as OpenSSH prints it."""
    blob = base64.b64decode(public_key.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def _status(value: str) -> Any:
    from ovirtsdk4 import types

    return types.HostStatus(value)


def _list_hosts(state: dict[str, Any], terms: dict[str, str]) -> list[Any]:
    """GET /hosts?search=...: name, address (the host_name column) and status (VDSStatus, an
    enum compared by its name without regard to case: status=up, status=installfailed,
    status=nonoperational; searchbackend/VdsConditionFieldAutoCompleter.java:100-105, :147;
    EnumValueAutoCompleter.java:16-38). The API's value is that name split by underscores
    (install_failed). A non-operational host's status_detail is its reason (restapi/types/
    HostMapper.java:227-231)."""
    from ovirtsdk4 import types

    listed = []
    for name, host in state["engine"]["hosts"].items():
        if terms.get("name", name) != name:
            continue
        if terms.get("address", host.get("address")) != host.get("address"):
            continue
        status = _look(state, name, host)
        if "status" in terms and terms["status"].upper() != status.replace("_", "").upper():
            continue
        listed.append(
            _href(
                types.Host(
                    id=host["id"],
                    name=name,
                    address=host.get("address"),
                    status=_status(status),
                    status_detail=host.get("status_detail")
                    if status == "non_operational"
                    else None,
                    # HostMapper.java:408-414: the ssh element, with the key the engine holds.
                    ssh=types.Ssh(
                        port=22,
                        fingerprint=fingerprint(host["ssh_public_key"]),
                        public_key=host["ssh_public_key"],
                    )
                    if host.get("ssh_public_key")
                    else None,
                ),
                "hosts",
            )
        )
    return listed


def _list_data_centers(engine: dict[str, Any], terms: dict[str, str]) -> list[Any]:
    from ovirtsdk4 import types

    return [
        _href(types.DataCenter(id=i, name=n, status=types.DataCenterStatus.UP), "datacenters")
        for n, i in engine["data_centers"].items()
        if terms.get("name", n) == n
    ]


def _list_domains(engine: dict[str, Any], terms: dict[str, str]) -> list[Any]:
    from ovirtsdk4 import types

    return [
        _href(types.StorageDomain(id=d["id"], name=n), "storagedomains")
        for n, d in engine["storage_domains"].items()
        if terms.get("name", n) == n
    ]


def _attached(engine: dict[str, Any], data_center_id: str) -> list[Any]:
    from ovirtsdk4 import types

    data_center = next((n for n, i in engine["data_centers"].items() if i == data_center_id), None)
    return [
        _href(
            types.StorageDomain(id=d["id"], name=n, status=types.StorageDomainStatus.ACTIVE),
            f"datacenters/{data_center_id}/storagedomains",
        )
        for n, d in engine["storage_domains"].items()
        if data_center is not None and d["attached"] == data_center
    ]


def finds_peer(peer: str, peer_address: str, name: str, resolved: str | None) -> bool:
    """Whether `gluster peer detach NAME` finds the peer known as `peer`, at `peer_address`,
    where NAME resolves to `resolved`: glusterd looks a peer up by one of its names without
    regard to case, then by each address the name resolves to (glusterfs v10.3 xlators/mgmt/
    glusterd/src/glusterd-peer-utils.c:198-232); one it does not find is "NAME is not part of
    cluster" (glusterd-handler.c:4002), opErrno 2, GF_DEPROBE_NOT_FRIEND (rpc/rpc-lib/src/
    protocol-common.h:124-127), which vdsm raises as GlusterHostNotFoundException, 4403 (vdsm
    v4.50.7 lib/vdsm/gluster/cli.py:99-112, :891-902; exception.py:327-329), the engine's
    GlusterHostIsNotPartOfCluster, which RemoveVds takes as done (EngineError.java:431;
    RemoveVdsCommand.java:336-338). Held to the real glusterd by
    tests/test_real_programs_change.py."""
    return peer.lower() == name.lower() or resolved == peer_address


def _resolve(state: dict[str, Any], address: str) -> str | None:
    """The address the engine VM's resolver gives: an IP address as it is, a name from DNS
    (the fake cluster's state["dns"]: the engine VM has no /etc/hosts lines for the hosts)."""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return state.get("dns", {}).get(address)


def _add_host(state: dict[str, Any], query: dict[str, list[str]], host: Any) -> Any:
    """POST /hosts (restapi/resource/BackendHostsResource.java:108-130), then AddVdsCommand's
    validation in its order (bll/hostdeploy/AddVdsCommand.java:323-362)."""
    from ovirtsdk4 import types

    engine = state["engine"]
    if host is None:
        return SYNTAX
    # validateParameters(host, "name", "address") (BackendHostsResource.java:110).
    missing = [field for field in ("name", "address") if not getattr(host, field)]
    if missing:
        return _incomplete("Host", missing)
    # The cluster by id or name, else the cluster "Default"; an unknown name is "Entity not
    # found: Cluster: name=NAME" (BackendHostsResource.java:36, :155-173). The fake's clusters
    # have names only.
    cluster = host.cluster.name if host.cluster is not None and host.cluster.name else "Default"
    if cluster not in engine["clusters"]:
        return _not_found(f"Cluster: name={cluster}")
    # deploy_hosted_engine: present without a value is true, absent false (restapi/resource/
    # HostResourceParametersUtil.java:8, :13-17). activate and reboot: absent is true ("Default
    # value for 'activate' and 'reboot' is true", BackendHostsResource.java:44-46, :122-126;
    # ovirt-engine-api-model HostsService.java:145, :164, :172).
    deploy = _boolean(query, "deploy_hosted_engine", True, False)
    activate = _boolean(query, "activate", True, True)
    reboot = _boolean(query, "reboot", True, True)
    # HostValidator.nameNotUsed, hostNameNotUsed (bll/validator/HostValidator.java:77-85).
    if host.name in engine["hosts"]:
        return _failed(HOST_NAME_USED, 409)
    if any(h.get("address", n) == host.address for n, h in engine["hosts"].items()):
        return _failed(HOST_ADDRESS_USED, 409)
    # canConnect: SSH to the address, then authenticate as root (AddVdsCommand.java:448-492).
    # A name the engine VM cannot resolve, or an address no host answers on, fails the
    # connection, the catch-all of AddVdsCommand.java:481-488 (the SSH client resolves the name:
    # backend/manager/modules/uutils/src/main/java/org/ovirt/engine/core/uutils/ssh/
    # SSHClient.java:254); the engine makes no other check of the name (HostValidator.
    # hostNameIsValid is its syntax only: HostValidator.java:72-75).
    resolved = _resolve(state, host.address)
    target = next(
        (
            n
            for n, h in state["hosts"].items()
            if resolved is not None and h["management"] == resolved
        ),
        None,
    )
    if target is None:
        return _failed(HOST_CANNOT_CONNECT, 409)
    if host.root_password != ROOT_PASSWORD:  # AddVdsCommand.java:464-470
        return _failed(HOST_CANNOT_AUTHENTICATE, 409)
    number = max(h["host_id"] for h in engine["hosts"].values()) + 1
    # InstallVdsInternalCommand: Installing while the host deploy runs, then with reboot
    # SshHostReboot: Reboot, then NonResponsive for the monitor to bring it Up; then
    # Initializing, so Up, or Maintenance without activate (bll/hostdeploy/
    # InstallVdsInternalCommand.java:144, :203-222; bll/SshHostRebootCommand.java:28-31, :36-42).
    # Each look of the administrator's (a listing of the host) moves it one status on.
    final = "up" if activate else "maintenance"
    # A host deploy that fails (engine["install_fails"][NAME] = the playbook's stderr, set by
    # a test): InstallVdsInternalCommand throws VdsInstallException with InstallFailed and
    # "Failed to execute Ansible host-deploy: STDERR. Please check logs for more details: LOG,
    # STDOUT" (:354-365); handleError sets the status (bll/VdsCommand.java:314-324), and the
    # command's audit log is VDS_INSTALL_FAILED, "Host ${VdsName} installation failed.
    # ${FailedInstallMessage}." (InstallVdsInternalCommand.java:121-133; dal/src/main/
    # resources/bundles/AuditLogMessages.properties:411; common/AuditLogType.java:61, 505,
    # ERROR), after VDS_ANSIBLE_INSTALL_STARTED (:343-347; AuditLogMessages:441, code 560).
    # The log is named as :336 says: host-deploy/ovirt-host-deploy-ansible-HOST-CORRELATION-
    # TIME.log.
    failure = engine.get("install_fails", {}).get(host.name)
    engine["hosts"][host.name] = {
        "id": f"host-{number}",
        "status": "installing",
        "next": ["install_failed"]
        if failure is not None
        else (["reboot", "non_responsive", final] if reboot else [final]),
        "cluster": cluster,
        "host_id": number,
        "address": host.address,
        "machine": target,
        **({} if failure is not None else _deployed_on(engine, state["hosts"][target])),
    }
    _event(
        engine,
        560,
        "normal",
        f"Ansible host-deploy playbook execution has started on host {host.name}.",
        host.name,
    )
    if failure is not None:
        log = (
            "/var/log/ovirt-engine/host-deploy/ovirt-host-deploy-ansible-"
            f"{host.address}-{number:08x}-20261204190000.log"
        )
        message = (
            f"Failed to execute Ansible host-deploy: {failure}. Please check logs for more "
            f"details: {log}, "
        )
        _event(engine, 505, "error", f"Host {host.name} installation failed. {message}.", host.name)
        return _href(
            types.Host(
                id=f"host-{number}",
                name=host.name,
                address=host.address,
                status=types.HostStatus.INSTALLING,
            ),
            "hosts",
        )
    _event(
        engine,
        561,
        "normal",
        f"Ansible host-deploy playbook execution has successfully finished on host {host.name}.",
        host.name,
    )
    # With password authentication (the REST API's default) the engine first copies its own
    # SSH public key into root's authorized_keys on the host (InstallVdsInternalCommand.java:
    # 146-148, copyEngineSshId :576-600): later installs can log in with publickey.
    state["hosts"][target]["engine_ssh_key"] = True
    if deploy:
        root = Path(state["roots"]) / target
        _host_config(state, root, target, number, state["hosts"][target]["fqdn"])
        _start_ha(state["hosts"][target])
    # Host deploy opens its firewall rules on the host: the REST API's default, as the host's
    # override_iptables is unset (VdsOperationActionParameters.java:26, overrideFirewall =
    # true; BackendHostsResource.java:116-117 changes it only when the body sets it).
    fakehost_el9.engine_host_deploy_firewall(state["hosts"][target])
    return _href(
        types.Host(
            id=f"host-{number}",
            name=host.name,
            address=host.address,
            status=types.HostStatus.INSTALLING,
        ),
        "hosts",
    )


# A host leaving the engine, as the REST API takes it (restapi/resource/BackendHostResource.
# java): deactivate (:444-450), install (:143-168), DELETE (:804-808). Their refusals, with
# ${action} and ${type} as each command sets them (MaintenanceNumberOfVdssCommand: "$action
# maintenance", "$type Host", bll/MaintenanceNumberOfVdssCommand.java:224-228, AppErrors:1229,
# :1355; UpdateVdsCommand "$action edit", bll/hostdeploy/UpdateVdsCommand.java:168-172,
# AppErrors:1265; RemoveVdsCommand "$action remove", bll/RemoveVdsCommand.java:277-281,
# AppErrors:1242). Every one is CONFLICT, 409, but the empty password, BAD_PARAMETERS, 400
# (errors/EngineMessage.java:448, :442, :1098, :493, :485, :436, :433, :1389).
IN_MAINTENANCE = (  # AppErrors:1431
    "Cannot switch Host to Maintenance mode. Host is already in Maintenance mode."
)
NOT_OPERATIONAL = (  # AppErrors:1432
    "Cannot switch Host to Maintenance mode, Host is not operational."
)
NO_HOST_FOR_ENGINE = (  # AppErrors:1425
    "Cannot switch the Host(s) to Maintenance mode.\nNone of the hosts capable of running the "
    "engine VM has score more than 0 and is in Up state."
)
NOT_RESPONDING_WITH_VMS = (  # AppErrors:1434
    "Cannot switch Host to Maintenance mode.\nHost still has running VMs on it and is in Non "
    "Responsive state."
)
NOT_RESPONDING_AND_SPM = (  # AppErrors:1433
    "Cannot switch Host to Maintenance mode.\nHost is Storage Pool Manager and is in Non "
    "Responsive state.\n- If power management is configured, engine will try to fence the "
    "host automatically.\n- Otherwise, either bring the node back up, or release the SPM "
    "resource."
)
INSTALL_NOT_IN_MAINTENANCE = (  # AppErrors:1424
    "Cannot install Host. Please move Host to Maintenance mode first."
)
INSTALL_EMPTY_PASSWORD = "Cannot install Host with empty password."  # AppErrors:1423
REMOVE_OPERATIONAL = (  # AppErrors:1443
    "Cannot remove Host. Host is operational. Please switch Host to Maintenance mode first."
)
REMOVE_RUNNING_VM = (  # AppErrors:1442
    "Cannot remove Host. One or more VMs are still running on this Host."
)
REMOVE_GLUSTER_VOLUME = "Cannot remove Host. Server having Gluster volume."  # AppErrors:1440
# MaintenanceNumberOfVdssCommand.validate, the statuses a host can go to maintenance from
# (:305-311); RemoveVdsCommand.statusLegalForRemove (:292-301); UpdateHostValidator.
# statusSupportedForHostInstallation (bll/validator/UpdateHostValidator.java:79-86).
MAINTENANCE_FROM = (
    "maintenance",
    "non_responsive",
    "up",
    "error",
    "preparing_for_maintenance",
    "down",
    "non_operational",
    "install_failed",
)
REMOVE_FROM = (
    "non_responsive",
    "maintenance",
    "down",
    "unassigned",
    "install_failed",
    "pending_approval",
    "non_operational",
    "installing_os",
)
INSTALL_FROM = ("maintenance", "non_operational", "install_failed", "installing_os")


def _by_id(engine: dict[str, Any], host_id: str) -> str | None:
    return next((n for n, h in engine["hosts"].items() if h["id"] == host_id), None)


def _done(result: Any) -> tuple[int, str]:
    """An action the engine did at once: 200 with the action, status complete (a host's
    actions start no VDSM task: restapi/resource/AbstractBackendActionableResource.java:77-97,
    :180-184; a DELETE, BackendResource.java:178-194), or the fault."""
    from ovirtsdk4 import types

    if isinstance(result, tuple):
        return _fault(result)
    return 200, _write("ActionWriter", types.Action(status="complete"))


def _runs_engine_vm(engine: dict[str, Any], host: dict[str, Any]) -> bool:
    vm = engine.get("he_vm")
    return vm is not None and vm["host_id"] == host["host_id"]


def _deactivate(state: dict[str, Any], host_id: str) -> Any:
    """POST /hosts/ID/deactivate: MaintenanceNumberOfVdss for the host (BackendHostResource.
    java:444-450), its checks in their order (MaintenanceNumberOfVdssCommand.java:264-451):
    a host the engine does not have (:277-281, "Cannot maintenance Host. Invalid Host Id.",
    AppErrors:1456, BAD_PARAMETERS); a status it cannot leave for maintenance (:305-311); the
    engine's VM running there with no other host up to take it (:321-333; an Up host whose HA
    agent runs, so its score is above 0, HostedEngineHelper.haveHostsAvailableForHE); a host
    already in maintenance (:357-358). Then the host is PreparingForMaintenance (:177-187)
    and, its VMs gone, Maintenance at the administrator's next look. The engine's VM is
    migrated by the HA agent (:321-322, :338-339): here it moves to the other host at once."""
    engine = state["engine"]
    name = _by_id(engine, host_id)
    if name is None:
        return _failed("Cannot maintenance Host. Invalid Host Id.", 400)
    host = engine["hosts"][name]
    if host["status"] not in MAINTENANCE_FROM:
        return _failed(NOT_OPERATIONAL, 409)
    if _runs_engine_vm(engine, host):
        others = [
            h
            for n, h in engine["hosts"].items()
            if n != name
            and h["status"] == "up"
            and "ovirt-ha-agent" in state["hosts"][h.get("machine", state["first"])]["active"]
        ]
        if not others:
            return _failed(NO_HOST_FOR_ENGINE, 409)
        engine["he_vm"]["host_id"] = others[0]["host_id"]
    if host["status"] == "maintenance":
        return _failed(IN_MAINTENANCE, 409)
    # A host the engine does not reach that it still counts VMs on, or holds as the SPM (a test
    # sets engine["hosts"][NAME]["vm_count"] or ["spm"]): refused until the administrator
    # confirms it rebooted (:361-366, :614-618).
    if host["status"] == "non_responsive" and host.get("vm_count"):
        return _failed(NOT_RESPONDING_WITH_VMS, 409)
    if host["status"] == "non_responsive" and host.get("spm"):
        return _failed(NOT_RESPONDING_AND_SPM, 409)
    if host["status"] in ("non_responsive", "down"):
        # A host the engine does not reach goes to maintenance at once, without
        # PreparingForMaintenance (MaintenanceNumberOfVdssCommand.java:178-180;
        # MaintenanceVdsCommand.java:100-105).
        host["status"], host["next"] = "maintenance", []
        return None
    host["status"], host["next"] = "preparing_for_maintenance", ["maintenance"]
    return None


def _install(state: dict[str, Any], query: dict[str, list[str]], host_id: str, action: Any) -> Any:
    """POST /hosts/ID/install: UpdateVds with the host installed (BackendHostResource.java:
    143-168). The host by ID, else 404 (:145; BaseBackendResource.java:162-164). The action's
    password is root_password, else ssh.user.password; authentication by password unless
    ssh.authentication_method says publickey (restapi/types/HostMapper.java:532-566;
    VdsOperationActionParameters.java:75-79). activate absent is false, reboot absent true
    (BackendHostResource.java:158-165). UpdateVdsCommand.validate (UpdateVdsCommand.java:
    122-159): a host not in maintenance (UpdateHostValidator.java:79-86), then an empty
    password with password authentication (:88-94). UpdateVds hands the install to
    InstallVdsInternal as an internal multiple action (UpdateVdsCommand.java:202-205), which
    the backend runs on a thread of its own without waiting (Backend.java:562-564,
    isWaitForResult false; PrevalidatingMultipleActionsRunner.java:98-103, :181-182): the
    API answers with the host still in maintenance, and the next look finds it Installing.
    InstallVdsInternalCommand then: Installing (InstallVdsInternalCommand.java:144), the host
    deploy playbook, whose hosted-engine role
    with undeploy_hosted_engine removes hosted-engine.conf and stops ovirt-ha-agent
    (packaging/ansible-runner-service-project/project/roles/ovirt-host-deploy-hosted-engine/
    tasks/main.yml:2-4, remove.yml:2-10; the agent stays enabled) and opens the firewall as a
    deploy does; then with reboot, Reboot and NonResponsive (:203-217); then Maintenance
    without activate (:218-222). The HA metadata on the shared storage keeps the host's entry:
    nothing of the undeploy clears it."""
    from ovirtsdk4 import types

    engine = state["engine"]
    name = _by_id(engine, host_id)
    if name is None:
        return _not_found(host_id)
    host = engine["hosts"][name]
    if host["status"] not in INSTALL_FROM:
        return _failed(INSTALL_NOT_IN_MAINTENANCE, 409)
    ssh = action.ssh
    password = action.root_password or (
        ssh.user.password if ssh is not None and ssh.user is not None else None
    )
    publickey = (
        ssh is not None and ssh.authentication_method is types.SshAuthenticationMethod.PUBLICKEY
    )
    if not publickey and not password:
        return _failed(INSTALL_EMPTY_PASSWORD, 400)
    target = host.get("machine", state["first"])
    machine = state["hosts"][target]
    if (publickey and not machine.get("engine_ssh_key")) or (
        not publickey and password != ROOT_PASSWORD
    ):
        return 400, "fakehost", "no stand-in behaviour for a host deploy that cannot log in"
    activate = (
        action.activate if action.activate is not None else _boolean(query, "activate", True, False)
    )
    reboot = action.reboot if action.reboot is not None else _boolean(query, "reboot", True, True)
    final = "up" if activate else "maintenance"
    # UpdateVds saves the host's static data as the action maps it first (UpdateVdsCommand.
    # java:176, updateVdsData): ssh.public_key and ssh.fingerprint among them (HostMapper.java:
    # 550-555).
    if ssh is not None and ssh.public_key is not None:
        host["ssh_public_key"] = ssh.public_key or None
    # The engine's SSH client then checks the host's key against the one it holds
    # (EngineSSHClient.java:131-160): another key fails the connection (Apache MINA SSHD closes
    # the session as its verifier says no), so the first step, copying the engine's key, fails
    # with "SSH session closed during connection 'root@FQDN'" (uutils/ssh/SSHClient.java:
    # 224-240, 267-278; InstallVdsInternalCommand.java:597-604), the host InstallFailed with
    # that message (:224-229; VdsCommand.java:314-324, :344-349).
    stored = host.get("ssh_public_key")
    if stored:
        kind, _, blob = stored.partition(" ")
        if machine.get("ssh_host_keys", {}).get(kind) != blob.split(" ")[0]:
            if publickey:
                return 400, "fakehost", "no stand-in behaviour for a publickey install to a new key"
            host["next"] = ["installing", "install_failed"]
            address = host.get("address", machine["fqdn"])
            _event(
                engine,
                505,
                "error",
                f"Host {name} installation failed. ssh-copy-id command failed: SSH session "
                f"closed during connection 'root@{address}'.",
                name,
            )
            return None
    else:
        host.update(_key_met(machine))
    host["next"] = ["installing", *(["reboot", "non_responsive"] if reboot else []), final]
    root = Path(state["roots"]) / target
    if not publickey:
        machine["engine_ssh_key"] = True  # InstallVdsInternalCommand.java:146-148
    host["certificate"] = _certify(engine, machine)
    if action.undeploy_hosted_engine and not action.deploy_hosted_engine:
        (root / HE_CONF).unlink(missing_ok=True)
        if "ovirt-ha-agent" in machine["active"]:
            machine["active"].remove("ovirt-ha-agent")
    elif action.deploy_hosted_engine:
        # The host deploy's hosted-engine role with deploy: hosted-engine.conf from the
        # engine's, its host_id the host's, ovirt-ha-agent started (packaging/ansible-runner-
        # service-project/project/roles/ovirt-host-deploy-hosted-engine/tasks/deploy.yml:
        # 24-42).
        _host_config(state, root, target, host["host_id"], machine["fqdn"])
        _start_ha(machine)
    fakehost_el9.engine_host_deploy_firewall(machine)
    return None


def _remove_host(state: dict[str, Any], query: dict[str, list[str]], host_id: str) -> Any:
    """DELETE /hosts/ID: the host by ID, else 404 (BackendHostResource.java:804-806), then
    RemoveVds (:807). Its checks in their order (bll/RemoveVdsCommand.java:206-275): a status
    it cannot be removed in (:217-219), a VM running there (:221-223; the engine's VM is the
    only VM of the fake), a brick of any volume on it in a cluster with the Gluster service
    (:252-259; the engine's bricks are glusterd's). Then (:111-150), the cluster having other
    hosts and the host no brick, the engine detaches it from the pool on a host that is up,
    by the address the engine knows it by (:327-338, RemoveGlusterServer with getHostName());
    a name glusterd does not know as a peer ("not part of cluster") counts as done (:336-338).
    glusterd finds a peer by one of its names or by the address the name resolves to: the
    host's FQDN on a pool probed by storage addresses is no peer's, so the peer stays. The
    host leaves the engine, and the host-remove playbook stops and disables ovirt-ha-agent and
    ovirt-ha-broker and keeps hosted-engine.conf as hosted-engine.conf.undeployed, where it is
    (packaging/ansible-runner-service-project/project/ovirt-host-remove.yml:11-42)."""
    import fakehost_gluster

    engine = state["engine"]
    name = _by_id(engine, host_id)
    if name is None:
        return _not_found(host_id)
    host = engine["hosts"][name]
    if host["status"] not in REMOVE_FROM:
        return _failed(REMOVE_OPERATIONAL, 409)
    if _runs_engine_vm(engine, host):
        return _failed(REMOVE_RUNNING_VM, 409)
    machine = state["hosts"][host.get("machine", state["first"])]
    gluster = engine["clusters"][host["cluster"]]["gluster_service"]
    if gluster and fakehost_gluster.bricks_on(state, machine["peer"]):
        return _failed(REMOVE_GLUSTER_VOLUME, 409)
    if gluster and len(engine["hosts"]) > 1:
        address = host["address"]
        peer = machine["peer"]
        if finds_peer(peer, machine["storage"], address, _resolve(state, address)):
            up = state["hosts"][state["first"]]
            code, _, _, err = fakehost_gluster.answer(state, up, ["peer", "detach", peer], None)
            if code != 0 and "is not part of cluster" not in err:
                return 400, "fakehost", f"no stand-in behaviour for a failed detach: {err}"
    del engine["hosts"][name]
    root = Path(state["roots"]) / host["machine"]
    conf = root / HE_CONF
    if conf.exists():
        for unit in ("ovirt-ha-agent", "ovirt-ha-broker"):
            for key in ("active", "enabled"):
                if unit in machine[key]:
                    machine[key].remove(unit)
        conf.with_name(conf.name + ".undeployed").write_bytes(conf.read_bytes())
        conf.unlink()
    return None


def _event(engine: dict[str, Any], code: int, severity: str, description: str, host: str) -> None:
    """An audit log entry of the engine, about a host (its vds_name)."""
    events = engine.setdefault("events", [])
    events.append(
        {
            "id": len(events) + 1,
            "code": code,
            "severity": severity,
            "description": description,
            "host": host,
        }
    )


def _list_events(
    engine: dict[str, Any], terms: dict[str, str], query: dict[str, list[str]]
) -> list[Any]:
    """GET /events: newest first (the search's default order, audit_log_id DESC:
    searchbackend/SearchObjectAutoCompleter.java:392-393; ovirt-engine-api-model 4.6.1
    services/EventsService.java:154-160), at most `max` of them (:192). The search terms
    the steps use: event_host, the host's name (vds_name), and severity, an enum compared by
    name without regard to case (searchbackend/AuditLogConditionFieldAutoCompleter.java:94,
    :140-142; EnumValueAutoCompleter.java:16-38)."""
    from ovirtsdk4 import types

    listed = []
    for event in sorted(engine.get("events", []), key=lambda e: -e["id"]):
        if terms.get("event_host", event["host"]) != event["host"]:
            continue
        if terms.get("severity", event["severity"]).upper() != event["severity"].upper():
            continue
        listed.append(
            _href(
                types.Event(
                    id=str(event["id"]),
                    code=event["code"],
                    severity=types.LogSeverity(event["severity"]),
                    description=event["description"],
                    host=types.Host(name=event["host"]),
                ),
                "events",
            )
        )
    if "max" in query:
        listed = listed[: int(query["max"][0])]
    return listed


def _look(state: dict[str, Any], name: str, host: dict[str, Any]) -> str:
    """The status the engine reports for a host, once; the host then moves on to its next
    status. Entering `reboot` the machine goes down; leaving it, the machine is back."""
    machine = state["hosts"][host.get("machine", state["first"])]
    if (
        host["status"] == "up"
        and not host.get("next")
        and "certificate" in host
        and machine.get("vdsm_certificate") != host["certificate"]
    ):
        # A VDSM the engine did not deploy does not answer it: Connecting for a grace period,
        # then NonResponsive (vdsbroker/VdsManager.java:907-935, handleNetworkException).
        host["status"], host["next"] = "connecting", ["non_responsive"]
    status = str(host["status"])
    following = host.get("next") or []
    if following:
        host["status"], host["next"] = following[0], following[1:]
        if host["status"] == "reboot":
            _machine_down(state, name, machine)
        elif status == "reboot":
            _machine_up(state, machine)
    return status


def _bricks_of(state: dict[str, Any], machine: dict[str, Any]) -> list[tuple[str, str]]:
    """(volume, brick) for every brick the machine serves."""
    return [
        (name, brick)
        for name, volume in state["volumes"].items()
        for brick in volume["bricks"]
        if brick.split(":", 1)[0] == machine["peer"]
    ]


def _machine_down(state: dict[str, Any], name: str, machine: dict[str, Any]) -> None:
    """A reboot: nothing runs on the machine, glusterd and its bricks included, until it is
    back. Every replica set left with two bricks that do not hold the volume's current data
    (offline, or back but still to be healed) is recorded in state["engine"]["quorum_lost"]."""
    machine["before_reboot"] = list(machine["active"])
    machine["active"] = []
    for volume_name, brick in _bricks_of(state, machine):
        volume = state["volumes"][volume_name]
        volume["offline"] = [*volume.get("offline", []), brick]
    for volume_name, volume in state["volumes"].items():
        replica, bricks = volume["replica"], volume["bricks"]
        for start in range(0, len(bricks), replica):
            members = bricks[start : start + replica]
            offline = [b for b in members if b in volume.get("offline", [])]
            healing = [b for b in members if b in volume.get("heal", {}) and b not in offline]
            if replica > 1 and len(offline) + len(healing) >= 2:
                state["engine"].setdefault("quorum_lost", []).append(
                    {
                        "host": name,
                        "volume": volume_name,
                        "replica_set": members,
                        "offline": offline,
                        "healing": healing,
                    }
                )


def _machine_up(state: dict[str, Any], machine: dict[str, Any]) -> None:
    """Back from the reboot: what ran before runs again, its bricks are online, and each holds
    the writes it missed as entries still to heal (fakehost_gluster.py's `heal info`)."""
    machine["active"] = machine.pop("before_reboot")
    for volume_name, brick in _bricks_of(state, machine):
        volume = state["volumes"][volume_name]
        volume["offline"] = [b for b in volume.get("offline", []) if b != brick]
        volume.setdefault("heal", {})[brick] = HEAL_ENTRIES


# What a brick that was down holds to heal when it is back: the writes it missed.
HEAL_ENTRIES = 5


def _add_storage_domain(state: dict[str, Any], domain: Any) -> Any:
    """POST /storagedomains of type glusterfs (restapi/resource/BackendStorageDomainsResource.
    java:272-338), its checks in their order."""
    from ovirtsdk4 import types

    engine = state["engine"]
    if domain is None:
        return SYNTAX
    # validateParameters(storageDomain, "host.id|name", "type", "storage") (:273).
    missing = []
    if domain.host is None or not (domain.host.id or domain.host.name):
        missing.append("host.id|name")
    missing += [field for field in ("type", "storage") if getattr(domain, field) is None]
    if missing:
        return _incomplete("StorageDomain", missing)
    storage = domain.storage
    # The host by name, "Entity not found: Hosts: name=NAME" (:277, :472-482). The fake's
    # hosts are looked up by name only.
    host = engine["hosts"].get(domain.host.name or "")
    if host is None:
        return _not_found(f"Hosts: name={domain.host.name}")
    # A new connection: storage.type, and path for a file domain (:280-285); then for
    # glusterfs, vfs_type (:318-322).
    if storage.type is None:
        return _incomplete("StorageDomain", ["hoststorage.type"])
    if storage.type is not types.StorageType.GLUSTERFS:
        return 400, "fakehost", f"no stand-in behaviour for storage type {storage.type.value}"
    if not storage.path:
        return _incomplete("HostStorage", ["path"])
    if not storage.vfs_type:
        return _incomplete("HostStorage", ["vfsType"])
    # AddStorageServerConnection through the host, before the domain (:94): the host must be
    # up (bll/storage/connection/AddStorageServerConnectionCommand.java:98-104), then it
    # mounts ADDRESS:PATH: a started volume served by a pool member.
    if host["status"] != "up":
        return _failed(CONNECTION_HOST_NOT_UP, 409)
    volume = state["volumes"].get((storage.path or "").lstrip("/"))
    pool = [state["hosts"][state["first"]]["peer"], *state["peers"]]
    if storage.address not in pool or volume is None or volume["status"] != "Started":
        return _failed(MOUNT_FAILED, 400)
    # validateParameters(model, "name") after the connection (:113).
    if not domain.name:
        return _incomplete("StorageDomain", ["name"])
    if domain.name in engine["storage_domains"]:
        return _failed(DOMAIN_NAME_USED, 409)
    number = len(engine["storage_domains"]) + 1
    engine["storage_domains"][domain.name] = {
        "id": f"sd-{number}",
        "path": storage.path,
        "attached": None,
    }
    return _href(types.StorageDomain(id=f"sd-{number}", name=domain.name), "storagedomains")


def _attach(engine: dict[str, Any], data_center_id: str, domain: Any) -> Any:
    """POST /datacenters/ID/storagedomains (restapi/resource/
    BackendAttachedStorageDomainsResource.java:50-64): the domain by id or name, then
    AttachStorageDomainToPool."""
    from ovirtsdk4 import types

    if domain is None:
        return SYNTAX
    if not (domain.id or domain.name):  # validateParameters(storageDomain, "id|name") (:52)
        return _incomplete("StorageDomain", ["id|name"])
    if domain.id:
        name = next((n for n, d in engine["storage_domains"].items() if d["id"] == domain.id), None)
        if name is None:
            return _not_found(domain.id)
    else:
        name = domain.name
        if name not in engine["storage_domains"]:  # :78-83
            return _not_found(f"Storage: name={name}")
    data_center = next((n for n, i in engine["data_centers"].items() if i == data_center_id), None)
    if data_center is None:
        return _failed(NO_DATA_CENTER, 400)
    found = engine["storage_domains"][name]
    if found["attached"] is not None:
        return _failed(DOMAIN_IN_A_POOL, 409)
    found["attached"] = data_center
    return _href(
        types.StorageDomain(id=found["id"], name=name, status=types.StorageDomainStatus.ACTIVE),
        f"datacenters/{data_center_id}/storagedomains",
    )


_CERTS: dict[str, Path] = {}


def certificates(folder: Path, fqdn: str) -> tuple[Path, Path, str]:
    """A CA and the engine's certificate for `fqdn` signed by it (openssl req/x509), made once
    per folder: (certificate chain file, key file, CA certificate in PEM)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = folder / "ca.key", folder / "ca.pem"
    key, csr, cert = folder / "engine.key", folder / "engine.csr", folder / "engine.pem"
    if not ca_cert.exists():
        quiet = {"check": True, "capture_output": True}
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=fake engine CA",
                "-keyout",
                str(ca_key),
                "-out",
                str(ca_cert),
            ],
            **quiet,
        )
        subprocess.run(
            [
                "openssl",
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                f"/CN={fqdn}",
                "-keyout",
                str(key),
                "-out",
                str(csr),
            ],
            **quiet,
        )
        (folder / "san.ext").write_text(f"subjectAltName=DNS:{fqdn}\n")
        subprocess.run(
            [
                "openssl",
                "x509",
                "-req",
                "-in",
                str(csr),
                "-CA",
                str(ca_cert),
                "-CAkey",
                str(ca_key),
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                str(folder / "san.ext"),
                "-out",
                str(cert),
            ],
            **quiet,
        )
    return cert, key, ca_cert.read_text()


@contextmanager
def serving(fake: Any, fqdn: str, cert: Path, key: Path) -> Iterator[int]:
    """The engine's API on a free port of 127.0.0.1 while the block runs; yields the port."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = fake
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    # A short poll: shutdown() waits for the loop to look, once per script run.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
