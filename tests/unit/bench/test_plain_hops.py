"""The floor's two nginx hops: configs that only proxy, over kept connections."""

from __future__ import annotations

import re

from bench.plain_hops import plain_config


def test_a_plain_hop_spreads_over_every_upstream_on_kept_connections_and_does_nothing_else():
    config = plain_config(["10.0.0.2:8080", "10.0.0.3:8080"])
    upstream = re.search(r"upstream next \{(.*?)\}", config, re.S)
    assert upstream is not None
    assert re.findall(r"server (\S+);", upstream[1]) == ["10.0.0.2:8080", "10.0.0.3:8080"]
    assert "keepalive 32;" in upstream[1]
    location = re.search(r"location / \{(.*?)\}", config, re.S)
    assert location is not None
    directives = [line.strip() for line in location[1].strip().splitlines()]
    assert directives == ["proxy_pass http://next;", "proxy_http_version 1.1;", 'proxy_set_header Connection "";']
    assert "access_log off;" in config
