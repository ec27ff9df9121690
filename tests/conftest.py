import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=30, deadline=None)
# CI: the same examples on every run (a red run is reproduced by running it again), and a
# failure prints the blob that replays it with @reproduce_failure.
settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# The tier of each test module, as a marker (registered in pyproject.toml): the fast loop
# leaves out the tiers that run the generated scripts (README.md, "Tests").
TIERS = {
    "test_api.py": "unit",
    "test_bench.py": "unit",
    "test_brick_storage.py": "unit",
    "test_cli.py": "unit",
    "test_hosted_engine_setup.py": "unit",
    "test_imports.py": "unit",
    "test_input_safety.py": "unit",
    "test_packaging.py": "unit",
    "test_readme.py": "unit",
    "test_planner.py": "unit",
    "test_records.py": "unit",
    "test_schema.py": "unit",
    "test_templating.py": "unit",
    "test_target_gluster_only.py": "unit",
    "test_validate.py": "unit",
    "test_validate_el9.py": "unit",
    "test_write.py": "unit",
    "test_golden.py": "golden",
    "test_frame.py": "golden",
    "test_properties.py": "property",
    "test_properties_el9.py": "property",
    "test_real_programs.py": "real_programs",
    "test_real_programs_el9.py": "real_programs",
    "test_stand_ins.py": "real_programs",
    "test_stand_ins_el9.py": "real_programs",
    "test_real_programs_undo.py": "real_programs",
    "test_stand_ins_preflight.py": "real_programs",
    "test_real_programs_pool.py": "real_programs",
    "test_real_programs_change.py": "real_programs",
    "test_change.py": "unit",
    "test_change_fake.py": "fake_cluster",
    "test_change_golden.py": "golden",
    "test_change_properties.py": "property",
    "test_change_fake_properties.py": "fake_cluster",
    "test_stand_ins_el7.py": "unit",
    "test_checks.py": "fake_cluster",
    "test_scripts.py": "fake_cluster",
    "test_scripts_el9.py": "fake_cluster",
    "test_undo.py": "fake_cluster",
    "test_stamp.py": "fake_cluster",
    "test_preflight.py": "fake_cluster",
    "test_target_gluster_only_run.py": "fake_cluster",
    "test_cluster.py": "e2e",
    "test_change_cluster.py": "e2e",
}


def pytest_itemcollected(item: pytest.Item) -> None:
    """Each test's tier, as a marker, while it is collected."""
    module = item.path.name
    if module not in TIERS:
        raise pytest.UsageError(f"{module} has no tier: add it to TIERS in tests/conftest.py")
    item.add_marker(TIERS[module])
    # A property test of any tier is also in the property tier.
    if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
        item.add_marker("property")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite golden/<case>/expected from the current templates; review the diff",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


# The tiers that run programs of this machine itself (glusterd in namespaces, the containers of
# tests/e2e) run one after another on one pytest-xdist worker; every other test goes to any.
# (pytest-xdist's own grouping, `--dist loadgroup`, renames each test's node ID, which pytest
# 9.2 no longer reads back.)
ON_THIS_MACHINE = ("real_programs", "e2e")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    from xdist.scheduler import LoadScopeScheduling

    class ThisMachineInTurn(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
            return "this-machine" if TIERS.get(module) in ON_THIS_MACHINE else nodeid

    return ThisMachineInTurn(config, log)
