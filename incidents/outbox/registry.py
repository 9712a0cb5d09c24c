"""The modules whose handlers the worker loads: one line per adapter that carries out jobs.

The domain queues jobs by kind and never imports an adapter; the worker (itself an adapter)
imports these, and each registers its kinds with `@outbox.handler(kind)`.
"""

HANDLER_MODULES = [
    "slackbot.jobs",
    "incidents.tracker.jobs",
    "slackbot.guard_requests",
    "slackbot.guard_notices",
    "slackbot.review_requests",
    "slackbot.links",
]
