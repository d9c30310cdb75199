"""Alert engine: evaluation loop, alert lifecycle, webhook outbox and delivery."""
