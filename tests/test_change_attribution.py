"""How a change's origin is decided from its record: trailers, accounts, labels, rules,
declarations — and unknown whenever the evidence does not decide (never human by default)."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from incidents.change import attribution
from incidents.change.attribution import classify, glob_match, trailers_in


def change(*, messages=(), labels=(), author=None, declared=None, squashed=None, title="",
           repository="acme/checkout", service="checkout"):
    return SimpleNamespace(trailers=trailers_in(messages), labels=list(labels), author=author,
                           declared_origin=declared, squashed=squashed, title=title,
                           repository=repository, service=service)


def rule(field, pattern, origin):
    return SimpleNamespace(field=field, pattern=pattern, origin=origin)


# Trailer forms as the assistants write them (see attribution.ASSISTANTS for the sources).
@pytest.mark.parametrize("message, assistant", [
    ("Fix retry\n\nCo-Authored-By: Claude <noreply@anthropic.com>", "Claude Code"),
    ("Fix retry\n\nCo-Authored-By: Claude Opus 4.7 (1M context) <noreply@anthropic.com>",
     "Claude Code"),
    ("Fix retry\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)",
     "Claude Code"),
    ("Fix retry\n\nClaude-Session: https://claude.ai/code/session_01abc", "Claude Code"),
    ("Fix (#12)\n\n---------\n\nCo-authored-by: copilot-swe-agent[bot] "
     "<198982749+Copilot@users.noreply.github.com>\nCo-authored-by: famda "
     "<26621392+famda@users.noreply.github.com>", "GitHub Copilot"),
    ("Fix\n\nCo-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>",
     "GitHub Copilot"),
    ("Fix\n\nMade-with: Cursor", "Cursor"),
    ("Fix\n\nCo-authored-by: Cursor <cursoragent@cursor.com>", "Cursor"),
    ("Fix\n\nCo-authored-by: aider (gpt-4o) <noreply@aider.chat>", "Aider"),
    ("Fix\n\nCo-Authored-By: Devin AI <158243242+devin-ai-integration[bot]@users.noreply"
     ".github.com>", "Devin"),
    ("Fix\n\nCo-authored-by: Codex <noreply@openai.com>", "OpenAI Codex"),
    ("Fix\n\nCo-authored-by: Amp <amp@ampcode.com>", "Amp"),
])
def test_known_assistants_trailers_make_a_change_ai_assisted(message, assistant):
    decided = classify(change(messages=[message]), [])
    assert decided.origin == "ai_assisted"
    assert assistant in decided.reason or "says an AI assistant" in decided.reason


@pytest.mark.parametrize("line", ["Assisted-by: Claude:claude-3-opus",
                                  "Generated-by: GitHub Copilot"])
def test_assisted_by_and_generated_by_conventions_count(line):
    decided = classify(change(messages=[f"Fix\n\n{line}"]), [])
    assert decided.origin == "ai_assisted" and line in decided.reason


def test_assisted_by_none_is_no_evidence():
    assert classify(change(messages=["Fix\n\nAssisted-by: none"]), []).origin == "unknown"


@pytest.mark.parametrize("author, origin", [
    ("Copilot", "ai_assisted"), ("copilot-swe-agent[bot]", "ai_assisted"),
    ("devin-ai-integration[bot]", "ai_assisted"), ("Ada Lovelace (aider)", "ai_assisted"),
    ("dependabot[bot]", "third_party"), ("renovate[bot]", "third_party"),
    ("octocat", "unknown"),
])
def test_author_accounts(author, origin):
    assert classify(change(author=author), []).origin == origin


def test_a_human_colleague_named_claude_is_not_an_assistant():
    decided = classify(change(messages=["Fix\n\nCo-authored-by: Claude Dupont "
                                        "<claude@acme.example>"]), [])
    assert decided.origin == "unknown"


def test_no_evidence_is_unknown_never_human():
    decided = classify(change(messages=["Fix the pagination edge case"], author="sam"), [])
    assert decided.origin == "unknown"
    assert "no evidence" in decided.reason and "no commit trailers" in decided.reason


def test_a_squash_merge_that_lost_its_trailers_is_unknown_and_says_why():
    # The squashed commits carried a Claude trailer; the squash commit's edited message lost it.
    squash = change(messages=["Payment client retries on timeout (#41)"], squashed=True,
                    labels=["payments"])
    decided = classify(squash, [rule("label", "ai-assisted", "ai_assisted")])
    assert decided.origin == "unknown"
    assert "squash merge" in decided.reason and "proves nothing" in decided.reason


def test_a_squash_merge_that_kept_its_trailers_is_attributed():
    kept = change(messages=["Retries (#41)\n\n* retry\n\nCo-authored-by: Cursor "
                            "<cursoragent@cursor.com>"], squashed=True)
    assert classify(kept, []).origin == "ai_assisted"


def test_human_needs_positive_evidence_a_rule_gives_it():
    rules = [rule("label", "human-written", "human")]
    decided = classify(change(labels=["human-written"]), rules)
    assert decided.origin == "human"
    assert decided.reason == "rule 1: label “human-written” matches “human-written” → human"


def test_human_evidence_against_an_assistant_trailer_is_unknown():
    rules = [rule("label", "human-written", "human")]
    decided = classify(change(labels=["human-written"], messages=[
        "Fix\n\nCo-authored-by: Claude <noreply@anthropic.com>"]), rules)
    assert decided.origin == "unknown"
    assert decided.reason.startswith("conflicting evidence: rule 1")
    assert "Claude Code" in decided.reason
    assert len(decided.evidence) == 2


def test_a_declaration_decides_before_rules_and_trailers():
    rules = [rule("label", "*", "config")]
    declared = change(labels=["anything"], declared="third_party",
                      messages=["x\n\nCo-authored-by: Cursor <cursoragent@cursor.com>"])
    decided = classify(declared, rules)
    assert decided.origin == "third_party" and "declared" in decided.reason
    assert any("rule 1" in line for line in decided.evidence)


def test_a_declared_human_against_an_assistant_trailer_is_unknown():
    decided = classify(change(declared="human", messages=[
        "x\n\nAssisted-by: Claude:claude-opus-4"]), [])
    assert decided.origin == "unknown" and "conflicting" in decided.reason


def test_the_first_matching_rule_wins_and_rules_beat_builtins():
    rules = [rule("repository", "acme/infra-*", "config"),
             rule("trailer", "co-authored-by: *@anthropic.com*", "ai_assisted")]
    infra = change(repository="acme/infra-dns",
                   messages=["x\n\nCo-authored-by: Claude <noreply@anthropic.com>"])
    assert classify(infra, rules).origin == "config"
    app = change(messages=["x\n\nCo-authored-by: Claude <noreply@anthropic.com>"])
    assert classify(app, rules).reason.startswith("rule 2: trailer")


def test_trailers_are_read_from_every_line_but_only_hyphenated_keys():
    found = trailers_in(["Subject\n\nNote: not a trailer\nhttps://x.example/a:b\n"
                         "Signed-off-by: Sam <sam@example.com>\nCo-authored-by:   Kim <k@x>  ",
                         "Other\n\nCo-authored-by: Kim <k@x>"])
    assert found == ["Signed-off-by: Sam <sam@example.com>", "Co-authored-by: Kim <k@x>"]


@pytest.mark.parametrize("pattern, text, expected", [
    ("ai-assisted", "AI-Assisted", True), ("ai-*", "ai-assisted", True),
    ("*bot]", "renovate[bot]", True), ("*bot]", "renovate[bot] x", False),
    ("a*b*c", "aXbYc", True), ("a*b*c", "acb", False), ("ab*ab", "ab", False),
    ("*", "", True), ("co-authored-by: *@anthropic.com*",
                      "Co-authored-by: Claude <noreply@anthropic.com>", True),
])
def test_glob_match(pattern, text, expected):
    assert glob_match(pattern, text) is expected


def test_matching_and_trailer_reading_stay_linear_on_pathological_input():
    text = "a" * 200_000
    started = time.perf_counter()
    assert not glob_match("*a*a*a*a*a*a*a*a*a*a*b", text)
    trailers_in(["Co-authored-by: " + "x" * 500_000 + "\n" + "k-" * 100_000 + ": v"] * 2)
    trailers_in(["\n".join(f"Key-{i}: v" for i in range(50_000))])
    assert time.perf_counter() - started < 2.0


def test_trailers_are_capped():
    found = trailers_in(["\n".join(f"Co-authored-by: p{i} <p{i}@x>" for i in range(500))])
    assert len(found) == attribution.MAX_TRAILERS
