"""Encosta test suite: pytest against real Mosquitto and TimescaleDB."""
