"""The outbox core: queue once, claim once, retry with backoff or Retry-After, die with a reason,
keep one incident's jobs in order, and let another worker take a job whose lease ran out."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from incidents.db import utcnow
from incidents.incident import service as incidents
from incidents.outbox import service as outbox
from incidents.outbox.models import JobState, OutboxJob
from incidents.outbox.worker import Worker
from tests.fake_slack import FakeSlack, reload

RAN: list[tuple[str, int]] = []  # (kind, job id) of every handler run, in order
_lock = threading.Lock()
SCRIPT: dict[str, list] = {}  # job key → what its next runs raise (None: succeed)


def _run(job: outbox.Job) -> None:
    with _lock:
        RAN.append((job.key, job.attempts))
        planned = SCRIPT.get(job.key) or []
        outcome = planned.pop(0) if planned else None
    if outcome is not None:
        raise outcome


outbox.handler("test.job", failure="The test job could not run")(_run)
LONG = {"entered": threading.Event(), "release": threading.Event()}


@outbox.handler("test.long")
def _long(job: outbox.Job) -> None:
    LONG["entered"].set()
    assert LONG["release"].wait(10)


@pytest.fixture(autouse=True)
def _clean():
    RAN.clear()
    SCRIPT.clear()
    for event in LONG.values():
        event.clear()
    yield


def queue(session, key, *, incident_id=None, **kwargs) -> bool:
    queued = outbox.enqueue(session=session, kind="test.job", key=key, payload={"n": key},
                            incident_id=incident_id, **kwargs)
    session.commit()
    return queued


def job(session, key) -> OutboxJob:
    session.rollback()
    session.expire_all()
    return session.scalar(select(OutboxJob).where(OutboxJob.key == key))


def test_the_same_intent_is_queued_once(app, session):
    assert queue(session, "a") is True
    assert queue(session, "a") is False
    assert outbox.drain(app) == 1
    assert RAN == [("a", 1)]
    assert job(session, "a").state == JobState.DONE and job(session, "a").done_at is not None


def test_a_rolled_back_change_queues_nothing(app, session):
    outbox.enqueue(session=session, kind="test.job", key="gone", payload={})
    session.rollback()
    assert outbox.drain(app) == 0 and RAN == []


def test_payload_must_be_json_at_enqueue(session):
    with pytest.raises(TypeError):
        outbox.enqueue(session=session, kind="test.job", key="bad", payload={"at": object()})


def test_a_job_scheduled_later_waits_for_its_time(app, session):
    queue(session, "later", available_at=utcnow() + timedelta(hours=1))
    assert outbox.drain(app) == 0 and RAN == []


def test_retry_after_is_honoured_then_the_job_succeeds(app, session):
    # Three seconds, so a loaded machine cannot make the job due before the second look.
    SCRIPT["r"] = [outbox.Retry("rate limited", after=3)]
    queue(session, "r")
    started = utcnow()
    assert outbox.drain(app) == 1
    retrying = job(session, "r")
    assert retrying.state == JobState.QUEUED and retrying.last_error == "rate limited"
    assert retrying.available_at >= started + timedelta(seconds=3)
    assert outbox.drain(app) == 0  # not due yet
    outbox.drain(app, wait=True)
    assert [attempt for key, attempt in RAN] == [1, 2]
    assert job(session, "r").state == JobState.DONE and utcnow() - started >= timedelta(seconds=3)


def test_an_unexpected_error_is_retried_with_growing_backoff(app, session):
    # A first retry at least half a second away, so one drain is one attempt on a busy machine.
    app.config["OUTBOX_BACKOFF_SECONDS"] = 1.0
    SCRIPT["e"] = [RuntimeError("boom"), RuntimeError("boom again")]
    queue(session, "e")
    outbox.drain(app)
    first = job(session, "e")
    assert first.last_error == "RuntimeError: boom" and first.attempts == 1
    outbox.drain(app, wait=True)
    assert job(session, "e").state == JobState.DONE and len(RAN) == 3


def test_backoff_doubles_with_jitter_and_is_capped(app):
    app.config.update(OUTBOX_BACKOFF_SECONDS=2.0, OUTBOX_MAX_BACKOFF_SECONDS=10.0)
    worker = Worker(app)
    for attempts, (low, high) in {1: (1, 2), 2: (2, 4), 3: (4, 8), 9: (5, 10)}.items():
        delays = [worker._backoff(attempts) for _ in range(50)]
        assert all(low <= d <= high for d in delays)
        assert len(set(delays)) > 1  # jittered


def test_dead_job_keeps_its_reason_and_can_be_retried_or_discarded(app, session):
    SCRIPT["d"] = [outbox.Dead("channel_not_found")]
    queue(session, "d")
    outbox.drain(app)
    dead = job(session, "d")
    assert dead.state == JobState.DEAD and dead.last_error == "channel_not_found"
    assert outbox.failure_text(dead) == "The test job could not run: channel_not_found"
    assert outbox.drain(app) == 0  # dead jobs are not run again by themselves

    outbox.retry_dead(session=session, job_id=dead.id)
    session.commit()
    outbox.drain(app)
    assert job(session, "d").state == JobState.DONE and len(RAN) == 2

    SCRIPT["d2"] = [outbox.Dead("invalid_auth")]
    queue(session, "d2")
    outbox.drain(app)
    outbox.discard(session=session, job_id=job(session, "d2").id)
    session.commit()
    assert job(session, "d2").state == JobState.DISCARDED
    assert queue(session, "d2") is False  # discarded intent stays taken


def test_retrying_forever_ends_dead_after_the_maximum(app, session):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 3
    SCRIPT["m"] = [RuntimeError("still down")] * 5
    queue(session, "m")
    outbox.drain(app, wait=True)
    dead = job(session, "m")
    assert dead.state == JobState.DEAD and dead.attempts == 3
    assert dead.last_error == "gave up after 3 attempts; last: RuntimeError: still down"


def test_unknown_kind_waits_for_a_worker_that_knows_it(app, session):
    outbox.enqueue(session=session, kind="test.from_a_newer_release", key="x", payload={})
    session.commit()
    outbox.drain(app)
    waiting = session.scalar(select(OutboxJob).where(OutboxJob.kind == "test.from_a_newer_release"))
    assert waiting.state == JobState.QUEUED and "no handler" in waiting.last_error
    assert waiting.available_at > utcnow() + timedelta(seconds=50)


def test_jobs_of_one_incident_run_in_order_even_while_the_first_retries(app, session):
    incident = incidents.declare(session=session, title="Ordered")
    other = incidents.declare(session=session, title="Unrelated")
    session.commit()
    SCRIPT["first"] = [outbox.Retry("slow down", after=2)]  # long enough for a loaded machine
    queue(session, "first", incident_id=incident.id)
    queue(session, "second", incident_id=incident.id)
    queue(session, "elsewhere", incident_id=other.id)
    outbox.drain(app)
    # "second" waits behind "first"; the other incident's job does not.
    assert [key for key, _ in RAN] == ["first", "elsewhere"]
    outbox.drain(app, wait=True)
    assert [key for key, _ in RAN] == ["first", "elsewhere", "first", "second"]


def test_a_dead_job_does_not_hold_back_its_incident(app, session):
    incident = incidents.declare(session=session, title="Dead first")
    session.commit()
    SCRIPT["dead-first"] = [outbox.Dead("refused")]
    queue(session, "dead-first", incident_id=incident.id)
    queue(session, "after", incident_id=incident.id)
    outbox.drain(app)
    assert [key for key, _ in RAN] == ["dead-first", "after"]


def test_two_workers_draining_one_queue_run_every_job_once(app, session):
    incident = incidents.declare(session=session, title="Busy")
    session.commit()
    keys = [f"job-{n}" for n in range(40)]
    for n, key in enumerate(keys):
        outbox.enqueue(session=session, kind="test.job", key=key, payload={},
                       incident_id=incident.id if n % 4 == 0 else None)
    session.commit()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def drain():
        try:
            with app.app_context():
                worker = Worker(app)
                barrier.wait()
                worker.run(drain=True)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sorted(key for key, _ in RAN) == sorted(keys)
    ordered = [key for key, _ in RAN if int(key.split("-")[1]) % 4 == 0]
    assert ordered == sorted(ordered, key=lambda k: int(k.split("-")[1]))
    session.rollback()
    assert set(session.scalars(select(OutboxJob.state))) == {JobState.DONE}


def test_a_lease_that_runs_out_lets_another_worker_finish_the_job(app, session):
    app.config["OUTBOX_LEASE_SECONDS"] = 0.3
    queue(session, "orphan")
    with app.app_context():
        dying, survivor = Worker(app, name="dying"), Worker(app, name="survivor")
        claimed = dying.claim()  # …and the process dies before running it
        assert claimed is not None
        assert survivor.claim() is None  # leased: nobody else takes it yet
        deadline = time.monotonic() + 5
        while (taken := survivor.claim()) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert taken is not None and taken[0].attempts == 2
        survivor.execute(*taken)
        dying.execute(*claimed)  # a late finish under the lost lease changes nothing…
    finished = job(session, "orphan")
    assert finished.state == JobState.DONE and finished.leased_by is None
    assert len(RAN) == 2  # …though, idempotent, its handler may have run


def test_a_heartbeat_keeps_a_long_job_from_being_taken(app, session):
    app.config["OUTBOX_LEASE_SECONDS"] = 0.3
    queue(session, "long")
    entered, release = LONG["entered"], LONG["release"]
    outbox.enqueue(session=session, kind="test.long", key="long", payload={})
    session.commit()
    with app.app_context():
        worker = Worker(app)
        claimed = worker.claim()
        while claimed[0].kind != "test.long":  # run the plain job first
            worker.execute(*claimed)
            claimed = worker.claim()
        runner = threading.Thread(target=worker.execute, args=claimed)
        runner.start()
        assert entered.wait(10)
        other = Worker(app, name="other")
        checks = 0
        deadline = time.monotonic() + 1.2  # four lease lengths
        while time.monotonic() < deadline:
            assert other.claim() is None
            checks += 1
            time.sleep(0.05)
        release.set()
        runner.join(10)
    assert checks > 5
    session.rollback()
    assert session.scalar(select(OutboxJob.state).where(OutboxJob.kind == "test.long")) == "done"


# --- vendor answers -----------------------------------------------------------------------------

@pytest.fixture
def vendor():
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def _outcome_of_requests(url):
    try:
        requests.post(url, timeout=5).raise_for_status()
    except requests.RequestException as exc:
        return outbox.vendor_failure(exc)
    return None


def test_vendor_answers_map_to_retry_or_dead(vendor):
    url = vendor.api_url + "issues.create"
    vendor.fail("issues.create", "slow down", status=429, retry_after=7)
    limited = _outcome_of_requests(url)
    assert isinstance(limited, outbox.Retry) and limited.after == 7
    vendor.fail("issues.create", "oops", status=502)
    server_error = _outcome_of_requests(url)
    assert isinstance(server_error, outbox.Retry) and server_error.after is None
    vendor.fail("issues.create", "no such project", status=404)
    assert isinstance(_outcome_of_requests(url), outbox.Dead)
    unreachable = _outcome_of_requests("http://127.0.0.1:9/issues.create")
    assert isinstance(unreachable, outbox.Retry) and "network error" in unreachable.reason


def test_slack_sdk_errors_map_the_same_way(vendor):
    client = WebClient(token="xoxb-test", base_url=vendor.api_url)
    vendor.fail("chat.postMessage", "ratelimited", status=429, retry_after=3)
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1", text="hi")
    limited = outbox.vendor_failure(raised.value)
    assert isinstance(limited, outbox.Retry) and limited.after == 3


def test_retry_after_reads_seconds_and_http_dates():
    assert outbox.retry_after({"retry-after": "30"}) == 30
    soon = (utcnow() + timedelta(seconds=120)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert 100 < outbox.retry_after({"Retry-After": soon}) <= 120
    assert outbox.retry_after({}) is None and outbox.retry_after({"Retry-After": "soon"}) is None


# --- the command line ---------------------------------------------------------------------------

def test_worker_drain_and_status_commands(app, runner, session):
    SCRIPT["cli-dead"] = [outbox.Dead("not_in_channel")]
    SCRIPT["cli-retry"] = [outbox.Retry("rate limited", after=600)]
    for key in ("cli-ok", "cli-dead", "cli-retry"):
        queue(session, key)
    result = runner.invoke(args=["worker", "--drain"])
    assert result.exit_code == 0 and "ran 3 jobs" in result.output
    status = runner.invoke(args=["worker", "--status"])
    assert status.exit_code == 0
    assert "queued 0, retrying 1, dead 1, done 1" in status.output
    assert "rate limited" in status.output and "not_in_channel" in status.output
    assert reload(session, OutboxJob, job(session, "cli-ok").id).state == JobState.DONE


def test_the_worker_prunes_old_done_jobs_once_an_hour_and_nothing_else(app, session):
    app.config["OUTBOX_KEEP_DONE_DAYS"] = 30
    for key in ("old", "recent", "old-dead", "old-queued"):
        queue(session, key)
    long_ago = utcnow() - timedelta(days=31)
    rows = {key: job(session, key) for key in ("old", "recent", "old-dead", "old-queued")}
    rows["old"].state, rows["old"].done_at = JobState.DONE, long_ago
    rows["recent"].state, rows["recent"].done_at = JobState.DONE, utcnow() - timedelta(days=29)
    rows["old-dead"].state, rows["old-dead"].available_at = JobState.DEAD, long_ago
    rows["old-queued"].available_at = utcnow() + timedelta(hours=1)
    session.commit()

    worker = Worker(app)
    assert worker.run(drain=True) == 0  # nothing due; the idle worker prunes
    assert job(session, "old") is None
    assert {key for key in rows if job(session, key) is not None} == {
        "recent", "old-dead", "old-queued"}

    queue(session, "old")  # its key is free again, and the next purge waits an hour
    finished = job(session, "old")
    finished.state, finished.done_at = JobState.DONE, long_ago
    session.commit()
    assert worker.prune() == 0 and job(session, "old") is not None
    assert worker.prune(every=0) == 1 and job(session, "old") is None


def test_keeping_done_jobs_for_zero_days_keeps_them_all(app, session):
    app.config["OUTBOX_KEEP_DONE_DAYS"] = 0
    queue(session, "kept")
    kept = job(session, "kept")
    kept.state, kept.done_at = JobState.DONE, utcnow() - timedelta(days=400)
    session.commit()
    assert Worker(app).prune() == 0 and job(session, "kept") is not None
