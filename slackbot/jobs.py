"""What the worker does for Slack: each `@outbox.handler` carries out one kind of job."""
