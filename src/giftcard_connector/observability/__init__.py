"""What an operator sees: Prometheus metrics, the request log line, optional OpenTelemetry traces."""
