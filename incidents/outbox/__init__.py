"""The transactional outbox: side effects written with the change, carried out by the worker."""
