"""What stands in for the Pulumi engine and pulumi-docker on a real swarm, for the tests and the
benchmark only: the applier (``swarm_applier``) and the provisioned swarm's checks (``swarm_env``).
Deploy with the Pulumi CLI."""
