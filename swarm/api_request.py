"""Docker API requests that carry an ``X-Registry-Auth`` the caller chose, through docker-py's public
``post`` and ``get``.

docker-py's own service calls take the header only from this machine's Docker config file, and leave it
out when it is empty; pulumi-docker sends the stack's credentials (swarm/registry_auth.py). HTTP errors
come back as docker's APIError, as from docker-py's own calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import docker
import requests
from docker.errors import create_api_error_from_http_exception


def post_json(
    api: docker.APIClient,
    path: str,
    body: Mapping[str, Any],
    registry_auth: str | None,
    params: Mapping[str, Any] | None = None,
) -> Any:
    """POST ``body`` as JSON to ``path`` (``/services/create``, say); the answer's JSON."""
    response = api.post(_url(api, path), json=body, params=params, headers=_headers(registry_auth), timeout=api.timeout)
    return _answer(response)


def get_json(api: docker.APIClient, path: str, registry_auth: str | None) -> Any:
    """GET ``path``; the answer's JSON."""
    return _answer(api.get(_url(api, path), headers=_headers(registry_auth), timeout=api.timeout))


def _url(api: docker.APIClient, path: str) -> str:
    return f"{api.base_url}/v{api.api_version}{path}"


def _headers(registry_auth: str | None) -> dict[str, str]:
    """None leaves the header out; any string is sent, the empty AuthConfig too."""
    return {} if registry_auth is None else {"X-Registry-Auth": registry_auth}


def _answer(response: requests.Response) -> Any:
    try:
        response.raise_for_status()
    except requests.HTTPError as error:
        raise create_api_error_from_http_exception(error) from None
    return response.json()
