"""`python -m bench`: seed, measure on SQLite (and PostgreSQL with BENCH_DATABASE_URL), print
one table of figures beside their targets."""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback

from bench import hooks, reads, recurrence, slack
from bench.harness import Database, Result, make_app, temp_dir
from bench.seed import seed
from incidents.db import make_engine

MEASUREMENTS = ["pages", "report", "candidates", "memory", "slack", "pagerduty", "storm"]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", default=",".join(MEASUREMENTS),
                        help=f"comma-separated subset of: {', '.join(MEASUREMENTS)}")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and few repetitions: checks the suite runs, no more")
    parser.add_argument("--incidents", type=int, help="full data size (default 100,000)")
    parser.add_argument("--small", type=int,
                        help="size for the query-count comparison (default 10,000)")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both",
                        help="postgresql needs BENCH_DATABASE_URL (default: both when set)")
    args = parser.parse_args(argv)
    args.selected = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = args.selected - set(MEASUREMENTS)
    if unknown:
        parser.error(f"unknown measurement(s): {', '.join(sorted(unknown))}")
    args.incidents = args.incidents or (5_000 if args.quick else 100_000)
    args.small = args.small or (1_000 if args.quick else 10_000)
    args.repeat = 10 if args.quick else 40
    return args


def guarded(name: str, database: str, fn) -> list[Result]:
    """Run one measurement; a failure becomes a missed row, and the others still run."""
    try:
        results = fn()
    except Exception as exc:  # a benchmark reports what broke and carries on
        traceback.print_exc()
        results = [Result(name, database, f"failed: {type(exc).__name__}: {exc}"[:160], "",
                          False)]
    for r in results:  # as they come, so a long run shows progress
        print(f"  {r.measurement} [{r.database}]: {r.figures}", file=sys.stderr)
    return results


def run_database(db: Database, args) -> list[Result]:
    results: list[Result] = []
    selected = args.selected
    reading = selected & {"pages", "report"}
    with db:
        small_counts: dict = {}
        if reading:
            db.reset()
            seeded = _seed(db, args.small)
            app = make_app(db.url)
            reader = reads.Reader(app, reads.prepare(app))
            small_counts = reads.query_counts(reader, reading, seeded)
            app.extensions["linecheck.engine"].dispose()
        if "storm" in selected:
            db.reset()
            results += guarded("alert storm", db.name, lambda: hooks.storm(db, args))
        if not selected - {"storm"}:
            return results
        db.reset()
        seeded = _seed(db, args.incidents)
        app = make_app(db.url)
        actors = reads.prepare(app)
        if reading:
            reader = reads.Reader(app, actors)
            results += guarded("reads", db.name, lambda: reads.measure(
                reader, reading, seeded, small_counts, args.small, db.name, args.repeat))
        if "candidates" in selected:
            results += guarded("recurrence candidates", db.name,
                               lambda: recurrence.candidates(app, seeded, db.name))
        if "memory" in selected:
            results += guarded("peak memory", db.name,
                               lambda: recurrence.memory(db, actors, seeded))
        if "slack" in selected:
            results += guarded("/incident note", db.name, lambda: slack.measure(db, args))
        if "pagerduty" in selected:
            results += guarded("PagerDuty ingestion", db.name, lambda: hooks.pagerduty(db, args))
        app.extensions["linecheck.engine"].dispose()
    return results


def _seed(db: Database, size: int):
    engine = make_engine(db.url)
    start = time.perf_counter()
    seeded = seed(engine, incidents=size)
    engine.dispose()
    print(f"  seeded {size:,} incidents on {db.name} in {time.perf_counter() - start:.0f} s",
          file=sys.stderr)
    return seeded


def table(results: list[Result]) -> str:
    header = ("measurement", "database", "figures", "target", "")
    rows = [(r.measurement, r.database, r.figures, r.target,
             {True: "met", False: "MISSED", None: "—"}[r.met]) for r in results]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    postgres = os.environ.get("BENCH_DATABASE_URL")
    results: list[Result] = []
    with temp_dir() as directory:
        databases = []
        if args.database in ("sqlite", "both"):
            databases.append(Database.sqlite(directory))
        if args.database in ("postgresql", "both") and postgres:
            databases.append(Database(postgres, "postgresql"))
        elif args.database == "postgresql":
            print("--database postgresql needs BENCH_DATABASE_URL", file=sys.stderr)
            return 2
        for db in databases:
            print(f"benchmarking on {db.name}…", file=sys.stderr)
            try:
                results += run_database(db, args)
            except Exception as exc:  # seeding or setup broke: still print what was measured
                traceback.print_exc()
                results.append(Result("setup", db.name, f"failed: {type(exc).__name__}: {exc}"
                                      [:160], "", False))
    print(table(results))
    if not postgres:
        print("\n(PostgreSQL skipped: set BENCH_DATABASE_URL, e.g. "
              "postgresql+psycopg://postgres@127.0.0.1:5432/lc_bench — created and dropped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
