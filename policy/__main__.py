"""The policy pack: `pulumi preview --policy-pack policy` runs it beside any stack."""

from pulumi_policy import PolicyPack

from rollout_policy.rules import POLICIES

PolicyPack(name="swarm-rollout-safety", policies=POLICIES)
