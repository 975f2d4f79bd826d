"""Rollout-safety policies for Docker Swarm services declared with pulumi-docker."""
