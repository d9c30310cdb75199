"""Public profiles of the networks (``<network>.toml``), read by :mod:`alerts.wording`."""
