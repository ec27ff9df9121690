"""The undo of the volume step against the real glusterd (Debian's glusterfs-server 10.3).

glusterd runs in private mount and network namespaces as in tests/test_stand_ins.py; the
three hosts' storage names are addresses on its loopback, so one glusterd holds every brick,
and the bricks of each host lie below a folder of its own on a tmpfs (so glusterd's refusal of
bricks on the root filesystem does not apply, and no `force` is needed: `force` would also
skip the very check shown here, glusterfs v10.3 glusterd-utils.c:1587-1592). The generated
undo scripts run unchanged, each as its host (CONFGEN_THIS_HOST, CONFGEN_ROOT the host's
folder), with the real gluster, getfattr, setfattr and rm.

What is shown, in order: a volume created, started, stopped and deleted leaves its brick
folders marked, and a new create on them is refused ("is already part of a volume"); a create
refused on one marked brick marks the bricks staged before it; the undo scripts, host by host,
delete what exists and clear every brick; the same creates are then accepted. A second round
of the undo scripts finds nothing to do. `gluster volume info` lists nothing once the volumes
are gone ("No volumes present"), as the gluster stand-in says.

glusterd's refusal to detach a peer holding bricks ("Peer HOST hosts one or more bricks") needs
a second glusterd: tests/test_real_programs_pool.py shows it on a pool of real glusterds.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import confgen
import fakehost_gluster
from confgen.components import gluster
from fakehost import FakeCluster
from golden_cases import GOLDEN
from test_real_programs import START_GLUSTERD, glusterd_work, in_glusterd_namespace, require

EL9 = (GOLDEN / "el9-3host" / "cluster.toml").read_text()

SCRIPT = (
    START_GLUSTERD
    + r"""
mount -t tmpfs bricks "$WORK/roots"
for folder in $BRICK_PARENTS; do mkdir -p "$folder"; done
say() { printf '@@ %s\n' "$*"; }
# Each command's standard error follows its standard output, each line marked "stderr: ".
g() {
    say "gluster $*"
    gluster --mode=script "$@" 2>"$WORK/stderr"
    code=$?
    sed 's/^/stderr: /' "$WORK/stderr"
    say "rc $code"
}
undo() {
    for host in $UNDO_HOSTS; do
        say "undo $host"
        CONFGEN_THIS_HOST=$host CONFGEN_CONFIRM=$host CONFGEN_ROOT="$WORK/roots/$host" \
            bash "$OUT/hosts/$host/undo/$UNDO_SCRIPT" 2>"$WORK/stderr"
        code=$?
        sed 's/^/stderr: /' "$WORK/stderr"
        say "rc $code"
    done
}
eval "$COMMANDS"
"""
)


def _outcomes(stdout: str) -> list[tuple[str, int, str]]:
    """(what ran, its exit status, what it printed), in order."""
    found = []
    what, text = "", []
    for line in stdout.splitlines():
        if line.startswith("@@ rc "):
            found.append((what, int(line.split()[2]), "\n".join(text)))
            text = []
        elif line.startswith("@@ "):
            what, text = line[3:], []
        else:
            text.append(line)
    return found


def test_the_volume_undo_clears_what_glusterd_refuses(tmp_path: Path) -> None:
    require("getfattr", "attr")
    cluster = confgen.loads(EL9)
    out = tmp_path / "out"
    confgen.write_tree(confgen.render(cluster), out)
    plan = confgen.plan(cluster)
    peers = {h.peer: f"10.250.0.{i + 1}" for i, h in enumerate(plan.hosts)}
    work = glusterd_work(tmp_path, peers)
    (work / "roots").mkdir()
    roots = work / "roots"

    def brick(b: gluster.Brick) -> str:
        return f"{b.peer}:{roots}/{b.host}{b.path}"

    def create(v: gluster.VolumePlan) -> str:
        return f"g volume create {v.name} replica {v.replica} " + " ".join(
            shlex.quote(brick(b)) for b in v.bricks
        )

    engine, data = plan.volumes
    step = plan.first_step("volumes")
    codes_of_the_stand_in = _on_the_fake_cluster(tmp_path / "fake", step, engine, data)
    undo_hosts = " ".join(s.host for s in step.failure.scripts)
    # The brick of data on the last host marked by an earlier attempt.
    marked = f"{roots}/{data.bricks[-1].host}{data.bricks[-1].path}"
    commands = "\n".join(
        [
            # A volume's life: created, started, stopped, deleted; its bricks stay marked.
            create(engine),
            f"g volume start {engine.name}",
            f"g volume stop {engine.name}",
            f"g volume delete {engine.name}",
            "g volume info",
            create(engine),
            # A create refused half-way: the last brick of data was marked before.
            f"mkdir -p {shlex.quote(marked)}",
            f"setfattr -n trusted.glusterfs.volume-id -v 0x01 {shlex.quote(marked)}",
            create(data),
            "undo",
            "g volume info",
            create(engine),
            create(data),
            f"g volume start {engine.name}",
            f"g volume stop {engine.name}",
            # The undo again: engine (stopped) and data (created) deleted, bricks cleared.
            "undo",
            "undo",
            create(engine),
            create(data),
            "g volume info",
        ]
    )
    parents = " ".join(
        shlex.quote(str(Path(f"{roots}/{b.host}{b.path}").parent))
        for v in plan.volumes
        for b in v.bricks
    )
    result = in_glusterd_namespace(
        SCRIPT,
        work=work,
        addresses=list(peers.values()),
        OUT=str(out),
        COMMANDS=commands,
        BRICK_PARENTS=parents,
        UNDO_HOSTS=undo_hosts,
        UNDO_SCRIPT=step.script,
    )
    outcomes = _outcomes(result.stdout)
    log = result.stdout + result.stderr
    codes = [code for _, code, _ in outcomes]
    assert len(outcomes) == 24, log
    # created, started, stopped, deleted: each accepted; then nothing is left...
    assert codes[:4] == [0, 0, 0, 0], log
    # glusterd 10.3 says so on standard error, and exits 0.
    assert outcomes[4][1:] == (0, "stderr: No volumes present"), log
    # ...but the bricks are: the same create is refused.
    assert codes[5] != 0 and "is already part of a volume" in outcomes[5][2], log
    # The create of data is refused at the marked brick...
    assert codes[6] != 0 and f"{marked} is already part of a volume" in outcomes[6][2], log
    # ...and the undo on every host clears what both left.
    assert [what for what, _, _ in outcomes[7:10]] == [f"undo {h}" for h in undo_hosts.split()]
    assert codes[7:10] == [0, 0, 0], log
    assert outcomes[10][1:] == (0, "stderr: No volumes present"), log
    assert codes[11:15] == [0, 0, 0, 0], log  # both created again, engine started and stopped
    # The undo deletes both (engine stopped, data never started) and clears every brick...
    assert codes[15:18] == [0, 0, 0], log
    assert "volume delete: engine: success" in outcomes[15][2], log
    assert "volume delete: data: success" in outcomes[15][2], log
    # ...and a second round finds nothing to do.
    assert codes[18:21] == [0, 0, 0], log
    assert all("nothing to undo" in text for _, _, text in outcomes[18:21]), log
    assert codes[21:23] == [0, 0], log
    assert "Volume Name: engine" in outcomes[23][2] and "Volume Name: data" in outcomes[23][2]
    # The gluster stand-in and the undo scripts on the fake cluster: the same answers.
    assert codes_of_the_stand_in == codes, (codes_of_the_stand_in, codes)


def _on_the_fake_cluster(
    base: Path,
    step: confgen.planner.Step,
    engine: gluster.VolumePlan,
    data: gluster.VolumePlan,
) -> list[int]:
    """The exit status of each command of the test above, on the fake cluster: the gluster
    stand-in asked as the first host, the undo scripts run as each host."""
    fake = FakeCluster.rendered(base, EL9)
    fake.run_through(step.number)
    plan = fake.plan
    first = plan.first.name
    undo_hosts = [s.host for s in step.failure.scripts]
    codes: list[int] = []

    def g(*words: str) -> None:
        code, _, _, _ = fakehost_gluster.answer(fake.state, fake.state["hosts"][first], list(words))
        codes.append(code)
        fake.save()

    def create(v: gluster.VolumePlan) -> None:
        g("volume", "create", v.name, "replica", str(v.replica), *(str(b) for b in v.bricks))

    def undo() -> None:
        for host in undo_hosts:
            codes.append(fake.run_undo(host, step.script, CONFGEN_CONFIRM=host).returncode)

    create(engine)
    g("volume", "start", engine.name)
    g("volume", "stop", engine.name)
    g("volume", "delete", engine.name)
    g("volume", "info")
    create(engine)
    last = data.bricks[-1]
    fake.state["hosts"][last.host]["xattrs"][last.path] = {fakehost_gluster.VOLUME_ID: "1"}
    fake.save()
    create(data)
    undo()
    g("volume", "info")
    create(engine)
    create(data)
    g("volume", "start", engine.name)
    g("volume", "stop", engine.name)
    undo()
    undo()
    create(engine)
    create(data)
    g("volume", "info")
    return codes
