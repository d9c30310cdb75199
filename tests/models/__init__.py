"""Tests of the risk model (models/)."""
