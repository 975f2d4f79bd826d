"""The top component's args: grouped as the config keys are, every group defaulted."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import pulumi

from offline_runner.mock_program import mock_digest, run_program
from offline_runner.resource_types import SERVICE
from offline_runner.stack_config import project
from swarm_zero_downtime.components.deployment import ZeroDowntimeDeploymentArgs
from swarm_zero_downtime.settings import StackSettings, load_settings, project_defaults
from tests.support.consumer import namespaced
from tests.unit.conftest import service

CONSUMER = Path(__file__).with_name("consumer_program.py")


def test_the_groups_are_the_settings_sections_and_default_to_a_stack_that_sets_nothing():
    fields = [f.name for f in dataclasses.fields(ZeroDowntimeDeploymentArgs)]
    assert fields == [f.name for f in dataclasses.fields(StackSettings)]
    defaulted = ZeroDowntimeDeploymentArgs()
    for name in fields:
        assert getattr(defaulted, name) == getattr(project_defaults(), name), name
    assert project_defaults().app.image == "windowforsun/test-web:latest"
    assert project_defaults().tls.certificate is None


def test_another_program_sets_only_its_app_and_gets_the_whole_stack(dev):
    shop = run_program({}, "prod", program=CONSUMER)
    image = "ghcr.io/acme/shop:v3"
    for role in ("real", "backup"):
        container = service(shop, f"shop-{role}").inputs["taskSpec"]["containerSpec"]
        assert container["image"] == f"{image}@{mock_digest(image)}"
    assert shop.outputs["url"] == "http://localhost:80/"
    # The same resources as a stack of this project with the defaults, under the consumer's name.
    assert Counter(r.type for r in shop.resources) == Counter(r.type for r in dev.resources)
    assert len(shop.of_type(SERVICE)) == 4


def test_from_settings_takes_every_group_a_stack_sets(namespaced_config):
    name, defaults = project()
    namespaced_config(namespaced(defaults, name))
    settings = load_settings(pulumi.Config(name))
    assert vars(ZeroDowntimeDeploymentArgs.from_settings(settings)) == vars(settings)
