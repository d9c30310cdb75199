"""Tests of the alert engine, lifecycle, outbox and webhook delivery."""
