"""What pulumi-docker reads back from Docker into the resource's outputs.

kreuzwerker terraform-provider-docker v4.5.0, internal/provider/:

- services: resource_docker_service_funcs.go ``resourceDockerServiceReadRefreshFunc``
  sets name, labels, task_spec, mode, update_config, rollback_config and
  endpoint_spec, each through the flatten* functions of
  resource_docker_service_structures.go; every other output (converge_config,
  auth) keeps the value the state already had. ``endpoint_spec`` comes from
  ``service.Endpoint`` once Swarm has filled its mode, else from
  ``Spec.EndpointSpec``; with neither the read is "pending" and polled again.
- networks: resource_docker_network_funcs.go ``resourceDockerNetworkReadRefreshFunc``.
- configs: resource_docker_config.go ``resourceDockerConfigRead``.
- secrets: resource_docker_secret.go ``resourceDockerSecretRead`` sets the name
  only: Docker never returns a secret's data, and the provider does not read
  the labels back either; both keep the state's values.

Durations go through ``shortDur``, ``max_failure_ratio`` through
``strconv.FormatFloat(v, 'f', 1, 64)``, the image is whatever Docker stores
(a digest-pinned reference after a pinned create). A Docker field that the
flatten functions would read but the applier does not model (mounts, env,
privileges, ...) raises ``UnmodelledOutput`` instead of being dropped.
"""

from __future__ import annotations

import base64
from typing import Any

from engine_standin.swarm_applier.gotime import short_dur
from engine_standin.swarm_applier.report import ApplyError


class UnmodelledOutput(ApplyError):
    """Docker holds a setting whose read-back (flatten function) the applier does not model."""


# ContainerSpec keys flattenContainerSpec reads that the applier models; any other non-empty key is refused.
_CONTAINER_KEYS = {
    "Image",
    "Command",
    "Args",
    "Env",
    "Labels",
    "Hostname",
    "Init",
    "StopSignal",
    "StopGracePeriod",
    "Healthcheck",
    "DNSConfig",
    "Secrets",
    "Configs",
    "Isolation",
    "Sysctls",
}
_TASK_KEYS = {
    "ContainerSpec",
    "Resources",
    "RestartPolicy",
    "Placement",
    "ForceUpdate",
    "Runtime",
    "Networks",
    "LogDriver",
}


def _refuse_unmodelled(obj: dict[str, Any], known: set[str], where: str) -> None:
    extra = sorted(k for k, v in obj.items() if k not in known and v not in (None, "", 0, False, [], {}))
    if extra:
        raise UnmodelledOutput(f"{where}: Docker holds {', '.join(extra)}, whose read-back the applier does not model")


def labels_set(labels: dict[str, str] | None) -> list[dict[str, str]]:
    """helpers.go mapToLabelSet (a set: order does not matter)."""
    return [{"label": k, "value": v} for k, v in sorted((labels or {}).items())]


def _flatten_healthcheck(hc: dict[str, Any]) -> dict[str, Any]:
    # flattenServiceHealthcheck
    out: dict[str, Any] = {}
    if hc.get("Test"):
        out["tests"] = list(hc["Test"])
    out["interval"] = short_dur(hc.get("Interval", 0))
    out["timeout"] = short_dur(hc.get("Timeout", 0))
    out["startPeriod"] = short_dur(hc.get("StartPeriod", 0))
    out["retries"] = hc.get("Retries", 0)
    return out


def _flatten_file_refs(refs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """flattenServiceConfigs and flattenServiceSecrets (``kind`` "config" or "secret"), which
    read alike: the id, the name when set, the file with uid/gid only when non-empty."""
    title = kind.capitalize()
    out = []
    for ref in refs:
        item: dict[str, Any] = {f"{kind}Id": ref[f"{title}ID"]}
        if ref.get(f"{title}Name"):
            item[f"{kind}Name"] = ref[f"{title}Name"]
        if ref.get("File") is not None:
            file = ref["File"]
            item["fileName"] = file.get("Name", "")
            if file.get("UID"):
                item["fileUid"] = file["UID"]
            if file.get("GID"):
                item["fileGid"] = file["GID"]
            item["fileMode"] = int(file.get("Mode", 0))
        out.append(item)
    return out


def _flatten_dns_config(dns: dict[str, Any]) -> dict[str, Any]:
    # flattenServiceDNSConfig
    out: dict[str, Any] = {}
    if dns.get("Nameservers"):
        out["nameservers"] = list(dns["Nameservers"])
    if dns.get("Search"):
        out["searches"] = list(dns["Search"])
    if dns.get("Options"):
        out["options"] = list(dns["Options"])
    return out


def flatten_container_spec(cs: dict[str, Any], where: str = "ContainerSpec") -> dict[str, Any]:
    """flattenContainerSpec, for the keys the applier models (``init``: the client's API version is >= 1.37)."""
    _refuse_unmodelled(cs, _CONTAINER_KEYS, where)
    out: dict[str, Any] = {}
    if cs.get("Image"):
        out["image"] = cs["Image"]
    if cs.get("Labels"):
        out["labels"] = labels_set(cs["Labels"])
    if cs.get("Command"):
        out["commands"] = list(cs["Command"])
    if cs.get("Args"):
        out["args"] = list(cs["Args"])
    if cs.get("Hostname"):
        out["hostname"] = cs["Hostname"]
    if cs.get("Env"):
        # mapStringSliceToMap: split at the first "=", a later entry of the same name wins.
        out["env"] = dict(entry.split("=", 1) if "=" in entry else (entry, "") for entry in cs["Env"] if entry)
    if cs.get("StopSignal"):
        out["stopSignal"] = cs["StopSignal"]
    if cs.get("StopGracePeriod") is not None:
        out["stopGracePeriod"] = short_dur(cs["StopGracePeriod"])
    if cs.get("Healthcheck") is not None:
        out["healthcheck"] = _flatten_healthcheck(cs["Healthcheck"])
    if cs.get("DNSConfig") is not None:
        out["dnsConfig"] = _flatten_dns_config(cs["DNSConfig"])
    if cs.get("Secrets"):
        out["secrets"] = _flatten_file_refs(cs["Secrets"], "secret")
    if cs.get("Configs"):
        out["configs"] = _flatten_file_refs(cs["Configs"], "config")
    if cs.get("Isolation"):
        out["isolation"] = cs["Isolation"]
    if cs.get("Sysctls"):  # len(in.Sysctls) > 0
        out["sysctl"] = dict(cs["Sysctls"])
    if cs.get("Init") is not None:  # supportsServiceContainerInit: ClientVersion() >= "1.37"
        out["init"] = cs["Init"]
    return out


def _flatten_resources(res: dict[str, Any]) -> dict[str, Any]:
    # flattenTaskResources / flattenResourceLimits / flattenResourceReservations
    out: dict[str, Any] = {}
    if res.get("Limits") is not None:
        out["limits"] = {
            "nanoCpus": res["Limits"].get("NanoCPUs", 0),
            "memoryBytes": res["Limits"].get("MemoryBytes", 0),
        }
    if res.get("Reservations") is not None:
        reservations = res["Reservations"]
        if reservations.get("GenericResources"):
            raise UnmodelledOutput("TaskTemplate.Resources.Reservations.GenericResources: read-back not modelled")
        out["reservation"] = {
            "nanoCpus": reservations.get("NanoCPUs", 0),
            "memoryBytes": reservations.get("MemoryBytes", 0),
        }
    return out


def _flatten_restart_policy(rp: dict[str, Any]) -> dict[str, Any]:
    # flattenTaskRestartPolicy
    out: dict[str, Any] = {}
    if rp.get("Condition"):
        out["condition"] = rp["Condition"]
    if rp.get("Delay") is not None:
        out["delay"] = short_dur(rp["Delay"])
    if rp.get("MaxAttempts") is not None:
        out["maxAttempts"] = int(rp["MaxAttempts"])
    if rp.get("Window") is not None:
        out["window"] = short_dur(rp["Window"])
    return out


def _flatten_placement(pl: dict[str, Any]) -> dict[str, Any]:
    # flattenTaskPlacement
    out: dict[str, Any] = {}
    if pl.get("Constraints"):
        out["constraints"] = sorted(pl["Constraints"])
    if pl.get("Preferences"):
        out["prefs"] = sorted(p["Spread"]["SpreadDescriptor"] for p in pl["Preferences"])
    if pl.get("Platforms"):
        out["platforms"] = [{"architecture": p.get("Architecture", ""), "os": p.get("OS", "")} for p in pl["Platforms"]]
    out["maxReplicas"] = pl.get("MaxReplicas", 0)
    return out


def _flatten_networks(networks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # flattenTaskNetworksAdvanced: driver_opts always (k=v strings), aliases when any.
    out = []
    for n in networks:
        item: dict[str, Any] = {
            "id": n["Target"],
            "driverOpts": sorted(f"{k}={v}" for k, v in (n.get("DriverOpts") or {}).items()),
        }
        if n.get("Aliases"):
            item["aliases"] = sorted(n["Aliases"])
        out.append(item)
    return out


def flatten_task_spec(ts: dict[str, Any]) -> dict[str, Any]:
    """flattenTaskSpec."""
    _refuse_unmodelled(ts, _TASK_KEYS, "TaskTemplate")
    out: dict[str, Any] = {}
    if ts.get("ContainerSpec") is not None:
        out["containerSpec"] = flatten_container_spec(ts["ContainerSpec"])
    if ts.get("Resources") is not None:
        out["resources"] = _flatten_resources(ts["Resources"])
    if ts.get("RestartPolicy") is not None:
        out["restartPolicy"] = _flatten_restart_policy(ts["RestartPolicy"])
    if ts.get("Placement") is not None:
        out["placement"] = _flatten_placement(ts["Placement"])
    out["forceUpdate"] = ts.get("ForceUpdate", 0)
    if ts.get("Runtime"):
        out["runtime"] = ts["Runtime"]
    if ts.get("Networks"):
        out["networksAdvanceds"] = _flatten_networks(ts["Networks"])
    if ts.get("LogDriver") is not None:
        out["logDriver"] = {"name": ts["LogDriver"].get("Name", "")}
        if ts["LogDriver"].get("Options"):
            out["logDriver"]["options"] = dict(ts["LogDriver"]["Options"])
    return out


def flatten_mode(mode: dict[str, Any]) -> dict[str, Any]:
    """flattenServiceMode / flattenReplicated."""
    out: dict[str, Any] = {}
    if mode.get("Replicated") is not None:
        replicated = mode["Replicated"]
        out["replicated"] = {"replicas": int(replicated["Replicas"])} if replicated.get("Replicas") is not None else {}
    out["global"] = mode.get("Global") is not None
    return out


def flatten_rollout(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """flattenServiceUpdateOrRollbackConfig (nil -> no block)."""
    if config is None:
        return None
    return {
        "parallelism": config.get("Parallelism", 0),
        "delay": short_dur(config.get("Delay", 0)),
        "failureAction": config.get("FailureAction", ""),
        "monitor": short_dur(config.get("Monitor", 0)),
        # strconv.FormatFloat(float64(in.MaxFailureRatio), 'f', 1, 64)
        "maxFailureRatio": f"{float(config.get('MaxFailureRatio', 0.0)):.1f}",
        "order": config.get("Order", ""),
    }


def _flatten_ports(ports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # flattenServicePorts
    return [
        {
            "name": p.get("Name", ""),
            "protocol": p.get("Protocol", ""),
            "targetPort": int(p.get("TargetPort", 0)),
            "publishedPort": int(p.get("PublishedPort", 0)),
            "publishMode": p.get("PublishMode", ""),
        }
        for p in ports or []
    ]


def read_service(service: dict[str, Any]) -> dict[str, Any] | None:
    """The outputs resourceDockerServiceReadRefreshFunc sets from an inspect; None while "pending"."""
    spec = service["Spec"]
    endpoint = service.get("Endpoint") or {}
    if (endpoint.get("Spec") or {}).get("Mode"):
        endpoint_spec = {"mode": endpoint["Spec"]["Mode"], "ports": _flatten_ports(endpoint.get("Ports") or [])}
    elif (spec.get("EndpointSpec") or {}).get("Mode"):
        endpoint_spec = {
            "mode": spec["EndpointSpec"]["Mode"],
            "ports": _flatten_ports(spec["EndpointSpec"].get("Ports") or []),
        }
    else:
        return None  # "Service %s does not expose endpoint spec yet": pending
    if not endpoint_spec["ports"]:
        del endpoint_spec["ports"]
    out: dict[str, Any] = {
        "name": spec["Name"],
        "labels": labels_set(spec.get("Labels")),
        "taskSpec": flatten_task_spec(spec["TaskTemplate"]),
        "mode": flatten_mode(spec.get("Mode") or {}),
        "updateConfig": flatten_rollout(spec.get("UpdateConfig")),
        "rollbackConfig": flatten_rollout(spec.get("RollbackConfig")),
        "endpointSpec": endpoint_spec,
    }
    return out


def merge_read(state: dict[str, Any], read: dict[str, Any]) -> dict[str, Any]:
    """``d.Set`` of each read key over the state: keys the read does not set keep their value."""
    merged = {**state, **read}
    return {k: v for k, v in merged.items() if v not in (None, [])}


def read_network(network: dict[str, Any]) -> dict[str, Any]:
    """resourceDockerNetworkReadRefreshFunc (options are only awaited for Scope "overlay", never for "swarm")."""
    ipam = network.get("IPAM") or {}
    out: dict[str, Any] = {
        "name": network["Name"],
        "labels": labels_set(network.get("Labels")),
        "driver": network.get("Driver", ""),
        "internal": bool(network.get("Internal")),
        "attachable": bool(network.get("Attachable")),
        "ingress": bool(network.get("Ingress")),
        "ipv6": bool(network.get("EnableIPv6")),
        "ipamDriver": ipam.get("Driver", ""),
        "ipamOptions": dict(ipam.get("Options") or {}),
        "scope": network.get("Scope", ""),
        "options": dict(network.get("Options") or {}),
        # flattenIpamConfigSpec
        "ipamConfigs": [
            {
                k: v
                for k, v in {
                    "subnet": c.get("Subnet", ""),
                    "ipRange": c.get("IPRange", ""),
                    "gateway": c.get("Gateway", ""),
                    "auxAddress": dict(c.get("AuxiliaryAddresses") or {}),
                }.items()
                if v
            }
            for c in ipam.get("Config") or []
        ],
    }
    return out


def read_config(config: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """resourceDockerConfigRead: data as standard base64 (data_raw when the state has it), labels."""
    spec = config["Spec"]
    out: dict[str, Any] = {**state, "name": spec["Name"], "labels": labels_set(spec.get("Labels"))}
    raw = base64.b64decode(spec.get("Data", ""))
    if state.get("dataRaw"):
        out["dataRaw"] = raw.decode()
    else:
        out["data"] = base64.b64encode(raw).decode()
    return out


def read_secret(secret: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """resourceDockerSecretRead: ``d.Set("name", secret.Spec.Name)`` and nothing else.

    "secret data is not exposed via the API": data keeps the state's value (the
    planned one after a create), and so do the labels, which the read does not
    set: a label changed in Docker is never seen, even by a refresh.
    """
    return {**state, "name": secret["Spec"]["Name"]}
