"""What every Encosta process runs on, whichever service it is.

A leaf like ``models``: it imports no other project package, and every other package may import
it. One concept per module: :mod:`runtime.backoff` (how long a retry waits),
:mod:`runtime.settings` (typed reads of the environment, one rule for every service),
:mod:`runtime.http_server` (the small HTTP server) and :mod:`runtime.probe` (``/metrics``
and ``/healthz`` on it), :mod:`runtime.resource` (async context managers whose children
live on one exit stack), :mod:`runtime.periodic` (a task run every period under a TaskGroup).
"""
