"""The blame-language guard on sentences written the way real postmortems are written.

The corpus is scored as a whole (precision and recall printed, floors asserted), and a few
behaviours that must always hold get tests of their own.
"""

import pytest

from incidents.blame import advice
from incidents.blame.guard import Flag, check

BLAMEFUL = [
    "The outage was caused by human error during the database failover.",
    "Root cause: operator error when applying the Terraform plan.",
    "A clear case of user error: the admin deleted the wrong bucket.",
    "Dana should have known that the flag was still on in production.",
    "The on-call engineer should have noticed the disk filling up hours earlier.",
    "The reviewer should have caught the missing null check.",
    "Grace should have realised the migration would lock the table.",
    "The contractor should've tested the new mapping on staging.",
    "If Ben had been paying attention, the alert would not have been missed.",
    "Mike failed to check the migration against a production-sized dataset.",
    "The engineer failed to follow the rollback runbook.",
    "We failed to notice that the certificate was about to expire.",
    "Priya forgot to update the feature flag before the launch.",
    "Someone forgot to renew the TLS certificate.",
    "Forgot to bump the schema version in the client.",
    "Yuki neglected to run the smoke tests before the release.",
    "This was a careless change to the load balancer config.",
    "The deploy was rushed and careless.",
    "Negligent handling of the secrets file exposed the API key.",
    "Matt was careless with the production credentials.",
    "The team was not paying attention during the migration window.",
    "Lack of attention by the reviewer allowed the bug to ship.",
    "Sloppy code review let the bug through.",
    "Honestly this one is Sam's fault.",
    "It was the intern's fault for running the script against prod.",
    "Blame lies with the payments team for skipping the load test.",
    "The corrupted index was a mistake by the platform team.",
    "Anna's mistake in the YAML took down the ingress.",
    "The release manager dropped the ball on the change freeze.",
    "Chris fat-fingered the IP range in the firewall rule.",
    "The operator messed up the DNS record during the cutover.",
    "@dana pushed a bad config to the EU cluster at 14:02.",
    "Dana broke prod by merging without waiting for CI.",
    "@raj merged the PR without review.",
    "Tom deployed an untested build to all regions at once.",
    "Nobody double-checked, and @sven ran the wrong migration.",
    "The developer ignored the failing integration test.",
    "Our SRE overlooked the warning in the Terraform plan output.",
    "The SRE on call ignored the alert for forty minutes.",
    "He didn't check the dashboards after the rollout.",
    "The author never tested the retry path.",
    "The on-call missed the page because they were at lunch.",
    "Eric skipped the canary stage to save time.",
    "Jen introduced the regression in the pricing service.",
    "Kevin caused the outage when he restarted the primary.",
    "The outage happened because Laura approved the change without reading it.",
    "It's on Omar for not reading the release notes.",
]

BLAMELESS = [
    "The check failed to run because the CI runner was out of disk.",
    "The deploy should have been blocked by CI, but the required check was not configured.",
    "The alert failed to fire because the threshold was set on the wrong metric.",
    "A configuration change broke the parser for EU date formats.",
    "The canary should have caught the latency regression but only received 1% of traffic.",
    "CI should have caught this; the integration suite does not cover the payment client.",
    "The integration tests should have covered zero-decimal currencies.",
    "The migration failed to apply on the replica.",
    "The payment provider failed to respond within the 3s timeout.",
    "Search failed to return results for accounts created after the alias switch.",
    "The test suite failed to detect the race because it runs single-threaded.",
    "Deploy 4411 introduced a new serialisation format for amounts.",
    "The linter missed the unused import because the rule was disabled.",
    "The rollout missed one region because the region list was hard-coded.",
    "Retries caused a thundering herd against the database.",
    "A missing index caused the query to scan 40M rows.",
    "The schema change broke the indexer, which still read the old field.",
    "Checkout broke for EU customers after the currency mapping changed.",
    "The pipeline skipped the security scan for docs-only changes.",
    "Dana rolled back the deploy at 14:20 and error rates recovered.",
    "Kelly deployed the fix at 15:10.",
    "@raj paged the database team at 14:05.",
    "Priya noticed the error spike on the dashboard and declared the incident.",
    "The on-call engineer acknowledged the page within two minutes.",
    "The engineers on call followed the runbook and restored service in 30 minutes.",
    "Nobody was paged because the alert routed to a retired rotation.",
    "The alert was missed because it fired in a channel with 300 other alerts.",
    "The code review did not flag the change because the diff hid the generated file.",
    "Staging did not reproduce the issue because it runs with a tenth of the data.",
    "The runbook was out of date, so the rollback took 40 minutes.",
    "Time to detect was 4 minutes; time to restore was 2.5 hours.",
    "The health check reported green while the worker pool was deadlocked.",
    "There was no contract test between the checkout service and the payment client.",
    "Alerting on queue depth did not exist before this incident.",
    "The flag service was unreachable and clients fell back to defaults as designed.",
    "This review is blameless: it is not anyone's fault that the tooling allowed this.",
    "The new client sends the amount as a string, which the provider rejects.",
    "The dependency upgrade changed the default prefetch from 100 to 1.",
    "The certificate expired because renewal was a manual calendar reminder.",
    "Error handling on the parser's error path swallowed the exception.",
    "The error budget for checkout was exhausted by Tuesday.",
    "We added a contract test so the provider mismatch fails in CI.",
    "The dashboard showed the spike, but no alert was attached to it.",
    "Detection relied on customer reports because the SLO alert was misconfigured.",
    "Stripe changed the API response shape without a version bump.",
    "Terraform applied the plan to both regions because the workspace defaulted to all.",
    "The review process has no step that checks migrations against production-sized data.",
    "Because the flag defaulted to on, the new code path ran in every region.",
    "The human-readable log line did not include the tenant id.",
    "Mistakes in configuration are caught only at rollout; we need validation earlier.",
    "Who merged this is not the question; which check should have stopped it is.",
]


def test_corpus_has_at_least_sixty_sentences():
    assert len(BLAMEFUL) + len(BLAMELESS) >= 60


def test_precision_and_recall_on_the_postmortem_corpus(capsys):
    true_pos = sum(1 for s in BLAMEFUL if check(s))
    false_neg = [s for s in BLAMEFUL if not check(s)]
    false_pos = [(s, [f.phrase for f in check(s)]) for s in BLAMELESS if check(s)]
    precision = true_pos / (true_pos + len(false_pos))
    recall = true_pos / len(BLAMEFUL)
    with capsys.disabled():
        print(f"\nblame guard on {len(BLAMEFUL) + len(BLAMELESS)} sentences: "
              f"precision {precision:.2f}, recall {recall:.2f}")
        for sentence in false_neg:
            print(f"  missed: {sentence}")
        for sentence, phrases in false_pos:
            print(f"  wrongly flagged: {sentence} {phrases}")
    # Sentences written for these tests flatter any guard; the honest measure is the shared
    # corpus's held-out split (tests/test_blame_corpus.py). This only catches regressions.
    assert precision >= 0.95
    assert recall >= 0.85


@pytest.mark.parametrize(("text", "rule", "phrase"), [
    ("Root cause: human error.", "human_error", "human error"),
    ("Dana should have known better.", "hindsight", "should have known"),
    ("The engineer failed to check the config.", "person_failure",
     "The engineer failed to"),
    ("Sam forgot to renew it.", "forgot", "Sam forgot to"),
    ("That was careless.", "character", "careless"),
    ("It was Bob's fault.", "fault", "Bob's fault"),
    ("A mistake by the on-call.", "mistake_by", "mistake by the on-call"),
    ("They dropped the ball.", "blame_idiom", "dropped the ball"),
    ("@dana pushed a bad config", "person_failure", "@dana pushed a bad"),
    ("Dana broke prod", "person_failure", "Dana broke"),
])
def test_each_rule_flags_its_phrase_with_span_and_question(text, rule, phrase):
    flags = check(text)
    assert [f.rule for f in flags] == [rule]
    flag = flags[0]
    assert text[flag.start:flag.end] == flag.phrase == phrase
    assert flag.question.endswith("?")


@pytest.mark.parametrize("text", [
    "the check failed to run",
    "the deploy should have been blocked by CI",
    "the alert failed to fire",
    "a configuration change broke the parser",
])
def test_systemic_sentences_are_not_flagged(text):
    assert check(text) == []


def test_spans_index_the_original_text_in_a_longer_write_up():
    text = "## Summary\n\nThe alert fired.\n\nThen @maya forgot to page payments. Human error."
    flags = check(text)
    assert [(f.rule, text[f.start:f.end]) for f in flags] == [
        ("forgot", "@maya forgot to"), ("human_error", "Human error")]


def test_flag_key_ignores_case_and_spacing():
    a, b = check("Human  error"), check("human error")
    assert a[0].key == b[0].key == ("human_error", "human error")


def test_empty_text_has_no_flags():
    assert check("") == []


def test_flags_do_not_overlap():
    flags = check("It was human error, Dana's fault: she failed to check and forgot to test.")
    assert all(a.end <= b.start for a, b in zip(flags, flags[1:], strict=False))
    assert isinstance(flags[0], Flag)


@pytest.mark.parametrize("title", [
    "Be more careful with production configs",
    "Update the docs for the failover procedure",
    "Add a reminder to renew certificates",
    "Train people on the new deploy tool",
    "Remind everyone to check the dashboard after deploys",
    "Double-check migrations before merging",
    "Improve communication between teams",
])
def test_advice_like_titles_are_flagged_weak(title):
    assert advice.advice_like(title) is not None


@pytest.mark.parametrize("title", [
    "Add a contract test between checkout and the payment client",
    "Reject non-integer amounts for zero-decimal currencies in the schema",
    "Alert when certificate expiry is under 14 days",
    "Block deploys when the migration check fails in CI",
    "Put the EU search alias behind a drift detector",
])
def test_structural_titles_are_not_flagged_weak(title):
    assert advice.advice_like(title) is None


def test_a_long_write_up_is_checked_in_linear_time():
    import time

    text = "The check failed to run because the runner was out of disk. Dana forgot to page. "
    started = time.perf_counter()
    flags = check(text * 2500)  # about 200,000 characters, the write-up's limit
    assert len(flags) == 2500
    assert time.perf_counter() - started < 10
