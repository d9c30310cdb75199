"""The station registry: the checked-in file of a network's zones and hillside stations.

One floor of its own, under every service that reads it (ingest's broker accounts, the
simulator, the backtest, the CLI): :mod:`registry.format` declares the file and loads it,
:mod:`registry.ids` the identifiers stations, zones and networks share with MQTT topics, and
:mod:`registry.errors` the one exception it raises.
"""
