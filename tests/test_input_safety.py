"""No input, however hostile or broken, escapes its quoting or ends in a traceback."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

import confgen
from confgen.cli import main
from confgen.targets.ovirt35_el7 import defaults as seed
from fakehost import FakeCluster
from strategies import clusters, el9_clusters, hostile_strings, to_toml

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
SEED_TEXT = (GOLDEN / "seed-3host" / "cluster.toml").read_text()
SPLIT_TEXT = (GOLDEN / "split-6host" / "cluster.toml").read_text()
GOLDEN_TEXTS = sorted(p.read_text() for p in GOLDEN.glob("*/cluster.toml"))

# Every free-text field of a cluster file: (where in the data, the key path a problem names).
FIELDS: list[tuple[tuple[Any, ...], str]] = [
    (("hosts", 1, "name"), "hosts[1].name"),
    (("hosts", 1, "fqdn"), "hosts[1].fqdn"),
    (("hosts", 1, "brick_device"), "hosts[1].brick_device"),
    (("hosts", 1, "interfaces", "lan", "nic"), "hosts[1].interfaces.lan.nic"),
    (("networks", 0, "name"), "networks[0].name"),
    (("ctdb", "mount_hostname"), "ctdb.mount_hostname"),
    (("ctdb", "mount_point"), "ctdb.mount_point"),
    (("ctdb", "meta_volume"), "ctdb.meta_volume"),
    (("ctdb", "recovery_lock"), "ctdb.recovery_lock"),
    (("ctdb", "vips", 0, "nic"), "ctdb.vips[0].nic"),
    (("gluster", "brick_fs", "pool"), "gluster.brick_fs.pool"),
    (("gluster", "brick_fs", "volume"), "gluster.brick_fs.volume"),
    (("gluster", "brick_fs", "mount_point"), "gluster.brick_fs.mount_point"),
    (("gluster", "brick_fs", "fstype"), "gluster.brick_fs.fstype"),
    (("gluster", "volumes", 0, "name"), "gluster.volumes[0].name"),
    (("gluster", "volumes", 0, "brick_dir"), "gluster.volumes[0].brick_dir"),
    (("firewall", "extra_rules", 0, "service"), "firewall.extra_rules[0].service"),
    (("packages", "release_rpm"), "packages.release_rpm"),
    (("packages", "install", 0), "packages.install[0]"),
    (("hosted_engine", "volume"), "hosted_engine.volume"),
    (("hosted_engine", "domain_type"), "hosted_engine.domain_type"),
]


def _seed_with(where: tuple[Any, ...], value: str) -> dict[str, Any]:
    data = copy.deepcopy(tomllib.loads(SEED_TEXT))
    data.setdefault(
        "gluster",
        {
            "brick_fs": {},
            "volumes": [
                {"name": "engine", "existing": True},
                {"name": "data", "existing": True},
                {"name": "meta"},
            ],
        },
    )
    data["gluster"].setdefault("brick_fs", {})
    data.setdefault("firewall", {"extra_rules": [{"service": "web", "ports": 8080}]})
    # Whatever the first package becomes, the packages the scripts need stay listed.
    data.setdefault("packages", {"install": ["screen", *(p for p, _ in seed.REQUIRED_PACKAGES)]})
    data.setdefault("hosted_engine", {})
    node: Any = data
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    return data


@settings(
    max_examples=300 if os.environ.get("CI") else 60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(field=st.sampled_from(FIELDS), value=hostile_strings)
@example(
    field=(("packages", "release_rpm"), "packages.release_rpm"),
    value="http://mirror.example/x;reboot&$HOME*",
)
@example(field=(("packages", "install", 0), "packages.install[0]"), value="a+b")
@example(field=(("networks", 0, "name"), "networks[0].name"), value="a")
@example(
    field=(("packages", "release_rpm"), "packages.release_rpm"),
    value="http://mirror.example/$confgen_unset/ovirt-release35.rpm",
)
def test_hostile_strings_are_rejected_by_path_or_stay_one_quoted_word(
    field: tuple[tuple[Any, ...], str], value: str, tmp_path: Path
) -> None:
    where, path = field
    text = to_toml(_seed_with(where, value))
    try:
        cluster = confgen.loads(text)
        problems = confgen.validate(cluster)
    except confgen.LoadError as exc:
        problems = exc.problems
    errors = [p for p in problems if p.severity is confgen.Severity.ERROR]
    if errors:
        # A network's name is a key of every host's interfaces: a well-formed new name leaves
        # them naming the old one, and that is where the error is, listing the new name.
        renamed = path.startswith("networks[") and path.endswith(".name")
        assert any(
            p.path == path
            or (renamed and p.path.startswith("hosts[") and f"networks are: {value}" in p.message)
            for p in errors
        ), (path, value, [str(p) for p in errors])
        return

    files = confgen.render(cluster)
    run_dir = tmp_path / f"run{abs(hash((path, value)))}"
    confgen.write_tree(files, run_dir / "out")
    for name, file in files.items():
        if name.endswith(".sh"):
            checked = subprocess.run(
                ["bash", "-n", str(run_dir / "out" / name)], capture_output=True
            )
            assert checked.returncode == 0, (name, checked.stderr)
        if "\n" in value or "\r" in value:
            assert value not in file.text, name  # a line break never lands in any file
    if path.startswith("packages."):
        # Run the script that uses these values on a fake host that records every call.
        fake = FakeCluster(run_dir / "fake", run_dir / "out", confgen.plan(cluster))
        result = fake.run("host2", "03-install-packages.sh")
        assert result.returncode == 0, result.stderr
        yum_calls = [argv for _, argv in fake.changes() if argv[0] == "yum"]
        assert any(value in argv[1:] for argv in yum_calls), (value, yum_calls)
        if path == "packages.release_rpm":
            assert ["yum", "localinstall", "-y", value] in yum_calls
        assert not Path("/tmp/confgen-pwned").exists()


def _paths(data: Any, prefix: str = "") -> set[str]:
    """Every key path of parsed TOML data, in the form problems use."""
    found = {prefix} if prefix else {""}
    if isinstance(data, dict):
        for key, value in data.items():
            found |= _paths(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found |= _paths(value, f"{prefix}[{i}]")
    return found


def _parent(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""


@st.composite
def mutated_files(draw: st.DrawFn) -> str:
    """A golden cluster file with one mutation: a key deleted, a value of another type or a
    random string or number, an unknown key, or the text cut short."""
    text = draw(st.sampled_from(GOLDEN_TEXTS))
    kind = draw(st.sampled_from(["delete", "retype", "unknown", "truncate"]))
    if kind == "truncate":
        return text[: draw(st.integers(min_value=0, max_value=len(text)))]
    data = tomllib.loads(text)
    paths = sorted(p for p in _paths(data) if p)
    target = draw(st.sampled_from(paths))
    parent: Any = data
    keys = _split(target)
    for key in keys[:-1]:
        parent = parent[key]
    last = keys[-1]
    if kind == "delete":
        if isinstance(parent, list):
            del parent[last]
        else:
            del parent[last]
    elif kind == "retype":
        parent[last] = draw(
            st.one_of(
                st.integers(min_value=-(2**63), max_value=2**63 - 1),
                st.booleans(),
                st.text(max_size=20),
                st.lists(st.integers(), max_size=2),
                st.dictionaries(st.sampled_from(["a", "name", "x"]), st.integers(), max_size=2),
            )
        )
    else:
        container = parent[last] if isinstance(parent[last], dict) else data
        container[draw(st.sampled_from(["nmae", "extra", "hosts_", "adress", "zz"]))] = 1
    return to_toml(data)


def _split(path: str) -> list[Any]:
    keys: list[Any] = []
    for part in path.replace("[", ".[").split("."):
        if part.startswith("["):
            keys.append(int(part[1:-1]))
        elif part:
            keys.append(part)
    return keys


@settings(
    max_examples=2000 if os.environ.get("CI") else 200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(text=mutated_files())
def test_mutated_inputs_exit_0_or_1_naming_a_path_of_the_input(
    text: str, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path_factory.getbasetemp() / "mutated.toml"
    file.write_text(text)
    code = main(["check", str(file)])  # an uncaught exception fails the test: no traceback
    capsys.readouterr()
    assert code in (0, 1)
    try:
        problems = confgen.validate(confgen.loads(text))
    except confgen.LoadError as exc:
        problems = exc.problems
    errors = [p for p in problems if p.severity is confgen.Severity.ERROR]
    assert (code == 1) == bool(errors)
    try:
        known = _paths(tomllib.loads(text))
    except tomllib.TOMLDecodeError:
        assert [(p.message.startswith("not valid TOML"), p.line is not None) for p in errors] == [
            (True, True)
        ]
        return
    for problem in errors:
        # A default volume has no key in the file: its problems name `gluster.volumes`, where
        # the file would list it, and say it is a default.
        default = problem.path == "gluster.volumes" and "(a default)" in problem.message
        assert default or problem.path in known or _parent(problem.path) in known, (
            str(problem),
            text,
        )


def _plain_and_detailed(raw: dict[str, Any]) -> tuple[Any, Any]:
    """What the plain reader and cattrs' detailed converter read from parsed TOML ("refused"
    for a refusal)."""
    import cattrs
    from cattrs.errors import ForbiddenExtraKeysError

    from confgen import loader, targets

    name = raw.get("target", targets.DEFAULT)
    if not isinstance(name, str) or name not in targets.NAMES:
        return "refused", "refused"  # refused before either reader (loader.py, _target)
    target = targets.get(name)
    rest = {key: value for key, value in raw.items() if key not in target.refused}
    try:
        plain = loader._reader(target.cluster)(rest)
    except Exception:
        plain = "refused"
    try:
        detailed = loader._detailed().structure(rest, target.cluster)
    except (cattrs.BaseValidationError, ForbiddenExtraKeysError):
        detailed = "refused"
    return plain, detailed


@pytest.mark.parametrize(
    "golden", sorted(GOLDEN.glob("*/cluster.toml")), ids=lambda p: p.parent.name
)
def test_the_plain_reader_and_cattrs_agree_on_every_value_of_a_golden_file_of_any_shape(
    golden: Path,
) -> None:
    """Each value of the file in turn replaced by a value of every TOML shape."""
    data = tomllib.loads(golden.read_text())
    shapes = ["x", "", 7, True, ["x"], [1], [], {"x": 1}, {"name": "x"}, {}]
    for path in sorted(p for p in _paths(data) if p and p != "target"):
        keys = _split(path)
        for shape in shapes:
            mutated = copy.deepcopy(data)
            parent = mutated
            for key in keys[:-1]:
                parent = parent[key]
            parent[keys[-1]] = copy.deepcopy(shape)
            plain, detailed = _plain_and_detailed(mutated)
            assert plain == detailed, (path, shape)


@settings(
    max_examples=1000 if os.environ.get("CI") else 200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    text=mutated_files()
    | (clusters() | el9_clusters()).map(to_toml)
    | st.recursive(
        st.dictionaries(st.sampled_from(["hosts", "networks", "name", "target"]), st.integers()),
        lambda inner: st.dictionaries(st.text(max_size=4), inner | st.lists(inner), max_size=3),
        max_leaves=6,
    ).map(to_toml)
)
def test_the_plain_reader_refuses_what_cattrs_refuses_and_reads_the_rest_alike(text: str) -> None:
    """A file the plain reader accepts is never read by cattrs (confgen/loader.py): it must
    accept exactly what cattrs' detailed converter accepts, and read it to the same cluster."""
    from confgen import targets

    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return
    target = raw.get("target", targets.DEFAULT)
    if not isinstance(target, str) or target not in targets.NAMES:
        return  # refused before either reader (loader.py, _target)
    plain, detailed = _plain_and_detailed(raw)
    event("refused" if detailed == "refused" else "read")
    assert plain == detailed


def test_a_load_error_names_its_file(tmp_path: Path) -> None:
    path = tmp_path / "cluster.toml"
    path.write_text('target = "ovirt35-el7"\nnam = 1\n')
    with pytest.raises(confgen.LoadError) as raised:
        confgen.load(path)
    assert raised.value.source == str(path)
    assert f"\n{path}:2: nam: unknown key" in str(raised.value), str(raised.value)
    assert f"{path}: hosts: required key is missing" in str(raised.value).splitlines()


def test_a_bug_in_a_load_hook_is_not_reported_as_a_problem_in_the_file() -> None:
    """Only what cattrs raises for bad data becomes a problem; anything else is confgen's bug
    and goes up as it is, not as "has the wrong type"."""
    from confgen import loader as load

    def broken(value: object, _type: object) -> str:
        raise ZeroDivisionError("a bug")

    text = (Path(__file__).resolve().parents[1] / "golden/seed-3host/cluster.toml").read_text()

    def readers_anew() -> None:  # both readers take their leaves from LEAVES when made
        load._reader.cache_clear()
        load._detailed.cache_clear()

    leaf = load.LEAVES[str]
    load.LEAVES[str] = load.Leaf(read=broken, schema=leaf.schema)
    readers_anew()
    try:
        with pytest.raises(ZeroDivisionError):
            confgen.loads(text)
    finally:
        load.LEAVES[str] = leaf
        readers_anew()
    assert confgen.loads(text).hosts[0].name == "host1"


def _cli(*args: str, stdin: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it, with a time limit: a read that hangs is a failure."""
    return subprocess.run(
        [sys.executable, "-m", "confgen", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


def _says_without_traceback(result: subprocess.CompletedProcess[str], words: str) -> None:
    assert result.returncode == 1, result
    assert words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_only_a_regular_file_of_bounded_size_is_read(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    _says_without_traceback(_cli("check", str(fifo)), "not a regular file (a FIFO)")
    _says_without_traceback(_cli("check", "/dev/zero"), "not a regular file (a character device)")
    _says_without_traceback(_cli("check", str(tmp_path)), "not a regular file (a folder)")
    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * (16 << 20) + "\n")
    _says_without_traceback(_cli("check", str(big)), "larger than 16 MiB")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deep"),
        ("a = " + "{b = " * 3000 + "1" + "}" * 3000 + "\n", "nested too deep"),
        ("target = " + "7" * 5000 + "\n", "4300"),
    ],
)
def test_hostile_toml_is_a_problem_not_a_traceback(text: str, words: str) -> None:
    _says_without_traceback(_cli("check", "-", stdin=text), words)


def test_a_huge_value_is_quoted_short() -> None:
    huge = "h" * (1 << 20)
    result = _cli("check", "-", stdin=SEED_TEXT.replace('"host2.osas.lab"', f'"{huge}"'))
    _says_without_traceback(result, "hosts[1].fqdn: ")
    assert len(result.stderr) < 2000, len(result.stderr)


def test_check_reads_standard_input_and_init_writes_standard_output(tmp_path: Path) -> None:
    example = _cli("init", "-", cwd=tmp_path)
    assert example.returncode == 0 and list(tmp_path.iterdir()) == []
    checked = _cli("check", "-", stdin=example.stdout)
    assert (checked.returncode, checked.stdout) == (0, "-: valid\n")
    broken = _cli("check", "-", stdin=example.stdout.replace("host_id = 2", "host_id = 1"))
    assert broken.stderr.startswith("<stdin>:"), broken.stderr


def test_init_never_writes_through_a_symbolic_link(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.toml"
    link = tmp_path / "cluster.toml"
    link.symlink_to(target)  # dangling
    for args in (("init", str(link)), ("init", "--force", str(link))):
        _says_without_traceback(_cli(*args), "is a symbolic link")
    assert not target.exists() and link.is_symlink()


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085"])
def test_line_numbers_count_only_the_line_ends_toml_counts(separator: str) -> None:
    text = SEED_TEXT.replace(
        "# The first host", f"# a comment{separator}with a separator\n# The first host"
    )
    text = text.replace('name = "host2"', 'nam = "host2"')
    result = _cli("check", "-", stdin=text)
    line = text.split("\n").index('nam = "host2"') + 1
    assert f"<stdin>:{line}: hosts[1].nam: unknown key" in result.stderr, result.stderr


@pytest.mark.parametrize(
    "text",
    [
        "[" + ".".join(["a"] * 100_000) + "]\n",
        ".".join(["a"] * 100_000) + " = 1\n",
        "x = { " + ".".join(["a"] * 100_000) + " = 1 }\n",
        '[[hosts]]\n"a" . "b".' + ".".join(["c"] * 40) + " = 1\n",
    ],
)
def test_a_key_of_thousands_of_dotted_parts_is_refused_before_parsing(text: str) -> None:
    started = time.monotonic()
    result = _cli("check", "-", stdin=text)
    assert time.monotonic() - started < 8
    _says_without_traceback(result, "a key of more than 32 dotted parts")
    assert result.stderr.startswith("<stdin>:"), result.stderr


@pytest.mark.parametrize(
    "text",
    [
        "".join(f"k{i} = 1\n" for i in range(300_000)),
        "a = [" + "1," * 300_000 + "]\n",
        "a = [" + "#\n" * 300_000 + "]\n",
        "[[a]]\n" * 300_000,
    ],
)
def test_a_file_of_more_keys_and_values_than_a_cluster_needs_is_refused_before_parsing(
    text: str,
) -> None:
    started = time.monotonic()
    result = _cli("check", "-", stdin=text)
    assert time.monotonic() - started < 8
    _says_without_traceback(result, "more than the 250,000 confgen reads")


def test_a_cluster_of_3000_hosts_is_within_the_bounds(tmp_path: Path) -> None:
    bench = GOLDEN.parent / "bench" / "gen.py"
    for target in ("ovirt35-el7", "ovirt45-el9"):
        path = tmp_path / f"{target}.toml"
        subprocess.run(
            [sys.executable, str(bench), "--target", target, "3000", str(path)], check=True
        )
        assert len(confgen.load(path).hosts) == 3000


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        (
            ('fqdn = "host2.osas.lab"', "fqdn = 1979-05-02T07:32:00"),
            "hosts[1].fqdn: the date 1979-05-02T07:32:00 is not a string; put it in quotes",
        ),
        (('fqdn = "host2.osas.lab"', "fqdn = 1979-05-02"), "the date 1979-05-02 is not a string"),
        (('fqdn = "host2.osas.lab"', "fqdn = 07:32:00"), "the time 07:32:00 is not a string"),
        (('fqdn = "host2.osas.lab"', "fqdn = true"), "hosts[1].fqdn: true is not a string"),
        (("host_id = 2", "host_id = 1979-05-02"), "the date 1979-05-02 is not an integer"),
        (
            ('fqdn = "host2.osas.lab"', 'fqdn = { a = 1, "b c" = true }'),
            "hosts[1].fqdn: { a = 1, 'b c' = true } is not a string",
        ),
    ],
)
def test_messages_say_values_as_toml_does_not_as_python(edit: tuple[str, str], said: str) -> None:
    result = _cli("check", "-", stdin=SEED_TEXT.replace(*edit, 1))
    _says_without_traceback(result, said)
    assert "datetime" not in result.stderr and "True" not in result.stderr


def test_a_single_bracket_header_for_a_list_of_tables_says_how_to_write_it() -> None:
    lines = SEED_TEXT.split("\n")
    hosts = [n for n, line in enumerate(lines) if line == "[[hosts]]"]
    fix = "declares one table, but hosts is a list of tables: write [[hosts]] (two brackets)"
    for n in hosts:  # any one of them, the first (tomllib says another thing) or a later one
        edited = [*lines[:n], "[hosts]", *lines[n + 1 :]]
        result = _cli("check", "-", stdin="\n".join(edited))
        assert result.stderr == f"<stdin>:{n + 1}: [hosts] {fix} above each entry\n"
    # All of them: [hosts] declared three times.
    result = _cli("check", "-", stdin=SEED_TEXT.replace("[[hosts]]", "[hosts]"))
    assert result.stderr == f"<stdin>:{hosts[0] + 1}: [hosts] {fix} above each entry\n"
    # One host, as [hosts]: a table where a list belongs, said with its key.
    one = [*lines[: hosts[0]], "[hosts]", *lines[hosts[0] + 1 : hosts[1]], *lines[hosts[2] + 7 :]]
    result = _cli("check", "-", stdin="\n".join(one))
    _says_without_traceback(
        result, "hosts: is one table, where a list belongs: write [[hosts]] (two brackets)"
    )


def test_tomllib_messages_name_keys_as_toml_does() -> None:
    result = _cli("check", "-", stdin=SEED_TEXT + "\n[ctdb]\nx = 1\n")
    _says_without_traceback(result, "[ctdb] is declared twice (TOML allows each table once)")
    assert "('" not in result.stderr
    result = _cli("check", "-", stdin=SEED_TEXT.replace("host_id = 2", "host_id = 2\nhost_id = 3"))
    _says_without_traceback(result, "this key is set above already (TOML allows each key once)")


@pytest.mark.parametrize("key", ['"ho\\u0000st"', '"a\\nb"', '"x\\u202Ey"'])
def test_a_key_holding_a_control_character_is_printed_escaped_with_its_line(key: str) -> None:
    text = SEED_TEXT.replace('name = "host2"', f'name = "host2"\n{key} = 1')
    line = text.split("\n").index(f"{key} = 1") + 1
    result = _cli("check", "-", stdin=text)
    escaped = key.strip('"').replace("\\u", "\\u").replace("\\n", "\\u000A")
    assert result.stderr.splitlines() == [
        f"<stdin>:{line}: hosts[1].{escaped.upper() if False else escaped}: unknown key; "
        + result.stderr.split("unknown key; ", 1)[1].rstrip("\n")
    ], result.stderr
    assert "\x00" not in result.stderr and "\u202e" not in result.stderr


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", 'target = "ovirt45-el9"\n'])
def test_an_empty_file_points_to_confgen_init(text: str) -> None:
    result = _cli("check", "-", stdin=text)
    option = " --target ovirt45-el9" if "el9" in text else ""
    assert result.returncode == 1
    assert result.stderr.endswith(
        f"; `confgen init{option} cluster.toml` writes an example to start from\n"
    ), result.stderr
    assert result.stderr.startswith("<stdin>:1: the file ")


def test_loads_takes_text_or_utf8_bytes_and_says_what_else_it_takes(tmp_path: Path) -> None:
    assert confgen.loads(SEED_TEXT.encode()) == confgen.loads(SEED_TEXT)
    assert confgen.loads(bytearray(SEED_TEXT.encode())) == confgen.loads(SEED_TEXT)
    with pytest.raises(confgen.LoadError, match="not UTF-8 text"):
        confgen.loads(b"\xff\xfe")
    for wrong in (None, 3, ["a"]):
        with pytest.raises(
            TypeError,
            match="loads\\(\\) takes the text of a cluster file, as str or as UTF-8 bytes, not",
        ):
            confgen.loads(wrong)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="load\\(\\) takes the path of a cluster file"):
            confgen.load(wrong)  # type: ignore[arg-type]
