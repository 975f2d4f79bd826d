"""A stand-in for `pulumi up` with pulumi-docker 5.x on a real Docker Swarm.

There is no Pulumi engine or docker provider plugin on the CI machines, so the
end-to-end tests run the real program under Pulumi's mock runtime
(``offline_runner.mock_program``), take every resource it declares with its inputs, and
apply them here with the Docker SDK the way the engine and pulumi-docker 5.x
(kreuzwerker/terraform-provider-docker v4.5.0 bridged by
pulumi-terraform-bridge) do, weaknesses included. Each modelled behaviour
cites its source where it is modelled:

- ``state``: Pulumi-like state per stack in ``.cache/applier-state/<stack>.json``
  (type, physical id, inputs, the provider's outputs, dependencies), secrets
  sealed (a salted digest, never the value);
- ``plan``: the provider's diff of new inputs against the stored outputs, with
  the Terraform schema's defaults, Computed, DiffSuppress and ForceNew rules
  (``schema``); a replacement deletes first with ``delete_before_replace``,
  creates first for an auto-named secret or config (the old one deleted at the
  end, ``state.pending_deletes`` until then), and raises
  ``ReplacementNotSupported`` otherwise;
- ``provider_spec``: the spec the provider sends (zero values included), the
  Go client's image tagging (``swarm.image_ref``), and digest pinning on create;
- ``readback``: what the provider reads back into the outputs (``shortDur``
  durations, the image as Docker stores it);
- ``converge``: ``converge_config`` as the provider waits (7 s, then polls 5 s
  and 10 s apart; "done" once every slot runs; Swarm's rollback or pause as an
  error; a service that does not converge on create is deleted);
- ``dynamic``: Pulumi dynamic resources through the SDK's own dynamic provider
  host process;
- ``apply``: ``SwarmApplier``: ordering, create/update/delete, the engine's
  partial state after a failed update, stop at the first error, refresh
  (``apply(program, refresh=...)``, default from Pulumi.yaml ``options.refresh``).

Every input key is checked explicitly (``translate``); a key or value it does
not know raises ``UntranslatedInput`` before anything is changed, and a Docker
setting whose read-back is not modelled raises ``UnmodelledOutput``.

This is not a deployment tool: use the Pulumi CLI for that.
"""

from engine_standin.swarm_applier.apply import (
    ReplacementNotSupported,
    SwarmApplier,
    parse_time,
    remove_network,
)
from engine_standin.swarm_applier.converge import ProviderError
from engine_standin.swarm_applier.dynamic import DynamicProviderError
from engine_standin.swarm_applier.readback import UnmodelledOutput
from engine_standin.swarm_applier.report import ApplyError, ApplyReport, Change
from engine_standin.swarm_applier.state import STATE_DIR, ResourceState, StackState
from engine_standin.swarm_applier.translate import Converge, UntranslatedInput, changed_paths, physical_name, translate
from offline_runner.resource_types import NETWORK, SECRET, SERVICE, SERVICE_CONFIG

__all__ = [
    "NETWORK",
    "SECRET",
    "SERVICE",
    "SERVICE_CONFIG",
    "STATE_DIR",
    "ApplyError",
    "ApplyReport",
    "Change",
    "Converge",
    "DynamicProviderError",
    "ProviderError",
    "ReplacementNotSupported",
    "ResourceState",
    "StackState",
    "SwarmApplier",
    "UnmodelledOutput",
    "UntranslatedInput",
    "changed_paths",
    "parse_time",
    "physical_name",
    "remove_network",
    "translate",
]
