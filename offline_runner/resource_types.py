"""Type tokens of the pulumi-docker resources the program declares, as the engine sees them."""

NETWORK = "docker:index/network:Network"
SERVICE = "docker:index/service:Service"
SERVICE_CONFIG = "docker:index/serviceConfig:ServiceConfig"
SECRET = "docker:index/secret:Secret"
