"""Targets that exist for the tests alone: composed from confgen's components, registered
with `confgen.targets.register` by the tests that use them, never shipped."""
