"""Tests of deploy/: Grafana provisioning and dashboards, the compose file."""
