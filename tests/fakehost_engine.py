"""The hosted engine of the target ovirt45-el9 on the fake cluster (see fakehost.py).

Two parts. `deploy` stands in for `hosted-engine --deploy` of ovirt-hosted-engine-setup 2.7
(oVirt 4.5) on the first host: it makes the engine VM, whose engine then adds that host, so
afterwards the host has the hosted-engine configuration and vdsm's certificates. `Engine` is
the engine's REST API (oVirt 4.5, API version 4) over HTTPS, a server in the test's process;
the scripts reach it with the real curl, which a .curlrc in the fake cluster's HOME points at
the server (connect-to), checking the server's certificate against the CA the deploy put on
the host. Its answers follow the API's documentation (RHV 4.4 REST API Guide, whose XML
examples show `<data_center href="/ovirt-engine/api/datacenters/123" id="123">`) and
ovirt-engine's REST resources (BackendAttachedStorageDomainsResource.add takes a storage
domain by id or name).
"""

from __future__ import annotations

import base64
import http.server
import marshal
import os
import ssl
import subprocess
import sys
import threading
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Answer = tuple[int, str, bool, str]

ADMIN = "admin@internal"
# What the administrator types: the engine's admin password at the deploy, and each host's
# root password when the engine adds it. The fake cluster's hosts all have this one.
ADMIN_PASSWORD = "engine-admin-secret"
ROOT_PASSWORD = "root secret <&>"
CA = "/etc/pki/vdsm/certs/cacert.pem"
API = "/ovirt-engine/api"


def _host_config(root: Path, host_id: int, connection: str, options: str, ca_pem: str) -> None:
    """What a hosted-engine host has once deployed: hosted-engine.conf (ovirt-hosted-engine-ha's
    configuration, one key a line) and vdsm's CA certificate, which the engine's host deploy
    puts there."""
    conf = root / "etc/ovirt-hosted-engine/hosted-engine.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(
        f"host_id={host_id}\ndomainType=glusterfs\nstorage={connection}\nmnt_options={options}\n"
    )
    ca = root / CA.lstrip("/")
    ca.parent.mkdir(parents=True, exist_ok=True)
    ca.write_text(ca_pem)


def _start_ha(me: dict[str, Any]) -> None:
    for unit in ("vdsmd", "ovirt-ha-agent", "ovirt-ha-broker"):
        for key in ("enabled", "active"):
            if unit not in me[key]:
                me[key].append(unit)


def _read_line(hidden: bool) -> str:
    """One line the administrator types at the deploy's terminal; EOFError at the end."""
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    _write("\n")  # the terminal's echo of the Enter key, which the captured output lacks
    return line.rstrip("\n")


def _write(text: str) -> None:
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
    started volume served by a pool member. A host deployed already refuses ("hosted-engine is
    already deployed")."""
    import hosted_engine_setup as hes

    if not args or args[0] != "--deploy":
        return 1, "", False, f"Invalid option '{args[0] if args else ''}'\n"
    engine = state["engine"]
    if (root / "etc/ovirt-hosted-engine/hosted-engine.conf").exists():
        return 1, "", False, "[ ERROR ] hosted-engine is already deployed\n"
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
        env = hes.converse(answers, os.environ, read_line, _write)
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
    _host_config(root, 1, connection, options, engine["ca_pem"])
    _start_ha(me)
    engine.update(
        deployed=True,
        data_centers={data_center: "dc-1"},
        clusters={
            cluster: {
                "data_center": data_center,
                "gluster_service": bool(env.get("OVEHOSTED_ENGINE/enableHcGlusterService")),
            }
        },
        # The deploy adds this host under a name of its own choosing (he_host_name).
        hosts={me["fqdn"]: {"id": "host-1", "status": "up", "cluster": cluster, "host_id": 1}},
        storage_domains={
            "hosted_storage": {"id": "sd-1", "path": f"/{volume_name}", "attached": data_center}
        },
        connection=connection,
        mount_options=options,
        keycloak=keycloak,
        # With Keycloak the engine's admin signs in as admin@ovirt@internalsso, else as
        # admin@internal (oVirt 4.5 engine-setup); the REST part reads it.
        admin_user="admin@ovirt@internalsso" if keycloak else "admin@internal",
        admin_password=env["OVEHOSTED_ENGINE/adminPassword"],
    )
    return 0, "\n[ INFO  ] Hosted Engine successfully deployed\n", True, ""


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
        body = self.rfile.read(length).decode() if length else ""
        code, text = _respond(state, method, self.path, self.headers.get("Authorization"), body)
        changed = method == "POST" and code < 300
        after = marshal.dumps(state)
        if after != fake.state_file.read_bytes():  # a change, or a deploy that finished
            fake.state_file.write_bytes(after)
        with fake.calls_file.open("a") as calls:
            call = {"host": "engine", "argv": ["engine", method, self.path], "change": changed}
            calls.write(repr({**call, "code": code}) + "\n")
        self._reply(code, text)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")


class _Server(http.server.HTTPServer):
    fake: Any


def _fault(reason: str, detail: str) -> str:
    return f"<fault><reason>{reason}</reason><detail>{_escape(detail)}</detail></fault>"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _search(query: dict[str, list[str]]) -> dict[str, str]:
    """The engine's search language as the scripts use it: `name=X and status=up`."""
    terms: dict[str, str] = {}
    for term in query.get("search", [""])[0].split(" and "):
        if "=" in term:
            key, value = term.split("=", 1)
            terms[key.strip()] = value.strip()
    return terms


def _host_status(host: dict[str, Any]) -> str:
    """A host the engine adds is `installing` while its deploy runs; the fake cluster's deploy
    takes one look from the administrator to finish."""
    if host["status"] == "installing":
        host["status"] = "up"
        return "installing"
    return str(host["status"])


def _respond(
    state: dict[str, Any], method: str, target: str, authorization: str | None, body: str
) -> tuple[int, str]:
    engine = state["engine"]
    url = urllib.parse.urlsplit(target)
    query = urllib.parse.parse_qs(url.query)
    path = url.path.removeprefix(API)
    if not url.path.startswith(API + "/"):
        return 404, ""
    expected = "Basic " + base64.b64encode(f"{ADMIN}:{engine['admin_password']}".encode()).decode()
    if authorization != expected:
        return 401, _fault("Unauthorized", "")
    if method == "GET" and path == "/hosts":
        terms = _search(query)
        listed = ""
        for name, host in engine["hosts"].items():
            if terms.get("name", name) != name:
                continue
            status = _host_status(host)
            if terms.get("status", status) != status:
                continue
            listed += (
                f'<host href="{API}/hosts/{host["id"]}" id="{host["id"]}">'
                f"<name>{_escape(name)}</name><status>{status}</status></host>"
            )
        return 200, f"<hosts>{listed}</hosts>" if listed else "<hosts/>"
    if method == "POST" and path == "/hosts":
        return _add_host(state, query, body)
    if method == "GET" and path == "/datacenters":
        name = _search(query).get("name")
        listed = "".join(
            f'<data_center href="{API}/datacenters/{i}" id="{i}">\n<name>{_escape(n)}</name>\n'
            "<status>up</status>\n</data_center>\n"
            for n, i in engine["data_centers"].items()
            if name in (None, n)
        )
        return 200, f"<data_centers>\n{listed}</data_centers>\n"
    if method == "GET" and path == "/storagedomains":
        name = _search(query).get("name")
        listed = "".join(
            f'<storage_domain href="{API}/storagedomains/{d["id"]}" id="{d["id"]}">'
            f"<name>{_escape(n)}</name></storage_domain>"
            for n, d in engine["storage_domains"].items()
            if name in (None, n)
        )
        return 200, f"<storage_domains>{listed}</storage_domains>"
    if method == "POST" and path == "/storagedomains":
        return _add_storage_domain(state, body)
    parts = path.strip("/").split("/")
    if len(parts) == 3 and parts[0] == "datacenters" and parts[2] == "storagedomains":
        data_center = next((n for n, i in engine["data_centers"].items() if i == parts[1]), None)
        if data_center is None:
            return 404, _fault("Not Found", f"Entity not found: {parts[1]}")
        if method == "GET":
            listed = "".join(
                f'<storage_domain href="{API}/datacenters/{parts[1]}/storagedomains/{d["id"]}"'
                f' id="{d["id"]}"><name>{_escape(n)}</name><status>active</status>'
                "</storage_domain>"
                for n, d in engine["storage_domains"].items()
                if d["attached"] == data_center
            )
            return 200, f"<storage_domains>{listed}</storage_domains>"
        # validateParameters(storageDomain, "id|name"), then AttachStorageDomainToPool.
        element = ET.fromstring(body)
        name = element.findtext("name")
        domain = engine["storage_domains"].get(name or "")
        if domain is None:
            return 404, _fault("Not Found", f"Entity not found: Storage: name={name}")
        if domain["attached"] is not None:
            return 409, _fault("Operation Failed", "Storage Domain already attached")
        domain["attached"] = data_center
        return 201, f'<storage_domain id="{domain["id"]}"><name>{name}</name></storage_domain>'
    return 404, _fault("Not Found", path)


def _add_host(state: dict[str, Any], query: dict[str, list[str]], body: str) -> tuple[int, str]:
    """POST /hosts?deploy_hosted_engine=true: the engine logs in to the address as root with
    the password given, installs it into the cluster and, with deploy_hosted_engine, deploys
    the hosted-engine configuration there (HostResourceParametersUtil). It refuses a name in
    use, a cluster it does not have and a root login that fails."""
    engine = state["engine"]
    element = ET.fromstring(body)
    name = element.findtext("name") or ""
    address = element.findtext("address") or ""
    password = element.findtext("root_password")
    cluster = element.findtext("cluster/name") or ""
    if name in engine["hosts"]:
        return 409, _fault(
            "Operation Failed",
            "[Cannot add Host. The Host name is already in use, please choose a unique name "
            "and try again.]",
        )
    if cluster not in engine["clusters"]:
        return 404, _fault("Not Found", f"Entity not found: Cluster: name={cluster}")
    target = next(
        (h for h, info in state["hosts"].items() if address in (info["fqdn"], info["management"])),
        None,
    )
    if target is None or password != ROOT_PASSWORD:
        return 400, _fault(
            "Operation Failed",
            "[Cannot add Host. SSH authentication failed, verify authentication parameters "
            "are correct (Username/Password, public-key etc.) You may refer to the engine.log "
            "file for further details.]",
        )
    host_id = max(h["host_id"] for h in engine["hosts"].values()) + 1
    engine["hosts"][name] = {
        "id": f"host-{host_id}",
        "status": "installing",
        "cluster": cluster,
        "host_id": host_id,
    }
    if query.get("deploy_hosted_engine") == ["true"]:
        root = Path(state["roots"]) / target
        _host_config(root, host_id, engine["connection"], engine["mount_options"], engine["ca_pem"])
        _start_ha(state["hosts"][target])
    return 201, f'<host href="{API}/hosts/host-{host_id}" id="host-{host_id}"/>'


def _add_storage_domain(state: dict[str, Any], body: str) -> tuple[int, str]:
    """POST /storagedomains of type glusterfs: the host named must be up in the engine; it
    mounts ADDRESS:PATH, so the volume must be started and served by a pool member. A name
    in use is refused."""
    engine = state["engine"]
    element = ET.fromstring(body)
    name = element.findtext("name") or ""
    host = element.findtext("host/name") or ""
    address = element.findtext("storage/address") or ""
    path = element.findtext("storage/path") or ""
    if name in engine["storage_domains"]:
        return 409, _fault(
            "Operation Failed", "[Cannot add Storage. The Storage Domain name is already in use.]"
        )
    if engine["hosts"].get(host, {}).get("status") != "up":
        return 404, _fault("Not Found", f"Entity not found: Host: name={host}")
    volume = state["volumes"].get(path.lstrip("/"))
    pool = [state["hosts"][state["first"]]["peer"], *state["peers"]]
    if (
        element.findtext("storage/type") != "glusterfs"
        or address not in pool
        or volume is None
        or volume["status"] != "Started"
    ):
        return 400, _fault(
            "Operation Failed", f"[Problem while trying to mount target {address}:{path}]"
        )
    number = len(engine["storage_domains"]) + 1
    engine["storage_domains"][name] = {"id": f"sd-{number}", "path": path, "attached": None}
    return 201, f'<storage_domain href="{API}/storagedomains/sd-{number}" id="sd-{number}"/>'


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
