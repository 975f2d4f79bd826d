"""A program of the user's own: the keys its stack sets under its namespace, and how what two
programs register is compared (the package in a clean virtualenv, the component provider)."""

from __future__ import annotations

import json
from typing import Any

from offline_runner.mock_program import DeclaredProgram, run_program
from offline_runner.stack_config import project

NAMESPACE = "shop"
# What the program's stack sets under its namespace.
KEYS = {
    "appName": "shop",
    "appImage": "registry.example.com/acme/shop",
    "imageTag": "v3",
    "realReplicas": "3",
    "nginxNextUpstreamTries": "4",
}


def namespaced(keys: dict[str, str], namespace: str) -> dict[str, str]:
    return {f"{namespace}:{key}": value for key, value in keys.items()}


def this_program(keys: dict[str, str], stack: str = "dev") -> DeclaredProgram:
    """This repository's program, with Pulumi.yaml's defaults as the CLI merges them, and ``keys``."""
    name, defaults = project()
    return run_program(namespaced({**defaults, **keys}, name), stack)


def comparable(resources: list[list[Any]]) -> list[tuple[str, str, str]]:
    """(type, name, inputs as JSON) in a stable order (registrations interleave), the
    dynamic providers' pickles left out: they carry code, not values."""
    return sorted(
        (type_, name, json.dumps({k: v for k, v in inputs.items() if k != "__provider"}, sort_keys=True, default=str))
        for type_, name, inputs in resources
    )
