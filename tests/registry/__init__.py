"""Tests of the registry package: the station registry file."""
