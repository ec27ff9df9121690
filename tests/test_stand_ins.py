"""The gluster stand-in against the real glusterd: it must accept and refuse as glusterd does.

Every `gluster volume` command the scripts of the golden clusters and of generated clusters
make on the fake cluster is replayed, in order and with the answer the stand-in gave, on a real
glusterd (Debian's glusterfs-server) in private mount and network namespaces; so is a list of
commands glusterd refuses. The exit status must agree, command by command: a stand-in that
accepts what glusterd refuses would let a script through that fails on a real host.

One glusterd serves every host here: each host's storage name becomes an address on the
namespace's loopback (named in a bind-mounted /etc/hosts), so every brick is local to it. Two
things are rewritten, and why: brick paths move below the test's folder, keeping how they nest;
the parent folders of each brick are made, as the scripts' brick step makes them; and `force`
ends every create and add-brick, since glusterd wants it for bricks on the root
filesystem and for replica sets on one server. Neither rewrite changes a refusal compared here.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import confgen
import fakehost_gluster
from confgen.components import gluster
from fakehost import FakeCluster
from golden_cases import golden_cases
from strategies import clusters, to_toml
from test_real_programs import (
    START_GLUSTERD,
    glusterd_work,
    in_glusterd_namespace,
    require,
    run,
)

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
CASES = golden_cases("ovirt35-el7")

REPLAY = (
    START_GLUSTERD
    + r"""
while IFS= read -r line; do
    eval "set -- $line"
    gluster --mode=script "$@" >"$WORK/last.out" 2>&1
    code=$?
    printf '%s\n' "@@rc $code $line"
    cat "$WORK/last.out"
done < "$WORK/commands"
"""
)


class RealGlusterd:
    """Replays lines of gluster words on a real glusterd; answers the exit status of each."""

    def __init__(self, tmp: Path, peers: dict[str, str]) -> None:
        self.work = glusterd_work(tmp, peers)
        self.peers = peers  # storage name -> loopback address

    def brick(self, word: str) -> str:
        """host:/path -> host:<work>/bricks/host/path: the same nesting, below the test."""
        host, path = word.split(":", 1)
        moved = Path(f"{self.work}/bricks/{host}{path}")
        # glusterd makes the brick's folder, not its parents (as the scripts' step 05 does).
        moved.parent.mkdir(parents=True, exist_ok=True)
        return f"{host}:{moved}"

    def rewrite(self, words: list[str]) -> list[str]:
        words = [self.brick(w) if ":" in w and "/" in w else w for w in words]
        if words[:1] == ["volume"] and words[1:2] in (["create"], ["add-brick"]):
            words.append("force")
        return words

    def replay(self, commands: list[list[str]]) -> list[tuple[int, str]]:
        lines = [shlex.join(self.rewrite(words)) for words in commands]
        (self.work / "commands").write_text("".join(f"{line}\n" for line in lines))
        result = in_glusterd_namespace(REPLAY, work=self.work, addresses=list(self.peers.values()))
        answers: list[tuple[int, str]] = []
        for chunk in result.stdout.split("@@rc ")[1:]:
            head, _, out = chunk.partition("\n")
            answers.append((int(head.split(" ", 1)[0]), out))
        assert len(answers) == len(lines), result.stdout + result.stderr
        return answers


def _peers(plan: confgen.Plan) -> dict[str, str]:
    """Each host's storage name -> an address for it on the namespace's loopback."""
    return {
        h.peer: h.peer if h.peer[0].isdigit() else f"10.250.0.{i + 1}"
        for i, h in enumerate(plan.hosts)
    }


def _part_one(plan: confgen.Plan) -> list[list[str]]:
    """The single-brick volumes part one left on the first host."""
    commands = []
    for volume in plan.existing_volumes:
        commands.append(["volume", "create", volume.name, str(volume.bricks[0])])
        commands.append(["volume", "start", volume.name])
    return commands


def _volume_calls(fake: FakeCluster) -> list[tuple[list[str], int]]:
    """Every gluster volume command the scripts made, with the stand-in's exit status."""
    return [
        ([w for w in call["argv"][1:] if not w.startswith("-")], call["code"])
        for call in fake.calls()
        if call["argv"][:2] == ["gluster", "volume"]
    ]


def _check_runbook_against_glusterd(text: str, tmp: Path) -> None:
    fake = FakeCluster.rendered(tmp, text)
    plan = fake.plan
    fake.run_through(plan.steps[-1].number + 1)
    calls = _volume_calls(fake)
    assert any(words[1] == "create" for words, _ in calls)
    real = RealGlusterd(tmp, _peers(plan))
    answers = real.replay(_part_one(plan) + [words for words, _ in calls])
    setup, replayed = answers[: len(_part_one(plan))], answers[len(_part_one(plan)) :]
    assert all(code == 0 for code, _ in setup), setup
    for (words, fake_code), (real_code, real_out) in zip(calls, replayed, strict=True):
        assert (fake_code == 0) == (real_code == 0), (words, fake_code, real_code, real_out)


@pytest.mark.parametrize("case", CASES)
def test_every_volume_command_of_the_runbook_gets_glusterds_answer(
    case: str, tmp_path: Path
) -> None:
    _check_runbook_against_glusterd((GOLDEN / case / "cluster.toml").read_text(), tmp_path)


@settings(
    max_examples=2 if os.environ.get("CI") else 1,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=clusters(max_hosts=6))
def test_generated_runbooks_get_glusterds_answers(
    data: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    _check_runbook_against_glusterd(to_toml(data), tmp_path_factory.mktemp("replay"))


# Commands glusterd refuses (or accepts) after the setup below; the stand-in must agree.
SETUP = [
    ["volume", "create", "one", "p1:/b/one"],
    ["volume", "start", "one"],
    ["volume", "create", "rep", "replica", "3", "p1:/b/rep", "p2:/b/rep", "p3:/b/rep"],
    ["volume", "start", "rep"],
]
PROBES = [
    ["volume", "create", "r1", "replica", "1", "p1:/b/r1"],
    ["volume", "create", "all", "p1:/b/all"],
    ["volume", "create", "dup", "replica", "2", "p1:/b/dup", "p1:/b/dup"],
    ["volume", "create", "nested", "p2:/b/rep/inner"],
    ["volume", "create", "outer", "p3:/b"],
    ["volume", "create", "odd", "replica", "3", "p1:/b/odd", "p2:/b/odd"],
    ["volume", "create", "rep", "p1:/b/again"],
    ["volume", "create", "elsewhere", "p1:/b/elsewhere"],
    ["volume", "add-brick", "rep", "p1:/b/rep2", "p2:/b/rep2"],
    ["volume", "add-brick", "one", "replica", "3", "p2:/b/one"],
    ["volume", "add-brick", "one", "replica", "3", "p2:/b/one", "p3:/b/one"],
    ["volume", "start", "rep"],
    ["volume", "info", "missing"],
    ["volume", "heal", "one", "full"],
    ["volume", "heal", "rep", "full"],
    ["volume", "rebalance", "rep", "status"],
    ["volume", "rebalance", "rep", "fix-layout", "start"],
    ["volume", "add-brick", "rep", "p1:/b/set2", "p2:/b/set2", "p3:/b/set2"],
    ["volume", "rebalance", "rep", "status"],
    ["volume", "rebalance", "rep", "fix-layout", "start"],
    ["volume", "rebalance", "rep", "status"],
    ["volume", "add-brick", "rep", "replica", "2", "p1:/b/less"],
]


def test_the_stand_in_refuses_what_glusterd_refuses(tmp_path: Path) -> None:
    peers = {"p1": "10.250.0.1", "p2": "10.250.0.2", "p3": "10.250.0.3"}
    real = RealGlusterd(tmp_path, peers)
    answers = real.replay(SETUP + PROBES)
    assert all(code == 0 for code, _ in answers[: len(SETUP)]), answers[: len(SETUP)]
    state: dict[str, Any] = {
        "first": "h1",
        "peers": ["p2", "p3"],
        "volumes": {},
        "hosts": {
            f"h{i}": {"peer": f"p{i}", "active": ["glusterd"], "mounts": {"/": "brick-fs"}}
            for i in (1, 2, 3)
        },
    }
    me = state["hosts"]["h1"]
    for words in SETUP:
        assert (
            fakehost_gluster.answer(state, me, words + ["force"] * (words[1] == "create"))[0] == 0
        )
    disagree = []
    for words, (real_code, real_out) in zip(PROBES, answers[len(SETUP) :], strict=True):
        forced = [*words, "force"] if words[1] in ("create", "add-brick") else words
        fake_code = fakehost_gluster.answer(state, me, forced)[0]
        if (fake_code == 0) != (real_code == 0):
            disagree.append((words, fake_code, real_code, real_out))
    assert disagree == []
    # The probes are worth something only if glusterd both accepts and refuses among them.
    codes = [code == 0 for code, _ in answers[len(SETUP) :]]
    assert codes.count(False) >= 10 and codes.count(True) >= 4, codes


def _seed_fake(tmp_path: Path, host: str) -> tuple[FakeCluster, dict[str, str]]:
    """The seed's fake cluster, and the environment to call its stand-ins as `host`."""
    fake = FakeCluster.rendered(tmp_path, (GOLDEN / "seed-3host" / "cluster.toml").read_text())
    return fake, {**os.environ, **fake.host_env(host)}


# The util-linux programs the brick step asks about a device, as the scripts call them. Each is
# run on a real loop device and on the stand-in, in the states the scripts tell apart.
# lsblk's output goes to /dev/null in the scripts: only its exit status counts.
DEVICE_QUERIES = [
    ["lsblk", "--nodeps", "--noheadings", "{device}"],
    ["blkid", "-p", "-o", "export", "{device}"],
    ["wipefs", "--no-act", "{device}"],
    ["blkid", "-s", "UUID", "-o", "value", "{device}"],
    # The el9 brick step asks the type alone of the logical volume.
    ["blkid", "-p", "-s", "TYPE", "-o", "value", "{device}"],
]
STATUS_ONLY = {"lsblk"}


def _answer(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, bool]:
    """An exit status, and whether anything was printed: what the scripts look at."""
    result = run(*argv, env=env)
    return result.returncode, bool(result.stdout.strip())


def test_the_device_stand_ins_answer_as_util_linux_does(tmp_path: Path) -> None:
    losetup = require("losetup", "mount")
    mkswap = require("mkswap", "util-linux")
    wipefs = require("wipefs", "util-linux")
    image = tmp_path / "disk.img"
    image.write_bytes(b"\0" * (64 << 20))
    attached = run(losetup, "--find", "--show", str(image))
    if attached.returncode != 0:
        message = f"no loop device: {attached.stderr.strip()}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    device = attached.stdout.strip()
    try:
        fake, env = _seed_fake(tmp_path, "host2")

        def compare(signature: str) -> list[Any]:
            fake.state["hosts"]["host2"]["devices"] = {device: signature}
            fake.save()
            differ = []
            for query in DEVICE_QUERIES:
                argv = [w.format(device=device) for w in query]
                real = _answer(argv)
                stand_in = _answer([str(fake.bin / argv[0]), *argv[1:]], env)
                if argv[0] in STATUS_ONLY:
                    real, stand_in = (real[0], False), (stand_in[0], False)
                if real != stand_in:
                    differ.append((signature or "empty", argv, real, stand_in))
            return differ

        differences = compare("")  # a new, empty disk
        run(mkswap, device)  # any signature: the scripts must then refuse to format
        differences += compare("swap")
        assert run(wipefs, "--all", device).returncode == 0  # what CONFGEN_WIPE_DEVICE does
        differences += compare("")
        missing = "/dev/confgen-no-such-device"
        real, stand_in = (
            _answer(["lsblk", "--nodeps", "--noheadings", missing])[0],
            _answer([str(fake.bin / "lsblk"), "--nodeps", "--noheadings", missing], env)[0],
        )
        if real != stand_in:
            differences.append(("missing", missing, real, stand_in))
        assert differences == [], "\n".join(map(str, differences))
    finally:
        run(losetup, "--detach", device)


def test_mountpoint_answers_as_util_linux_does(tmp_path: Path) -> None:
    mountpoint = require("mountpoint", "util-linux")
    fake, env = _seed_fake(tmp_path, "host1")
    fake.state["hosts"]["host1"]["mounts"] = {"/proc": "proc"}
    fake.save()
    for path in ("/proc", str(tmp_path)):
        for quiet in (["-q"], []):
            real = run(mountpoint, *quiet, path)
            stand_in = run(str(fake.bin / "mountpoint"), *quiet, path, env=env)
            assert (path, real.returncode, real.stdout) == (
                path,
                stand_in.returncode,
                stand_in.stdout,
            )


def test_mount_and_umount_fail_where_the_real_ones_do(tmp_path: Path) -> None:
    """mount -t glusterfs (mount.glusterfs) with no mount point or no glusterd to serve the
    volume, and umount of what is not mounted: the real ones fail, and so must the stand-ins."""
    require("mount.glusterfs", "glusterfs-client")
    fake, env = _seed_fake(tmp_path, "host2")
    folder = tmp_path / "mnt"
    folder.mkdir()
    (fake.root("host2") / folder.relative_to("/")).mkdir(parents=True)
    missing = tmp_path / "no-such-folder"
    calls = [
        ["mount", "-t", "glusterfs", "localhost:/meta", str(missing)],
        ["mount", "-t", "glusterfs", "localhost:/meta", str(folder)],
        ["umount", str(folder)],
    ]
    for argv in calls:
        real = run("timeout", "30", *argv).returncode
        stand_in = run(str(fake.bin / argv[0]), *argv[1:], env=env).returncode
        assert (argv, real != 0) == (argv, stand_in != 0)
        assert real != 0, argv


def test_the_volfile_name_limit_is_glusterds(tmp_path: Path) -> None:
    """confgen refuses a brick whose volfile name is longer than VOLFILE_NAME_MAX; the real
    glusterd creates a volume at that length and fails one byte past it (half-way through,
    which is why `check` must refuse it first)."""
    peers = {"p1": "10.250.0.1"}
    real = RealGlusterd(tmp_path, peers)

    def brick_of_length(volume: str, length: int) -> str:
        # The brick's path after RealGlusterd moves it below the test's folder.
        prefix = f"{real.work}/bricks/p1/"
        fill = length - len(gluster.volfile_name(volume, "p1", prefix))
        return f"p1:/{'d' * fill}"

    at_limit = ["volume", "create", "fits", brick_of_length("fits", gluster.VOLFILE_NAME_MAX)]
    past = ["volume", "create", "over", brick_of_length("over", gluster.VOLFILE_NAME_MAX + 1)]
    for words, length in (
        (at_limit, gluster.VOLFILE_NAME_MAX),
        (past, gluster.VOLFILE_NAME_MAX + 1),
    ):
        moved = real.rewrite(words)[3]
        assert len(gluster.volfile_name(words[2], "p1", moved.split(":", 1)[1])) == length
    (fits, _), (over, over_out) = real.replay([at_limit, past])
    assert fits == 0
    assert over != 0 and "Failed to create volume files" in over_out, over_out
