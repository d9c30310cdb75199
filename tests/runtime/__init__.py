"""Tests of what every service runs on (runtime/)."""
