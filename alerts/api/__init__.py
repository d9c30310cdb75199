"""The ops HTTP API (``encosta api``): health, metrics, stations, zones, alerts, webhooks.

It runs as its own process, separate from ``encosta alerts``, so that it scales and restarts
independently and stays up while evaluators fail over between replicas: operators need to see
and acknowledge alerts most exactly when the engine is in trouble.
"""
