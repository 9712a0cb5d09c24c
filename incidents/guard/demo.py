"""Guards for the demo set: one alive, one failing since a recent run, one manual guard
confirmed by hand — so `make run` shows every part of guard health."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.guard import runs, service
from incidents.guard.models import RunResult, TestResult
from incidents.prevention.models import PreventionItem

# item title → (guard, the results of its daily runs on main, newest last)
GUARDS = {
    "Contract test against the payment provider sandbox": (
        service.GuardSpec(service.Provider.GITHUB, repository="example/checkout",
                          name="contract-tests",
                          url="https://github.com/example/checkout/actions/workflows/"
                              "contract.yml"),
        [RunResult.PASSED] * 20),
    "Contract test between indexer and database schema": (
        service.GuardSpec(service.Provider.GITLAB, repository="example/indexer",
                          name="schema-contract", test_id="indexer.SchemaContractTest.columns"),
        [RunResult.PASSED] * 8 + [RunResult.FAILED] * 2),
}


def load(*, session: Session, now: datetime) -> None:
    items = {item.title: item for item in session.scalars(select(PreventionItem))}
    for title, (guard, results) in GUARDS.items():
        item = items[title]
        service.set_guard(session=session, item=item, given=guard)
        reports = []
        for day, result in enumerate(results):
            at = now - timedelta(days=len(results) - day, hours=3)
            reports.append(runs.RunReport(
                source=guard.provider.value, kind="job", run_key=f"demo:{title}:{day}",
                repository=guard.repository, name=guard.name, result=result, completed_at=at,
                branch="main", default_branch="main", external_id=str(1000 + day),
                tests={guard.test_id: TestResult(result.value)} if guard.test_id else None))
        # The same check on a pull request's branch: shown on the item page, never counted.
        reports.append(runs.RunReport(
            source=guard.provider.value, kind="job", run_key=f"demo:{title}:pr",
            repository=guard.repository, name=guard.name, result=RunResult.FAILED,
            completed_at=now - timedelta(hours=5), branch="feature/retry-budget",
            default_branch="main"))
        runs.record(session=session, runs=reports)
    alert = items["Alert when a certificate expires within 21 days"]
    service.confirm(session=session, item=alert, in_place=True,
                    note="Checked the rule in Grafana: fires at 21 days",
                    now=now - timedelta(days=6))
    session.flush()
