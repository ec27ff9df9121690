"""Components: each a program or a part of the procedure that targets share (Gluster, CTDB,
the hosted engine, iptables, firewalld, the package manager, the brick storage, SELinux).

A component holds its domain once: its model fragment, its rules, its plan facts, its checks
and its template data. A target (`confgen.targets.<name>`) composes the components it needs,
sets their defaults and versions, and orders the steps. The core (loader, validator, planner,
context, renderer, writer) names no component; a component imports the core, never a target.
"""
