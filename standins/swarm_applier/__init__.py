"""A test harness that stands in for `pulumi up` on a real Docker Swarm.

There is no Pulumi engine or docker provider plugin on the CI machines, so the
end-to-end tests run the real program under Pulumi's mock runtime
(``standins.mock_program``), take every resource it declares with its inputs, and
apply them here with the Docker SDK the way pulumi-docker would:

- create what is new; update what changed in place (a Swarm service update with
  the full new spec and the current version index, i.e. Swarm's rolling update);
  delete what is no longer declared, after every create and update, dependents
  first (so a config goes only once no service uses it);
- follow ``dependencies`` (a resource is applied after everything it depends on)
  and ``convergeConfig`` (wait for the rollout; Swarm's rollback or pause is an
  error, with Swarm's message, as `pulumi up` reports it);
- stop at the first error, like `pulumi up`.

The "state" is kept on the Docker objects themselves, in labels: the stack, the
URN, the dependencies and the inputs last applied (ids already resolved). A
rolled-back service gets its previous labels back from Swarm, which is what
Pulumi's state does for a failed update.

Every input key is translated explicitly (``translate``); a key or value it does
not know raises ``UntranslatedInput`` before anything is changed, so a setting the
program declares can never be dropped silently. Changes that pulumi-docker would
make by replacing the resource raise ``ReplacementNotSupported``.

The modules: ``translate`` (declared inputs to Docker API specs, pure),
``apply`` (``SwarmApplier``: state, ordering, create/update/delete, convergence)
and ``report`` (what an apply did, and ``ApplyError``).

This is not a deployment tool: use the Pulumi CLI for that.
"""

from standins.resource_types import NETWORK, SERVICE, SERVICE_CONFIG
from standins.swarm_applier.apply import (
    LABEL_DEPENDENCIES,
    LABEL_INPUTS,
    LABEL_PREFIX,
    LABEL_STACK,
    LABEL_URN,
    ReplacementNotSupported,
    SwarmApplier,
    parse_time,
    remove_network,
)
from standins.swarm_applier.report import ApplyError, ApplyReport, Change
from standins.swarm_applier.translate import Converge, UntranslatedInput, changed_paths, physical_name, translate

__all__ = [
    "LABEL_DEPENDENCIES",
    "LABEL_INPUTS",
    "LABEL_PREFIX",
    "LABEL_STACK",
    "LABEL_URN",
    "NETWORK",
    "SERVICE",
    "SERVICE_CONFIG",
    "ApplyError",
    "ApplyReport",
    "Change",
    "Converge",
    "ReplacementNotSupported",
    "SwarmApplier",
    "UntranslatedInput",
    "changed_paths",
    "parse_time",
    "physical_name",
    "remove_network",
    "translate",
]
