"""The report's shape (SPEC.md "API essentials"), for the OpenAPI document and the query args."""

import marshmallow as ma

Num, Int, Text = ma.fields.Float, ma.fields.Integer, ma.fields.String


def _rows(name: str, **fields) -> ma.fields.List:
    return ma.fields.List(ma.fields.Nested(ma.Schema.from_dict(fields, name=name)), required=True)


class ReportArgs(ma.Schema):
    start = ma.fields.Date(data_key="from", load_default=None,
                           metadata={"description": "First day of the period (incidents started)"})
    end = ma.fields.Date(data_key="to", load_default=None,
                         metadata={"description": "Last day of the period, inclusive"})
    team = Text(load_default=None)
    service = Text(load_default=None)
    origin = Text(load_default=None, validate=ma.validate.OneOf(
        ["ai_assisted", "human", "config", "third_party", "unknown"]),
        metadata={"description": "Only incidents (and changes) of this change origin"})
    format = Text(load_default="json", validate=ma.validate.OneOf(["json", "csv"]))


class PreventionFigures(ma.Schema):
    created, done, overdue, dropped = Int(), Int(), Int(), Int()
    completion_rate = Num(allow_none=True)
    weighted_completion_rate = Num(allow_none=True,
                                   metadata={"description": "Weighted by strength"})
    median_days_to_done = Num(allow_none=True)
    held = Int(metadata={"description": "Quiet through the watch window, guard alive "
                                        "throughout (held and verified)"})
    unverified = Int(metadata={"description": "Quiet through the watch window, but its guard "
                                              "was not proven alive (held, unverified)"})
    escaped, watching = Int(), Int()
    held_rate, unverified_rate = Num(allow_none=True), Num(allow_none=True)
    escaped_rate = Num(allow_none=True)
    tracker_linked = Int(metadata={"description": "items with an issue in a tracker"})
    tracker_unlinked = Int(metadata={"description": "items without one"})


class ReviewFigures(ma.Schema):
    published, with_structural_item = Int(), Int()
    median_time_to_review_s = Num(allow_none=True)
    median_time_to_prevent_s = Num(allow_none=True)


class ReviewStandings(ma.Schema):
    """Resolved incidents by where their review stands under the review policy."""

    published, awaiting, optional, not_required, skipped = Int(), Int(), Int(), Int(), Int()


class ChangeAttribution(ma.Schema):
    changes, unknown_changes = Int(), Int()
    unknown_share = Num(allow_none=True, metadata={"description": "Deployed changes of "
                                                                 "unknown origin ÷ all"})
    attribution_coverage = Num(allow_none=True)
    incidents_linked_to_a_change = Int()


class ReportOut(ma.Schema):
    filters = ma.fields.Dict()
    incidents = Int(required=True)
    leaks_by_station = _rows("StationLeaks", station_id=Int(), station=Text(), leaks=Int())
    recurrences_by_defect_class = _rows("DefectClassRecurrences", defect_class=Text(),
                                        recurrences=Int())
    recurrences_by_station = _rows("StationRecurrences", station_id=Int(), station=Text(),
                                   recurrences=Int())
    top_fingerprints = _rows("RecurringFingerprint", fingerprint=Text(), incidents=Int())
    prevention = ma.fields.Nested(PreventionFigures, required=True)
    structural_share = Num(allow_none=True, required=True)
    reviews = ma.fields.Nested(ReviewFigures)
    review_standings = ma.fields.Nested(ReviewStandings)
    guard_health_by_station = _rows("StationGuardHealth", station_id=Int(allow_none=True),
                                    station=Text(), done=Int(), **{
                                        h: Int() for h in ("alive", "failing", "stale",
                                                           "test_missing", "unverified",
                                                           "no_guard")})
    guard_health_by_team = _rows("TeamGuardHealth", team=Text(), done=Int(), **{
        h: Int() for h in ("alive", "failing", "stale", "test_missing", "unverified",
                           "no_guard")})
    by_month = _rows("MonthFigures", month=Text(), incidents=Int(),
                     median_time_to_detect_s=Num(allow_none=True),
                     median_time_to_restore_s=Num(allow_none=True))
    by_change_origin = _rows("ChangeOriginFigures", change_origin=Text(), incidents=Int(),
                             share=Num(allow_none=True),
                             median_time_to_detect_s=Num(allow_none=True),
                             median_time_to_restore_s=Num(allow_none=True), recurrences=Int(),
                             changes=Int(), incidents_per_100_changes=Num(allow_none=True),
                             share_of_changes=Num(allow_none=True))
    change_attribution = ma.fields.Nested(ChangeAttribution)
    leaks_by_origin = _rows("OriginLeaks", station_id=Int(), station=Text(), ai_assisted=Int(),
                            human=Int(), config=Int(), third_party=Int(), unknown=Int(),
                            total=Int())
