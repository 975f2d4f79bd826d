"""What pulumi-docker sends to Docker, built from the planned state the way the provider builds it.

kreuzwerker terraform-provider-docker v4.5.0, internal/provider/
resource_docker_service_structures.go ``createServiceSpec`` and the create*
functions it calls. They read the planned state through ``ResourceData``,
whose nested blocks always carry every key of their schema with the type's
zero value (terraform-plugin-sdk helper/schema field_reader.go
``readObjectField`` -> ``ValueOrZero``). So the provider sends, for a service
that declares none of them, ``StopGracePeriod: 0``, ``Healthcheck: {}``,
``DNSConfig: {}``, ``Isolation: "default"``, ``Init: false``,
``Resources: {}``, ``RestartPolicy: {}``, ``Placement: {}`` and
``EndpointSpec: {}``; on an update the Optional+Computed blocks carry what the
last read-back stored (e.g. ``restart_policy.delay`` unset -> ``Delay: 0``).

The Go client then tags the image (moby client service_create.go /
service_update.go ``imageWithTagString``) and, on create only
(``QueryRegistry = true`` in ``resourceDockerServiceCreate``), pins it to the
registry's digest (``resolveContainerSpecImage``): see ``apply``.
"""

from __future__ import annotations

import base64
import random
from typing import Any

from engine_standin.swarm_applier.gotime import parse_duration_or_zero
from swarm_zero_downtime.swarm.image_ref import tagged


def _get(obj: dict[str, Any] | None, key: str, zero: Any) -> Any:
    value = (obj or {}).get(key)
    return zero if value is None else value


def _label_map(labels: list[dict[str, str]] | None) -> dict[str, str]:
    # helpers.go labelSetToMap
    return {item["label"]: item["value"] for item in labels or []}


def _container_spec(cs: dict[str, Any]) -> dict[str, Any]:
    """createContainerSpec for the modelled keys; Go's omitempty drops empty strings, slices and maps."""
    spec: dict[str, Any] = {"Image": _get(cs, "image", "")}
    if labels := _label_map(cs.get("labels")):
        spec["Labels"] = labels
    if command := _get(cs, "commands", []):
        spec["Command"] = list(command)
    if args := _get(cs, "args", []):
        spec["Args"] = list(args)
    if hostname := _get(cs, "hostname", ""):
        spec["Hostname"] = hostname
    if env := _get(cs, "env", {}):
        # mapTypeMapValsToStringSlice ranges over a Go map: the order differs from one request to
        # the next, and Swarm compares Env as a list, so a request that changes anything else
        # (replicas) restarts the tasks too. Shuffled here as Go's map iteration is.
        entries = [f"{k}={v}" for k, v in env.items() if k]
        spec["Env"] = random.sample(entries, len(entries))
    # stop_signal: always read ("" when unset), StopSignal has omitempty: sent only when set.
    if stop_signal := _get(cs, "stopSignal", ""):
        spec["StopSignal"] = stop_signal
    # stop_grace_period: "" when unset -> ParseDuration error ignored -> &0.
    spec["StopGracePeriod"] = parse_duration_or_zero(_get(cs, "stopGracePeriod", ""))
    # healthcheck: always &HealthConfig{}, filled when the block is there.
    hc = cs.get("healthcheck")
    health: dict[str, Any] = {}
    if hc:
        if tests := _get(hc, "tests", []):
            health["Test"] = list(tests)
        for key, docker_key in (("interval", "Interval"), ("timeout", "Timeout"), ("startPeriod", "StartPeriod")):
            if nanos := parse_duration_or_zero(_get(hc, key, "")):
                health[docker_key] = nanos
        if retries := int(_get(hc, "retries", 0)):
            health["Retries"] = retries
    spec["Healthcheck"] = health
    # dns_config: always &DNSConfig{}.
    dns: dict[str, Any] = {}
    if dc := cs.get("dnsConfig"):
        for key, docker_key in (("nameservers", "Nameservers"), ("searches", "Search"), ("options", "Options")):
            if values := _get(dc, key, []):
                dns[docker_key] = list(values)
    spec["DNSConfig"] = dns
    # secrets / configs: every element with its File target (file_uid/file_gid/file_mode as the set holds them).
    secrets = [
        {
            "SecretID": c["secretId"],
            **({"SecretName": c["secretName"]} if c.get("secretName") else {}),
            "File": {
                "Name": _get(c, "fileName", ""),
                "UID": _get(c, "fileUid", ""),
                "GID": _get(c, "fileGid", ""),
                "Mode": int(_get(c, "fileMode", 0)),
            },
        }
        for c in cs.get("secrets") or []
    ]
    if secrets:
        spec["Secrets"] = secrets
    configs = [
        {
            "ConfigID": c["configId"],
            **({"ConfigName": c["configName"]} if c.get("configName") else {}),
            "File": {
                "Name": _get(c, "fileName", ""),
                "UID": _get(c, "fileUid", ""),
                "GID": _get(c, "fileGid", ""),
                "Mode": int(_get(c, "fileMode", 0)),
            },
        }
        for c in cs.get("configs") or []
    ]
    if configs:
        spec["Configs"] = configs
    if isolation := _get(cs, "isolation", ""):
        spec["Isolation"] = isolation
    # sysctl: the map as is (empty when unset, which Docker's omitempty drops).
    if sysctls := _get(cs, "sysctl", {}):
        spec["Sysctls"] = dict(sysctls)
    # supportsServiceContainerInit(client): ClientVersion() >= "1.37" -> Init = &init (false when unset).
    spec["Init"] = bool(_get(cs, "init", False))
    return spec


def _resources(res: dict[str, Any] | None) -> dict[str, Any]:
    # createResources
    out: dict[str, Any] = {}
    if res and res.get("limits"):
        out["Limits"] = {
            "NanoCPUs": _get(res["limits"], "nanoCpus", 0),
            "MemoryBytes": _get(res["limits"], "memoryBytes", 0),
        }
    if res and res.get("reservation"):
        reservation = res["reservation"]
        out["Reservations"] = {
            "NanoCPUs": _get(reservation, "nanoCpus", 0),
            "MemoryBytes": _get(reservation, "memoryBytes", 0),
        }
    return out


def _restart_policy(rp: dict[str, Any] | None) -> dict[str, Any]:
    # createRestartPolicy: {} when the block is absent; otherwise every pointer set, zero when unset.
    if not rp:
        return {}
    out: dict[str, Any] = {
        "Delay": parse_duration_or_zero(_get(rp, "delay", "")),
        "MaxAttempts": int(_get(rp, "maxAttempts", 0)),
        "Window": parse_duration_or_zero(_get(rp, "window", "")),
    }
    if condition := _get(rp, "condition", ""):
        out["Condition"] = condition
    return out


def _placement(pl: dict[str, Any] | None) -> dict[str, Any]:
    # createPlacement
    out: dict[str, Any] = {}
    if not pl:
        return out
    if constraints := _get(pl, "constraints", []):
        out["Constraints"] = list(constraints)
    if prefs := _get(pl, "prefs", []):
        out["Preferences"] = [{"Spread": {"SpreadDescriptor": p}} for p in prefs]
    if platforms := _get(pl, "platforms", []):
        out["Platforms"] = [{"Architecture": p.get("architecture", ""), "OS": p.get("os", "")} for p in platforms]
    if max_replicas := int(_get(pl, "maxReplicas", 0)):
        out["MaxReplicas"] = max_replicas
    return out


def _networks(networks: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    # createServiceAdvancedNetworks: id, else the deprecated name; aliases; driver_opts "k=v" -> map.
    out = []
    for n in networks or []:
        target = n.get("id") or n.get("name")
        if not target:
            raise ValueError("network 'name' or 'id' must be specified")
        item: dict[str, Any] = {"Target": target}
        if aliases := _get(n, "aliases", []):
            item["Aliases"] = list(aliases)
        opts = dict(o.split("=", 1) for o in _get(n, "driverOpts", []) if "=" in o)
        if opts:
            item["DriverOpts"] = opts
        out.append(item)
    return out


def _mode(mode: dict[str, Any] | None) -> dict[str, Any]:
    # createServiceMode
    out: dict[str, Any] = {}
    if not mode:
        return out
    if (replicated := mode.get("replicated")) is not None:
        out["Replicated"] = {"Replicas": int(_get(replicated, "replicas", 0))}
    if mode.get("global"):
        out["Global"] = {}
    return out


def _rollout(config: dict[str, Any] | None) -> dict[str, Any] | None:
    # createServiceUpdateConfig / createServiceRollbackConfig -> createUpdateOrRollbackConfig
    if not config:
        return None
    try:
        ratio = float(_get(config, "maxFailureRatio", ""))
    except ValueError:
        ratio = 0.0
    return {
        "Parallelism": int(_get(config, "parallelism", 0)),
        "Delay": parse_duration_or_zero(_get(config, "delay", "")),
        "FailureAction": _get(config, "failureAction", ""),
        "Monitor": parse_duration_or_zero(_get(config, "monitor", "")),
        "MaxFailureRatio": ratio,
        "Order": _get(config, "order", ""),
    }


def _endpoint_spec(es: dict[str, Any] | None) -> dict[str, Any]:
    # createServiceEndpointSpec / portSetToServicePorts
    out: dict[str, Any] = {}
    if not es:
        return out
    if mode := _get(es, "mode", ""):
        out["Mode"] = mode
    ports = [
        {
            **({"Name": p["name"]} if p.get("name") else {}),
            **({"Protocol": p["protocol"]} if p.get("protocol") else {}),
            "TargetPort": int(_get(p, "targetPort", 0)),
            **({"PublishedPort": int(p["publishedPort"])} if p.get("publishedPort") else {}),
            **({"PublishMode": p["publishMode"]} if p.get("publishMode") else {}),
        }
        for p in es.get("ports") or []
    ]
    if ports:
        out["Ports"] = ports
    return out


def service_spec(planned: dict[str, Any]) -> dict[str, Any]:
    """createServiceSpec, then the Go client's image tagging (both create and update)."""
    ts = planned.get("taskSpec") or {}
    cs = ts.get("containerSpec") or {}
    task: dict[str, Any] = {
        "ContainerSpec": _container_spec(cs),
        "Resources": _resources(ts.get("resources")),
        "RestartPolicy": _restart_policy(ts.get("restartPolicy")),
        "Placement": _placement(ts.get("placement")),
        "ForceUpdate": int(_get(ts, "forceUpdate", 0)),
    }
    if runtime := _get(ts, "runtime", ""):
        task["Runtime"] = runtime
    if networks := _networks(ts.get("networksAdvanceds")):
        task["Networks"] = networks
    if log_driver := ts.get("logDriver"):
        task["LogDriver"] = {"Name": _get(log_driver, "name", ""), "Options": dict(_get(log_driver, "options", {}))}
    task["ContainerSpec"]["Image"] = tagged(task["ContainerSpec"]["Image"])
    spec: dict[str, Any] = {"Name": planned["name"], "TaskTemplate": task, "Mode": _mode(planned.get("mode"))}
    if labels := _label_map(planned.get("labels")):
        spec["Labels"] = labels
    if (update := _rollout(planned.get("updateConfig"))) is not None:
        spec["UpdateConfig"] = update
    if (rollback := _rollout(planned.get("rollbackConfig"))) is not None:
        spec["RollbackConfig"] = rollback
    spec["EndpointSpec"] = _endpoint_spec(planned.get("endpointSpec"))
    return spec


def network_create_args(planned: dict[str, Any]) -> dict[str, Any]:
    """resourceDockerNetworkCreate: only what ``d.GetOk`` finds set (non-zero) is sent."""
    args: dict[str, Any] = {"name": planned["name"]}
    if labels := _label_map(planned.get("labels")):
        args["labels"] = labels
    if driver := planned.get("driver"):
        args["driver"] = driver
    if options := planned.get("options"):
        args["options"] = dict(options)
    if planned.get("internal"):
        args["internal"] = True
    if planned.get("attachable"):
        args["attachable"] = True
    if planned.get("ingress"):
        args["ingress"] = True
    if planned.get("ipv6"):
        args["enable_ipv6"] = True
    ipam: dict[str, Any] = {}
    if driver := planned.get("ipamDriver"):
        ipam["Driver"] = driver
    if configs := planned.get("ipamConfigs"):
        ipam["Config"] = [
            {
                "Subnet": c.get("subnet", ""),
                "IPRange": c.get("ipRange", ""),
                "Gateway": c.get("gateway", ""),
                "AuxiliaryAddresses": dict(c.get("auxAddress") or {}),
            }
            for c in configs
        ]
    if options := planned.get("ipamOptions"):
        ipam["Options"] = dict(options)
    if ipam:
        args["ipam"] = {
            "Driver": ipam.get("Driver", ""),
            "Config": ipam.get("Config", []),
            "Options": ipam.get("Options"),
        }
    return args


def secret_data(planned: dict[str, Any]) -> bytes:
    """resource_docker_secret.go resourceDockerSecretCreate: ``base64.StdEncoding.DecodeString(data)``, error ignored
    (validateStringIsBase64Encoded refused bad data at plan time)."""
    try:
        return base64.b64decode(planned.get("data") or "")
    except ValueError:
        return b""


def config_data(planned: dict[str, Any]) -> bytes:
    """resource_docker_config.go getConfigDataBytes: data_raw as is, else base64-decoded data."""
    if planned.get("dataRaw"):
        return str(planned["dataRaw"]).encode()
    return base64.b64decode(planned.get("data") or "")
