import marshmallow as ma

from incidents.incident.models import ChangeOrigin, DetectionMethod, Severity, Source, Status

_severities = [s.value for s in Severity]
_statuses = [s.value for s in Status]
_origins = [o.value for o in ChangeOrigin]
_detections = [d.value for d in DetectionMethod]


class IncidentOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    description = ma.fields.String()
    severity = ma.fields.String(required=True, validate=ma.validate.OneOf(_severities))
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(_statuses))
    source = ma.fields.String(required=True)
    service = ma.fields.String(allow_none=True, required=True)
    team = ma.fields.Function(lambda i: i.team.name if i.team else None, allow_none=True)
    change_origin = ma.fields.String(validate=ma.validate.OneOf(_origins))
    detection_method = ma.fields.String(validate=ma.validate.OneOf(_detections))
    dedup_key = ma.fields.String(allow_none=True)
    slack_channel_id = ma.fields.String(allow_none=True)
    started_at = ma.fields.AwareDateTime(required=True)
    detected_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    resolved_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    created_at = ma.fields.AwareDateTime(required=True)


class IncidentCreate(ma.Schema):
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=300))
    severity = ma.fields.String(load_default="SEV3", validate=ma.validate.OneOf(_severities))
    service = ma.fields.String(load_default=None, allow_none=True,
                               validate=ma.validate.Length(max=200))
    team = ma.fields.String(load_default=None, allow_none=True,
                            validate=ma.validate.Length(max=100))
    description = ma.fields.String(load_default="")
    started_at = ma.fields.AwareDateTime(load_default=None, allow_none=True)
    detected_at = ma.fields.AwareDateTime(load_default=None, allow_none=True)
    change_origin = ma.fields.String(load_default="unknown", validate=ma.validate.OneOf(_origins))
    detection_method = ma.fields.String(load_default="unknown",
                                        validate=ma.validate.OneOf(_detections))


class IncidentPatch(ma.Schema):
    title = ma.fields.String(validate=ma.validate.Length(min=1, max=300))
    severity = ma.fields.String(validate=ma.validate.OneOf(_severities))
    status = ma.fields.String(validate=ma.validate.OneOf(_statuses))
    service = ma.fields.String(validate=ma.validate.Length(max=200))
    team = ma.fields.String(validate=ma.validate.Length(max=100))
    description = ma.fields.String()
    started_at = ma.fields.AwareDateTime()
    detected_at = ma.fields.AwareDateTime()
    resolved_at = ma.fields.AwareDateTime()
    change_origin = ma.fields.String(validate=ma.validate.OneOf(_origins))
    detection_method = ma.fields.String(validate=ma.validate.OneOf(_detections))
    summary = ma.fields.String(metadata={"description": "Resolution summary, with status=resolved"})


class IncidentQuery(ma.Schema):
    status = ma.fields.String(validate=ma.validate.OneOf(_statuses))
    severity = ma.fields.String(validate=ma.validate.OneOf(_severities))
    service = ma.fields.String()
    source = ma.fields.String(validate=ma.validate.OneOf([s.value for s in Source]))
    team = ma.fields.String()
    q = ma.fields.String(metadata={"description": "Words that must all appear in the title"})
