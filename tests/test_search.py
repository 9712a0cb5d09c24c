"""Full-text search: what it finds, that it stays current, that both databases answer alike,
and that no input makes it fail (FTS syntax, huge words, thousands of words)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from incidents.incident import search
from incidents.incident import service as incidents
from incidents.incident.models import IncidentSearch
from incidents.review import service as reviews
from incidents.timeline import service as timeline
from tests.helpers import count_queries


@pytest.fixture
def history(session):
    """Three incidents whose words sit in different places."""
    checkout = incidents.declare(session=session, title="Checkout errors after deploy",
                                 severity="SEV2", service="billing",
                                 description="Card payments failed for EU customers")
    timeline.add_event(session=session, incident=checkout,
                       text="Rolled back the feature flag kafka-consumer-v2")
    search_down = incidents.declare(session=session, title="Search latency", service="search")
    review = reviews.start(session=session, incident_id=search_down.id)
    reviews.save(session=session, review=review, base_revision=review.revision,
                 markdown="## Summary\nThe Elasticsearch heap filled: a **capacity** gap.")
    dns = incidents.declare(session=session, title="DNS résolution failing", service="edge")
    session.commit()
    return {"checkout": checkout.id, "search": search_down.id, "dns": dns.id}


def _found(api, q) -> list[int]:
    response = api.get("/api/v1/incidents", query_string={"q": q})
    assert response.status_code == 200, response.get_json()
    return sorted(item["id"] for item in response.get_json()["items"])


# One table of searches and answers, run on SQLite (FTS5) and PostgreSQL (GIN) alike.
EXPECTED = [
    ("checkout", ["checkout"]),  # title
    ("CHECKOUT Errors", ["checkout"]),  # case aside
    ("card customers", ["checkout"]),  # description
    ("billing", ["checkout"]),  # service
    ("kafka", ["checkout"]),  # timeline, split at the hyphen
    ("kafka-consumer-v2", ["checkout"]),
    ("consumer v2", ["checkout"]),
    ("elasticsearch", ["search"]),  # review write-up
    ("capacity", ["search"]),  # inside Markdown emphasis
    ("elastic", ["search"]),  # a word's beginning
    ("lastic", []),  # not its middle
    ("search heap", ["search"]),  # words from title and review together
    ("checkout heap", []),  # every word must match, in one incident
    ("résolution", ["dns"]),
    ("resolution", []),  # accents are kept, on both databases
    ("declared", ["checkout", "dns", "search"]),  # the declaration on every timeline
    ("nothing-like-this", []),
]


@pytest.mark.parametrize(("q", "names"), EXPECTED, ids=[q for q, _ in EXPECTED])
def test_search_finds_words_wherever_they_were_written(api, history, q, names):
    assert _found(api, q) == sorted(history[name] for name in names)


def test_the_incident_list_search_box_uses_it(client, auth, history):
    auth.login_as("viewer")
    page = client.get("/incidents", query_string={"q": "elasticsearch"}).get_data(as_text=True)
    assert "Search latency" in page and "Checkout errors" not in page


def test_search_follows_title_description_and_service_changes(api, history):
    checkout = history["checkout"]
    response = api.patch(f"/api/v1/incidents/{checkout}",
                         json={"title": "Basket failures", "service": "basket"})
    assert response.status_code == 200
    assert _found(api, "basket failures") == [checkout]
    assert _found(api, "billing") == []  # the old service is gone
    assert _found(api, "card") == [checkout]  # the description is untouched
    # The old title stays findable through the timeline's "Incident declared: …" entry.
    assert _found(api, "errors after deploy") == [checkout]


def test_search_forgets_a_replaced_description(api, session, history):
    incident = incidents.get(session=session, incident_id=history["checkout"])
    incidents.update(session=session, incident=incident,
                     changes=incidents.Changes(description="Tokenizer vault unreachable"))
    session.commit()
    assert _found(api, "tokenizer vault") == [history["checkout"]]
    assert _found(api, "card") == []


def test_search_follows_the_review_write_up(api, history):
    url = f"/api/v1/incidents/{history['search']}/review"
    revision = api.get(url).get_json()["revision"]
    response = api.put(url, json={"markdown": "Shard rebalancing stalled.",
                                  "revision": revision})
    assert response.status_code == 200
    assert _found(api, "rebalancing") == [history["search"]]
    assert _found(api, "elasticsearch") == []


def test_search_finds_new_and_edited_timeline_text_and_keeps_the_earlier(api, session, history):
    dns = history["dns"]
    response = api.post(f"/api/v1/incidents/{dns}/timeline", json={"text": "Resolver pool drained"})
    assert response.status_code == 201
    assert _found(api, "resolver drained") == [dns]
    timeline.edit_event(session=session, event_id=response.get_json()["id"],
                        text="Upstream resolver timed out")
    session.commit()
    assert _found(api, "upstream") == [dns]
    assert _found(api, "drained") == [dns]  # the timeline keeps the earlier text; so does search


def test_events_added_in_one_batch_are_found(api, session, history):
    incident = incidents.get(session=session, incident_id=history["dns"])
    timeline.add_events(session=session, incident=incident, events=[
        {"text": "Zone transfer refused", "external_key": "a"},
        {"text": "Anycast route withdrawn", "external_key": "b"}])
    session.commit()
    assert _found(api, "anycast zone") == [history["dns"]]


# --- bounded, and never a 500 ----------------------------------------------------------------

HOSTILE = [
    '"', "'", '""', '"checkout', "checkout\"", "NEAR", "NEAR(checkout errors)",
    "checkout NEAR/2 errors", "*", "checkout*", "-", "-checkout", "^", "^checkout",
    "checkout OR dns", "AND", "NOT checkout", "checkout:*", "checkout & errors | !dns",
    "(checkout", "checkout)", "{checkout}", "title:checkout", "incident_terms:checkout",
    "\\", "%", "_", "\x00", "checkout\x00errors", "😀", "' OR 1=1 --", "a" * 5000,
    "checkout" + "x" * 100_000, "é" * 3000, "<script>alert(1)</script>",
]


@pytest.mark.parametrize("q", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_searches_answer_results_or_a_clean_400(api, history, q):
    response = api.get("/api/v1/incidents", query_string={"q": q})
    assert response.status_code in (200, 400), response.get_data(as_text=True)[:300]
    assert "items" in response.get_json() or response.get_json()["field"] == "q"


def test_fts_syntax_is_read_as_words(api, history):
    assert _found(api, '"checkout') == [history["checkout"]]
    assert _found(api, "-checkout") == [history["checkout"]]  # not NOT
    assert _found(api, "checkout OR dns") == []  # OR is a word like any other
    assert _found(api, "NEAR(checkout errors)") == []
    assert _found(api, "checkout*") == [history["checkout"]]
    assert _found(api, "*") == []  # nothing to search for: nothing matches


def test_ten_thousand_words_are_refused_at_once(api, client, auth, history):
    words = " ".join(f"w{i}" for i in range(10_000))
    started = time.perf_counter()
    response = api.get("/api/v1/incidents", query_string={"q": words})
    assert response.status_code == 400 and response.get_json()["field"] == "q"
    auth.login_as("viewer")
    page = client.get("/incidents", query_string={"q": words})
    assert page.status_code == 200 and b"at most 20 different words" in page.data
    assert time.perf_counter() - started < 5


def test_ten_thousand_repeats_are_one_search(api, history):
    assert _found(api, " ".join(["Checkout", "errors"] * 5_000)) == [history["checkout"]]


def test_search_words_are_distinct_cut_and_capped():
    assert search.search_words("Kafka kafka KAFKA-lag") == ["kafka", "lag"]
    assert search.search_words("x" * 500) == ["x" * 100]
    assert len(search.search_words(" ".join(f"w{i}" for i in range(20)))) == 20
    with pytest.raises(Exception, match="at most 20"):
        search.search_words(" ".join(f"w{i}" for i in range(21)))


def test_stored_words_stay_bounded(session, history):
    incident = incidents.get(session=session, incident_id=history["dns"])
    flood = " ".join(f"word{i}" for i in range(60_000))  # far past the section's cap
    for start in range(0, 60_000, 2_000):
        timeline.add_event(session=session, incident=incident,
                           text=" ".join(flood.split()[start:start + 2_000]))
    session.commit()
    row = session.scalar(select(IncidentSearch).where(IncidentSearch.incident_id == incident.id))
    assert len(row.timeline_terms) <= search.MAX_SECTION_CHARS
    assert "word0" in row.timeline_terms.split()


def test_a_search_adds_no_statement_to_the_list(app, api, history):
    engine = app.extensions["linecheck.engine"]
    api.get("/api/v1/incidents")
    with count_queries(engine) as plain:
        api.get("/api/v1/incidents")
    with count_queries(engine) as searched:
        api.get("/api/v1/incidents", query_string={"q": "checkout errors kafka"})
    assert len(searched) == len(plain)
