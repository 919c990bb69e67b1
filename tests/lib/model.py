r"""model.py - the test oracle: an independent Python reading of the spec (/work/shared/spec/api.md
sections 1, 2, 3, 5, 6 and 7) that integration tests compare the C answers with.

Use:
    import model
    snap = model.load(["samples"])                 # or model.from_texts({"a.yaml": "..."})
    status, body = snap.answer("/v1/namespaces", "sources=kyverno")
    text = snap.metrics(created=1700000000)
    model.load(...) also makes the snapshot the module default: model.answer(), model.metrics().

answer(path, qs, method="GET") -> (status, body):
    body is the parsed JSON value (dict/list) of a JSON answer, the text of /metrics, or None
    where the spec fixes no body (most 400s, 404, 405, 414): compare the status only then.
    HEAD answers like GET (the caller knows there is no body on the wire). `pretty` changes
    only the bytes, never the value: render(body, pretty) gives the bytes we expect.

Choices the spec leaves open, as this oracle makes them (the C must agree or the README says
otherwise):
  loading   files: a directory is walked recursively; files ending .json/.yaml/.yml, sorted by
            their path's bytes. JSON files are one document; YAML files any number, loaded with
            yaml.BaseLoader so every scalar is text. A UTF-8 BOM is dropped. Empty documents
            are skipped silently. Invalid documents (not a mapping; a kind other than
            PolicyReport, ClusterPolicyReport, Report, ClusterReport or a *List/List of them; a
            report kind whose apiVersion group is not wgpolicyk8s.io resp. openreports.io;
            metadata not a mapping; results/resources/subjects/items not a list; a result or
            resource not a mapping) and unparsable files raise LoadError, or with
            skip_invalid=True count one warning each and are skipped (a file that fails to
            parse keeps the documents before the failure). An empty scalar ("" / missing) in a
            structural field means absent.
  fallbacks message else description; resources else subjects; result else status; properties
            else data: for every kind and version.
  scored    true/false (JSON booleans, or the text true/false in any case); anything else null.
  timestamp timestamp.seconds as integer, float or numeric text (sign, digits, fraction,
            exponent: "1.666094801e+09" as yq writes it; integers exactly, others through a
            double like strtod), truncated toward zero; outside int64 or anything else: null.
            nanos is ignored.
  props     non-string values (numbers, booleans, maps, lists) dropped, "" values kept; the id
            hashes json.dumps(props, ensure_ascii=False, separators=(",", ":")): keys in input
            order, escapes \" \\ \n \r \t \b \f and \u00XX (lower-case hex) for other
            control characters, "/" and non-ASCII written as they are.
  filters   an empty filter value is ignored (a parameter with only empty values is absent);
            `rule` is a filter on every endpoint (rule-status-count requires it); for
            non-repeatable parameters (search, query, page, offset, direction, pagination.*) the
            last occurrence wins (but contains: a repeat is 400, as section 11 says);
            contains= narrows the results endpoints only (the summary is not modelled);
            '+' in the query string is a space, '%' must be followed by
            two hex digits, the decoded text must be UTF-8 (else 400); a raw query string over
            8192 bytes is 414. Validation (enums, numbers, query=, style mixing) applies on every
            endpoint that takes filters; ordering and pagination only on the results endpoints.
            direction is asc/desc in any case; pagination.sortOption.reversed exactly true/false.
            Numbers are plain digits; above 2^64-1 they are 400. /v1/results/{id}: the id is
            percent-decoded ('+' stays '+'); an id holding '/' must be sent as %2F.
  query=    field names case-insensitive, values not trimmed; "!" alone and an r/ pattern over
            256 bytes are 400. Regexes are POSIX ERE; this oracle runs them with Python's re
            (ASCII case folding, [:class:] translated), so tests must use patterns whose
            meaning is the same in both.
  sorting   Status sorts as text; Severity by rank (null first); Timestamp numerically, null
            first; every other field by bytes, null first; then the default order.
  detail    key order: the 13 row keys, then report, resource, scored, change, firstSeen
            (section 9: firstSeen is `created` for a key failing here and not in `previous`,
            whose firstSeen it keeps otherwise); resource null when all of
            apiVersion, kind, name, namespace, uid are blank.
  lists     results items carry properties as an object (or null) and timestamp as Unix seconds.
  auth off  /v1/auth/status {"userId":"anonymous","expires":null,"refreshUrl":null,
            "role":"Admin","namespaces":null}; /v1/mypermissions name "Admin".
  metrics   families in this order, a blank line between two families, each family opened by
            its HELP and TYPE lines even when it has no samples:
              cluster_policy_report_result, cluster_policy_report_summary,
              policy_report_result, policy_report_summary,
              polsnap_snapshot_timestamp_seconds, polsnap_snapshot_rows,
              polsnap_snapshot_warnings, polsnap_source_up.
            Result lines follow the default row order; neighbours that agree on namespace, name,
            kind, policy and rule are ordered by their label values (nulls first) and a label
            set is written once (a repeated series is invalid exposition). Other families are
            sorted by their label text (the bytes between the braces, then the value); five
            summary lines per report document. Result labels in the order category, kind, name,
            [namespace,] policy, report, rule, severity, source, status. Escaping: backslash,
            double quote, newline. HELP texts: see HELP below.
  warnings  one per result with a missing/invalid status, per duplicate row, per skipped
            invalid document or file, per report whose metadata.labels cannot be kept.
  PR3 (section 12)
            labels: metadata.labels kept when a mapping of at most 64 string values, keys of a
            non-empty name part of <= 63 bytes and an optional "prefix/" of <= 253, values of
            <= 63 bytes ("" allowed); else dropped with a warning. labels=k:v needs exactly one
            ':'; exclude=s:k at least one (the kind ends at a second ':'); both trimmed of
            spaces and tabs, others ignored. sortBy: Policy Reporter's column names or any sort
            field, any case; more than 16 is 400. Report lists: namespaced/cluster reports by
            (namespace, name, kind, load order), nulls first; filters namespaces and sources
            (folded, against the report's namespace and source) and labels; other filters
            ignored; labels in key order; counts in the order pass skip warn error fail.
"""
import hashlib
import json
import os
import re
import time

import yaml

STATUSES = ["pass", "fail", "warn", "error", "skip"]
SCOPES = ("namespaced-resources", "cluster-resources")  # namespaced, then cluster
SEVERITIES = ["critical", "high", "medium", "low", "info"]
SEVERITY_RANK = {None: 0, "info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
ROW_KEYS = ["id", "namespace", "kind", "name", "message", "category", "policy", "rule",
            "status", "severity", "source", "timestamp", "properties"]
REPORT_KINDS = {"PolicyReport": ("wgpolicyk8s.io", False),
                "ClusterPolicyReport": ("wgpolicyk8s.io", True),
                "Report": ("openreports.io", False),
                "ClusterReport": ("openreports.io", True)}
LIST_KINDS = {"List": None, "PolicyReportList": "PolicyReport",
              "ClusterPolicyReportList": "ClusterPolicyReport", "ReportList": "Report",
              "ClusterReportList": "ClusterReport"}
# Filter parameters (both spellings) -> the row field they match.
FILTER_PARAMS = {"sources": "source", "source": "source", "categories": "category",
                 "category": "category", "policies": "policy", "policy": "policy",
                 "namespaces": "namespace", "namespace": "namespace", "kinds": "kind",
                 "kind": "kind", "resources": "name", "resource": "name", "status": "status",
                 "severities": "severity", "severity": "severity", "rule": "rule"}
# query= fields -> row field ("report" is the report's metadata.name).
QUERY_FIELDS = {"namespace": "namespace", "kind": "kind", "resource": "name",
                "policy": "policy", "rule": "rule", "category": "category",
                "severity": "severity", "status": "status", "source": "source",
                "message": "message", "report": "report", "change": "change"}
GRPC = {400: 3, 401: 16, 403: 7, 404: 5, 405: 12, 500: 13, 503: 14}
# sortBy names (Policy Reporter's columns) -> row field ("uid": the resource's uid).
SORT_BY_COLUMNS = {"resource_namespace": "namespace", "resource_name": "name",
                   "resource_kind": "kind", "resource_uid": "uid", "policy": "policy",
                   "rule": "rule", "message": "message", "severity": "severity",
                   "status": "status", "source": "source", "category": "category"}
SORT_BY_MAX = 16
LABELS_MAX = 64
QUERY_MAX_BYTES = 8192
QUERY_MAX_REGEX = 256
LIMIT_MAX = 1000
CONTAINS_MAX = 256  # bytes of contains= (spec section 11)
HELP = {
    "cluster_policy_report_result": "List of all ClusterPolicyReport Results",
    "cluster_policy_report_summary": "Summary of all ClusterPolicyReports",
    "policy_report_result": "List of all PolicyReport Results",
    "policy_report_summary": "Summary of all PolicyReports",
    "polsnap_snapshot_timestamp_seconds": "Unix time the served snapshot was taken",
    "polsnap_snapshot_rows": "Rows (result and resource pairs) in the served snapshot",
    "polsnap_snapshot_warnings": "Warnings while building the served snapshot",
    "polsnap_source_up": "Whether the source was read completely for the served snapshot",
}
INT64_MAX = 2 ** 63 - 1
# libyaml's parser when PyYAML has it (same results, ~10x faster on generated data sets).
_YAML_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
_HTML_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold(s):
    """ASCII-only lower-casing, the spec's case-insensitivity."""
    return s.translate(_FOLD)


class LoadError(Exception):
    pass


class HTTPError(Exception):
    def __init__(self, status, message=None):
        Exception.__init__(self, message or str(status))
        self.status, self.message = status, message


def error_body(status, message):
    return {"code": GRPC[status], "message": message, "error": message, "details": []}


def render(body, pretty=False):
    """The bytes of a JSON answer: compact, or indented by two spaces with `pretty`."""
    if pretty:
        return json.dumps(body, ensure_ascii=False, indent=2).encode("utf-8")
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# ---------------------------------------------------------------- loading (sections 1 and 7)

def _text(v):
    """A string field: text that is not empty, else None (non-strings are blank)."""
    return v if isinstance(v, str) and v != "" else None


def _absent(v):
    return v is None or v == ""


def _structural(doc, key, want, origin):
    """A mapping/list field: None when absent, the value when of the wanted type, else invalid."""
    v = doc.get(key)
    if _absent(v):
        return None
    if not isinstance(v, want):
        raise _Invalid("%s: %s is not a %s" % (origin, key, "list" if want is list else "mapping"))
    return v


class _Invalid(Exception):
    pass


_INT = re.compile(r"^[+-]?[0-9]+$")
_NUM = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")


def _seconds(ts):
    if not isinstance(ts, dict):
        return None
    s = ts.get("seconds")
    if isinstance(s, bool):
        return None
    if isinstance(s, int):
        v = s
    elif isinstance(s, float):
        if s != s or s in (float("inf"), float("-inf")):
            return None
        v = int(s)
    elif isinstance(s, str) and _INT.match(s):
        v = int(s)
    elif isinstance(s, str) and _NUM.match(s):
        f = float(s)  # like strtod: "1.666094801e+09" as yq writes it
        if f != f or f in (float("inf"), float("-inf")):
            return None
        v = int(f)
    else:
        return None
    return v if -INT64_MAX - 1 <= v <= INT64_MAX else None


def _scored(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and fold(v) in ("true", "false"):
        return fold(v) == "true"
    return None


def _properties(v):
    """(properties dict of string values in input order or None, its compact JSON or None)."""
    if not isinstance(v, dict):
        return None, None
    kept = {k: x for k, x in v.items() if isinstance(k, str) and isinstance(x, str)}
    if not kept:
        return None, None
    return kept, json.dumps(kept, ensure_ascii=False, separators=(",", ":"))


def row_id(fields):
    """SHA-1 hex over the 17 identifying fields (snapshot/rows.h), blanks as ""."""
    return hashlib.sha1("\x1f".join(f or "" for f in fields).encode("utf-8")).hexdigest()


class Snapshot:
    def __init__(self, sources=None, no_crds=False, targets=None, created=0):
        self.rows = []       # row dicts, load order; internal keys start with "_"
        self.reports = []    # {"kind","name","namespace","cluster","counts":{status:n}}
        self.warnings = 0
        self.sources = list(sources or [])  # [(label, up)]
        self.no_crds = no_crds
        self.targets = list(targets or [])
        self.created = created
        self.previous = None     # the Snapshot this one is compared with (section 9)
        self.previous_id = None
        self.warning_log = []  # why each warning was counted, in order
        self._ids = set()
        self._by_id = {}

    # -- input
    def warn(self, why):
        self.warnings += 1
        self.warning_log.append(why)

    def add_text(self, origin, data, skip_invalid=False):
        """Loads one file's content (str or bytes); format from origin's extension."""
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as e:
                return self._fail(origin, "not UTF-8: %s" % e, skip_invalid)
        if data.startswith("\ufeff"):
            data = data[1:]
        # A file is all in or all out (as the C loader does): every document is staged
        # first, and only a file whose documents all load adds its rows.
        try:
            if origin.endswith(".json"):
                try:
                    docs = [(origin, json.loads(data))]
                except ValueError as e:
                    raise _Invalid("bad JSON: %s" % e)
            else:
                try:
                    docs = [("%s#%d" % (origin, i + 1), d)
                            for i, d in enumerate(yaml.load_all(data, Loader=_YAML_LOADER))]
                except yaml.YAMLError as e:
                    raise _Invalid("bad YAML: %s" % e)
            staged = []
            for where, d in docs:
                if not _absent(d):
                    try:
                        self._stage(d, where, staged)
                    except _Invalid as e:
                        raise _Invalid("%s: %s" % (where, e))
        except _Invalid as e:
            return self._fail(origin, str(e), skip_invalid)
        for report, rows in staged:
            self._commit(report, rows)

    def _fail(self, origin, why, skip_invalid):
        if not skip_invalid:
            raise LoadError("%s: %s" % (origin, why))
        self.warn("%s: %s" % (origin, why))

    def _stage(self, doc, origin, staged, inherit=None):
        if not isinstance(doc, dict):
            raise _Invalid("%s: not a mapping" % origin)
        kind = _text(doc.get("kind"))
        api = _text(doc.get("apiVersion"))
        if inherit:
            kind = kind or inherit[0]
            api = api or inherit[1]
        if kind in LIST_KINDS:
            items = _structural(doc, "items", list, origin) or []
            single = LIST_KINDS[kind]
            for i, it in enumerate(items):
                self._stage(it, "%s[%d]" % (origin, i), staged,
                            (single, api if single else None))
            return
        if kind not in REPORT_KINDS:
            raise _Invalid("%s: kind %r is not a report" % (origin, kind))
        group, cluster = REPORT_KINDS[kind]
        if not api or api.split("/")[0] != group:
            raise _Invalid("%s: apiVersion %r is not %s" % (origin, api, group))
        meta = _structural(doc, "metadata", dict, origin) or {}
        report = {"kind": kind, "name": _text(meta.get("name")),
                  "namespace": _text(meta.get("namespace")), "cluster": cluster,
                  "_labels": meta.get("labels")}
        scope = doc.get("scope")
        scope = scope if isinstance(scope, dict) else None
        top_source = _text(doc.get("source"))
        results = _structural(doc, "results", list, origin) or []
        report["source"] = top_source
        if top_source is None and results and isinstance(results[0], dict):
            report["source"] = _text(results[0].get("source"))
        report["id"] = row_id([kind, report["namespace"], report["name"]])
        rows = []
        for r in results:
            if not isinstance(r, dict):
                raise _Invalid("%s: a result is not a mapping" % origin)
            res = _structural(r, "resources", list, origin)
            if res is None:
                res = _structural(r, "subjects", list, origin)
            res = res or []
            for x in res:
                if not isinstance(x, dict):
                    raise _Invalid("%s: a resource is not a mapping" % origin)
            rows.append((r, res, scope, top_source))
        staged.append((report, rows))

    def _commit(self, report, results):
        ri = len(self.reports)
        report["counts"] = {s: 0 for s in STATUSES}
        report["labels"] = _report_labels(report.pop("_labels"))
        if report["labels"] == "unfit":
            self.warn("labels of report %s cannot be kept" % report["name"])
            report["labels"] = None
        self.reports.append(report)
        for r, res, scope, top_source in results:
            status_raw = _text(r.get("result"))
            if status_raw is None:
                status_raw = _text(r.get("status"))
            status = fold(status_raw) if status_raw is not None else None
            if status not in STATUSES:
                self.warn("invalid status %r" % status_raw)
                continue
            sev = _text(r.get("severity"))
            sev = fold(sev) if sev is not None else None
            if sev not in SEVERITIES:
                sev = None
            props_in = r.get("properties")
            if props_in is None:
                props_in = r.get("data")
            props, props_json = _properties(props_in)
            result_id = _text(props.get("resultID")) if props else None
            message = _text(r.get("message"))
            if message is None:
                message = _text(r.get("description"))
            common = {
                "message": message, "category": _text(r.get("category")),
                "policy": _text(r.get("policy")), "rule": _text(r.get("rule")),
                "status": status, "severity": sev,
                "source": _text(r.get("source")) or top_source,
                "timestamp": _seconds(r.get("timestamp")), "properties": props,
            }
            targets = res if res else ([scope] if scope is not None else [None])
            for t in targets:
                t = t or {}
                rv = {k: _text(t.get(k)) for k in ("apiVersion", "namespace", "kind", "name", "uid")}
                if len(res) <= 1 and result_id is not None:
                    rid = result_id
                else:
                    rid = row_id([report["kind"], report["namespace"], report["name"],
                                  rv["apiVersion"], rv["namespace"], rv["kind"], rv["name"],
                                  rv["uid"], result_id, common["policy"], common["rule"],
                                  status, sev, common["category"], common["source"],
                                  common["message"], props_json])
                if rid in self._ids:
                    self.warn("duplicate id %s" % rid)
                    continue
                self._ids.add(rid)
                if report["cluster"]:
                    ns = None
                else:
                    ns = report["namespace"] or rv["namespace"]
                row = {"id": rid, "namespace": ns, "kind": rv["kind"], "name": rv["name"]}
                row.update({k: common[k] for k in ROW_KEYS[4:]})
                row["_cluster"] = report["cluster"]
                row["_report"] = ri
                row["_resource"] = rv
                row["_scored"] = _scored(r.get("scored"))
                self.rows.append(row)
                report["counts"][status] += 1

    # -- reading the model
    def public_row(self, row):
        return {k: row[k] for k in ROW_KEYS}

    def scope_rows(self, cluster):
        return [r for r in self.rows if r["_cluster"] == cluster]

    def field(self, row, f):
        if f == "report":
            return self.reports[row["_report"]]["name"]
        if f == "change":
            return self.change(row)[0]
        return row[f]

    # -- changes since a previous snapshot (section 9)
    def finding_key(self, row):
        rep = self.reports[row["_report"]]
        what = (row["kind"], row["name"]) if (row["kind"], row["name"]) != (None, None) \
            else (None, None, rep["name"])
        return (row["_cluster"], row["namespace"]) + what + (row["source"], row["policy"],
                                                              row["rule"])

    def failing_keys(self):
        """{key: firstSeen (Unix seconds)} of every failing key."""
        if getattr(self, "_failing", None) is None:
            prev = self.previous.failing_keys() if self.previous else {}
            self._failing = {}
            for r in self.rows:
                if r["status"] in ("fail", "warn", "error"):
                    k = self.finding_key(r)
                    self._failing[k] = prev.get(k, self.created)
        return self._failing

    def change(self, row):
        """(change, firstSeen) of a row."""
        k = self.finding_key(row)
        failing = self.failing_keys()
        new = self.previous is not None and k in failing and k not in self.previous.failing_keys()
        return ("new" if new else "unchanged"), failing.get(k)

    def changes(self):
        if self.previous is None:
            return {"previous": None, "new": 0, "resolved": 0}
        now, before = self.failing_keys(), self.previous.failing_keys()
        return {"previous": self.previous_id, "new": len(set(now) - set(before)),
                "resolved": len(set(before) - set(now))}

    # -- HTTP (sections 2, 3, 5)
    def answer(self, path, qs="", method="GET"):
        try:
            return self._answer(path, qs or "", method)
        except HTTPError as e:
            if e.message is not None:
                return e.status, error_body(e.status, e.message)
            return e.status, None

    def _answer(self, path, qs, method):
        handler, arg = self._route(path)
        if handler is None:
            raise HTTPError(404)
        if method not in ("GET", "HEAD"):
            raise HTTPError(405)
        if len(qs.encode("utf-8")) > QUERY_MAX_BYTES:
            raise HTTPError(414)
        return handler(arg, qs)

    def _fixed_routes(self):
        return {
            "/v1/policy-reports": lambda a, qs: self._reports(False, qs),
            "/v1/cluster-policy-reports": lambda a, qs: self._reports(True, qs),
            "/v1/html-report/violations": self._html_violations,
            "/healthz": self._healthz, "/ready": self._ready, "/v1/ping": self._ping,
            "/v1/targets": self._targets, "/v1/auth/status": self._auth_status,
            "/v1/mypermissions": self._mypermissions, "/metrics": self._metrics,
            "/v1/categories": self._categories, "/v1/namespaces": self._namespaces,
            "/v1/rule-status-count": self._rule_status_count,
        }

    def _scoped_routes(self):
        return {"policies": self._strings("policy"), "kinds": self._strings("kind"),
                "sources": self._strings("source"), "categories": self._strings("category"),
                "resources": self._resources,
                "status-counts": self._status_counts, "results": self._results}

    def route_paths(self):
        """Every path this model answers ("/v1/results/{id}" for the detail): this oracle's own
        list, which tests/integration/test_endpoints.py compares with the server's table."""
        return (list(self._fixed_routes())
                + ["/v1/%s/%s" % (scope, name) for scope in SCOPES for name in self._scoped_routes()]
                + ["/v1/results/{id}"])

    def _route(self, path):
        fixed = self._fixed_routes()
        if path in fixed:
            return fixed[path], None
        for scope, cluster in zip(SCOPES, (False, True)):
            pre = "/v1/%s/" % scope
            if path.startswith(pre):
                h = self._scoped_routes().get(path[len(pre):])
                return (h, cluster) if h else (None, None)
        if path.startswith("/v1/results/") and len(path) > len("/v1/results/"):
            seg = path[len("/v1/results/"):]
            if "/" in seg:
                return None, None
            try:
                return self._detail, _pct_decode(seg, plus=False)
            except HTTPError:
                return None, None
        return None, None

    def _healthz(self, _a, _qs):
        if self.no_crds:
            return 503, {"error": "No PolicyReport CRDs found"}
        return 200, {}

    def _ready(self, _a, _qs):
        return 200, {}

    def _ping(self, _a, _qs):
        return 200, {"status": "ok"}

    def _targets(self, _a, _qs):
        return 200, list(self.targets)

    def _auth_status(self, _a, _qs):
        return 200, {"userId": "anonymous", "expires": None, "refreshUrl": None,
                     "role": "Admin", "namespaces": None}

    def _mypermissions(self, _a, _qs):
        return 200, {"name": "Admin", "globalAccess": "READ_ACCESS",
                     "resourceToAccess": {"PolicyReport": "READ_ACCESS",
                                          "ClusterPolicyReport": "READ_ACCESS",
                                          "Metrics": "READ_ACCESS"}}

    def _metrics(self, _a, _qs):
        return 200, self.metrics()

    def _select(self, rows, q, search=False):
        out = []
        for r in rows:
            if self._match(r, q, search):
                out.append(r)
        return out

    def _match(self, r, q, search):
        for f, vals in q["filters"].items():
            v = self.field(r, f)
            if v is None or fold(v) not in vals:
                return False
        if search and q["contains"] is not None:
            if not any(self.field(r, f) is not None and q["contains"] in fold(self.field(r, f))
                       for f in ("namespace", "kind", "name", "policy", "rule", "message")):
                return False
        if search and q["search"] is not None:
            s = q["search"]
            ok = any(self.field(r, f) is not None and fold(self.field(r, f)).startswith(s)
                     for f in ("namespace", "name", "policy", "rule"))
            ok = ok or any(self.field(r, f) is not None and fold(self.field(r, f)) == s
                           for f in ("severity", "status"))
            if not ok:
                return False
        for f, values in q["terms"]:
            v = self.field(r, f)
            if not any(_term_value_match(v, tv) for tv in values):
                return False
        if not self._labelled(self.reports[r["_report"]], q):
            return False
        for src, kind in q["exclude"]:
            if r["source"] is not None and r["kind"] is not None and \
                    fold(r["source"]) == fold(src) and fold(r["kind"]) == fold(kind):
                return False
        return True

    def _labelled(self, rep, q):
        labels = rep["labels"] or {}
        return all(labels.get(k) == v for k, v in q["labels"])

    def _html_violations(self, _a, qs):
        """The page as data (tests/integration/test_html_report.py parses the HTML into the
        same): the fail and error rows, cluster scope last, by namespace, policy, default order;
        one group per namespace and policy; blanks "-", control characters U+FFFD."""
        q = parse_query(qs)
        rows = [r for r in self._select(self.rows, q) if r["status"] in ("fail", "error")]
        rows.sort(key=lambda r: (r["_cluster"], _nk(r["namespace"]), _nk(r["policy"]),
                                 default_key(r)))
        show = lambda v: "-" if v is None else _HTML_CONTROL.sub("\ufffd", v)  # noqa: E731
        groups = []
        for r in rows:
            ns = "cluster scope" if r["_cluster"] else show(r["namespace"])
            if not groups or (groups[-1]["namespace"], groups[-1]["policy"]) != (ns, show(r["policy"])):
                groups.append({"namespace": ns, "policy": show(r["policy"]), "rows": []})
            groups[-1]["rows"].append([show(r[k]) for k in ("kind", "name", "rule", "status",
                                                            "severity", "message")])
        return 200, {"count": len(rows), "groups": groups}

    def _reports(self, cluster, qs):
        q = parse_query(qs)
        ns_f, src_f = q["filters"].get("namespace"), q["filters"].get("source")
        picked = []
        for i, rep in enumerate(self.reports):
            ns = None if cluster else rep["namespace"]
            if rep["cluster"] != cluster or not self._labelled(rep, q):
                continue
            if ns_f is not None and (ns is None or fold(ns) not in ns_f):
                continue
            if src_f is not None and (rep["source"] is None or fold(rep["source"]) not in src_f):
                continue
            picked.append((_nk(ns), _nk(rep["name"]), _nk(rep["kind"]), i))
        picked.sort()
        if q["desc"] or q["reversed"]:
            picked.reverse()
        first, count = window(q, len(picked))
        items = []
        for _, _, _, i in picked[first:first + count]:
            rep = self.reports[i]
            item = {"id": rep["id"], "name": rep["name"], "namespace": rep["namespace"],
                    "source": rep["source"], "labels": rep["labels"]}
            for st in ("pass", "skip", "warn", "error", "fail"):
                item[st] = rep["counts"][st]
            items.append(item)
        return 200, {"items": items, "count": len(picked)}

    def _categories(self, _a, qs):
        q = parse_query(qs)
        return 200, _distinct(r["category"] for r in self._select(self.rows, q))

    def _namespaces(self, _a, qs):
        q = parse_query(qs)
        return 200, _distinct(r["namespace"] for r in self._select(self.scope_rows(False), q))

    def _rule_status_count(self, _a, qs):
        q = parse_query(qs)
        if "policy" not in q["filters"] or "rule" not in q["filters"]:
            raise HTTPError(400)
        rows = self._select(self.rows, q)
        return 200, [{"status": s, "count": sum(1 for r in rows if r["status"] == s)}
                     for s in STATUSES]

    def _strings(self, f):
        def h(cluster, qs):
            q = parse_query(qs)
            return 200, _distinct(r[f] for r in self._select(self.scope_rows(cluster), q))
        return h

    def _resources(self, cluster, qs):
        q = parse_query(qs)
        seen = set()
        for r in self._select(self.scope_rows(cluster), q):
            if r["kind"] is None and r["name"] is None:
                continue
            seen.add((r["kind"], r["name"]))
        out = sorted(seen, key=lambda kn: (_nk(kn[0]), _nk(kn[1])))
        return 200, [{"kind": k, "name": n} for k, n in out]

    def _status_counts(self, cluster, qs):
        q = parse_query(qs)
        wanted = q["filters"].get("status")
        statuses = [s for s in STATUSES if wanted is None or s in wanted]
        rows = self._select(self.scope_rows(cluster), q)
        if cluster:
            return 200, [{"status": s, "count": sum(1 for r in rows if r["status"] == s)}
                         for s in statuses]
        out = []
        for s in statuses:
            per = {}
            for r in rows:
                if r["status"] == s and r["namespace"] is not None:
                    per[r["namespace"]] = per.get(r["namespace"], 0) + 1
            out.append({"status": s, "items": [{"namespace": ns, "count": per[ns]}
                                               for ns in sorted(per)]})
        return 200, out

    def _results(self, cluster, qs):
        q = parse_query(qs)
        rows = self._select(self.scope_rows(cluster), q, search=True)
        rows = self.order(rows, q)
        total = len(rows)
        first, count = window(q, total)
        return 200, {"items": [self.public_row(r) for r in rows[first:first + count]],
                     "count": total}

    def order(self, rows, q):
        rows = sorted(rows, key=default_key)
        f = q["sort_field"]
        if f is not None:
            rows.sort(key=lambda r: self._sort_key(r, f))  # stable: default order breaks ties
        if q["sort_by"]:
            rows.sort(key=lambda r: tuple(self._sort_key(r, k) for k in q["sort_by"]))
        if q["desc"] or q["reversed"]:
            rows.reverse()
        return rows

    def _sort_key(self, r, f):
        if f == "timestamp":
            t = r["timestamp"]
            return (0, 0) if t is None else (1, t)
        if f == "severity":
            return SEVERITY_RANK[r["severity"]]
        if f == "uid":
            return _nk(r["_resource"]["uid"])
        return _nk(self.field(r, f))

    def _detail(self, rid, qs):
        if len(self._by_id) != len(self.rows):
            self._by_id = {r["id"]: r for r in self.rows}
        if rid in self._by_id:
            return 200, self.detail(self._by_id[rid])
        raise HTTPError(404)

    def detail(self, r):
        d = self.public_row(r)
        if r["timestamp"] is not None:
            d["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(r["timestamp"]))
        rep = self.reports[r["_report"]]
        d["report"] = {"kind": rep["kind"], "name": rep["name"], "namespace": rep["namespace"]}
        rv = r["_resource"]
        d["resource"] = None if all(v is None for v in rv.values()) else {
            "apiVersion": rv["apiVersion"], "kind": rv["kind"], "name": rv["name"],
            "namespace": rv["namespace"], "uid": rv["uid"]}
        d["scored"] = r["_scored"]
        change, first_seen = self.change(r)
        d["change"] = change
        d["firstSeen"] = None if first_seen is None else time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(first_seen))
        return d

    # -- metrics (section 6)
    def metrics(self, created=None):
        created = self.created if created is None else created
        fam = {k: [] for k in HELP}
        # Result lines: rows in the default order; among neighbours that agree on namespace,
        # name, kind, policy and rule, by their label values (nulls first), each label set once.
        label_keys = ("category", "kind", "name", "namespace", "policy", "report", "rule",
                      "severity", "source", "status")
        def labels_of(r):
            rep = self.reports[r["_report"]]
            vals = dict(r, report=rep["name"])
            return [(k, vals[k]) for k in label_keys if k != "namespace" or not r["_cluster"]]
        ordered = sorted(self.rows, key=lambda r: (r["_cluster"],) + default_key(r)[:5] +
                         tuple(_nk(v) for _, v in labels_of(r)))
        last = None
        for r in ordered:
            key = (r["_cluster"],) + default_key(r)[:5] + tuple(_nk(v) for _, v in labels_of(r))
            if key == last:
                continue
            last = key
            name = "cluster_policy_report_result" if r["_cluster"] else "policy_report_result"
            fam[name].append((_labels(labels_of(r)), "1"))
        for rep in self.reports:
            for s in STATUSES:
                labels = [("name", rep["name"])]
                if not rep["cluster"]:
                    labels.append(("namespace", rep["namespace"]))
                labels.append(("status", s.capitalize()))
                name = "cluster_policy_report_summary" if rep["cluster"] else "policy_report_summary"
                fam[name].append((_labels(labels), str(rep["counts"][s])))
        fam["polsnap_snapshot_timestamp_seconds"].append(("", str(int(created))))
        fam["polsnap_snapshot_rows"].append(("", str(len(self.rows))))
        fam["polsnap_snapshot_warnings"].append(("", str(self.warnings)))
        for label, up in self.sources:
            fam["polsnap_source_up"].append((_labels([("source", label)]), "1" if up else "0"))
        blocks = []
        for name in HELP:
            lines = ["# HELP %s %s" % (name, HELP[name]), "# TYPE %s gauge" % name]
            samples = fam[name] if name.endswith("_result") else sorted(
                fam[name], key=lambda x: (x[0].encode("utf-8"), x[1]))
            for lt, v in samples:
                lines.append("%s%s %s" % (name, "{%s}" % lt if lt else "", v))
            blocks.append("\n".join(lines) + "\n")
        return "\n".join(blocks)


def _labels(pairs):
    return ",".join('%s="%s"' % (k, _escape_label(v)) for k, v in pairs)


def _escape_label(v):
    if v is None:
        return ""
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _nk(v):
    """Sort key: nulls first, then by code points (== UTF-8 byte order)."""
    return (0, "") if v is None else (1, v)


def default_key(r):
    return tuple(_nk(r[f]) for f in ("namespace", "name", "kind", "policy", "rule", "message", "id"))


def _report_labels(labels):
    """metadata.labels as kept (a dict in key order, None for none) or "unfit"."""
    if _absent(labels):
        return None
    if not isinstance(labels, dict) or len(labels) > LABELS_MAX:
        return "unfit"
    for k, v in labels.items():
        prefix, name = k.split("/", 1) if "/" in k else ("", k)
        if not isinstance(v, str) or name == "" or len(name.encode()) > 63 or \
                len(prefix.encode()) > 253 or len(v.encode()) > 63:
            return "unfit"
    return dict(sorted(labels.items(), key=lambda kv: kv[0].encode("utf-8"))) or None


def _distinct(values):
    return sorted({v for v in values if v is not None})


# ---------------------------------------------------------------- query string (sections 3, 7)

_HEX = "0123456789abcdefABCDEF"


def _pct_decode(s, plus=True):
    out = bytearray()
    b = s.encode("utf-8")
    i = 0
    while i < len(b):
        c = b[i]
        if c == 0x25:  # '%'
            if i + 2 >= len(b):
                raise HTTPError(400)
            h = b[i + 1:i + 3].decode("latin-1")
            if len(h) != 2 or h[0] not in _HEX or h[1] not in _HEX:
                raise HTTPError(400)
            out.append(int(h, 16))
            i += 3
        elif c == 0x2B and plus:
            out.append(0x20)
            i += 1
        else:
            out.append(c)
            i += 1
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPError(400)


def _number(v):
    if v is None or not re.fullmatch(r"[0-9]+", v):
        raise HTTPError(400)
    n = int(v)
    if n > 2 ** 64 - 1:
        raise HTTPError(400)
    return n


def parse_query(qs):
    """The validated request: {"filters": {field: set(folded values)}, "search", "terms":
    [(field, [value])], "page", "page_size", "desc", "limit", "offset", "sort_field",
    "reversed", "pretty"}. Raises HTTPError(400) on anything the spec rejects."""
    params = []
    for piece in qs.split("&"):
        if piece == "":
            continue
        if "=" in piece:
            k, v = piece.split("=", 1)
            params.append((_pct_decode(k), _pct_decode(v)))
        else:
            params.append((_pct_decode(piece), None))
    q = {"filters": {}, "search": None, "contains": None, "terms": [], "page": 0,
         "page_size": 0, "desc": False,
         "limit": None, "offset": 0, "sort_field": None, "reversed": False, "pretty": False,
         "labels": [], "exclude": [], "sort_by": []}
    last = {}
    for k, v in params:
        if k in ("labels", "exclude", "sortBy"):
            _pr3_param(q, k, v or "")
            last.setdefault("_pr3_" + k, True)
            continue
        if k in FILTER_PARAMS:
            if v is None or v == "":
                continue
            f = FILTER_PARAMS[k]
            fv = fold(v)
            if f == "status" and fv not in STATUSES:
                raise HTTPError(400)
            if f == "severity" and fv not in SEVERITIES:
                raise HTTPError(400)
            q["filters"].setdefault(f, set()).add(fv)
        elif k == "pretty":
            q["pretty"] = True
        elif k == "contains":
            # spec section 11: once at most, 256 bytes at most, empty ignored
            if "contains" in last or len((v or "").encode()) > CONTAINS_MAX:
                raise HTTPError(400)
            last[k] = v
        else:
            last[k] = v
    ref = [k for k in ("page", "offset", "direction", "_pr3_sortBy") if k in last]
    rox = [k for k in last if k.startswith("pagination.") and k in (
        "pagination.limit", "pagination.offset", "pagination.sortOption.field",
        "pagination.sortOption.reversed")]
    if ref and rox:
        raise HTTPError(400)
    if last.get("search"):
        q["search"] = fold(last["search"])
    if last.get("contains"):
        q["contains"] = fold(last["contains"])
    if last.get("query"):
        q["terms"] = parse_search_query(last["query"])
    if "page" in last:
        q["page"] = _number(last["page"])
    if "offset" in last:
        q["page_size"] = _number(last["offset"])
    if "direction" in last:
        d = fold(last["direction"] or "")
        if d not in ("asc", "desc"):
            raise HTTPError(400)
        q["desc"] = d == "desc"
    if "pagination.limit" in last:
        n = _number(last["pagination.limit"])
        if not 1 <= n <= LIMIT_MAX:
            raise HTTPError(400)
        q["limit"] = n
    if "pagination.offset" in last:
        q["offset"] = _number(last["pagination.offset"])
    if "pagination.sortOption.field" in last:
        f = fold(last["pagination.sortOption.field"] or "")
        if f == "timestamp":
            q["sort_field"] = "timestamp"
        elif f in QUERY_FIELDS:
            q["sort_field"] = QUERY_FIELDS[f]
        else:
            raise HTTPError(400)
    if "pagination.sortOption.reversed" in last:
        r = last["pagination.sortOption.reversed"]
        if r not in ("true", "false"):
            raise HTTPError(400)
        q["reversed"] = r == "true"
    return q


def _pr3_param(q, k, v):
    """labels, exclude and sortBy (section 12) into q."""
    if k == "sortBy":
        f = SORT_BY_COLUMNS.get(fold(v))
        if f is None:
            f = "timestamp" if fold(v) == "timestamp" else QUERY_FIELDS.get(fold(v))
        if f is None or len(q["sort_by"]) == SORT_BY_MAX:
            raise HTTPError(400)
        q["sort_by"].append(f)
        return
    parts = v.split(":")
    if len(parts) < 2 or (k == "labels" and len(parts) != 2):
        return
    q[k].append((parts[0].strip(" \t"), parts[1].strip(" \t")))


def window(q, total):
    """(first, count) of the page the request asks for among total ordered items."""
    if q["limit"] is not None or q["offset"]:
        first = min(q["offset"], total)
        count = total - first if q["limit"] is None else min(q["limit"], total - first)
        return first, count
    if q["page"] >= 1 and q["page_size"] >= 1:
        first = min((q["page"] - 1) * q["page_size"], total)
        return first, min(q["page_size"], total - first)
    return 0, total


_POSIX_CLASSES = {"alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z",
                  "lower": "a-z", "space": " \\t\\n\\r\\f\\v", "xdigit": "0-9A-Fa-f",
                  "punct": "!-/:-@\\[-`{-~", "blank": " \\t"}


def _compile_ere(pat):
    if len(pat.encode("utf-8")) > QUERY_MAX_REGEX:
        raise HTTPError(400)
    py = re.sub(r"\[:(\w+):\]", lambda m: _POSIX_CLASSES.get(m.group(1), m.group(0)), pat)
    try:
        return re.compile(py, re.IGNORECASE | re.ASCII)
    except re.error:
        raise HTTPError(400)


def parse_search_query(text):
    """query= text -> [(row field, [(how, negate, value)])]; how is prefix/exact/regex/any."""
    terms = []
    for term in text.split("+"):
        if ":" not in term:
            raise HTTPError(400)
        name, vals = term.split(":", 1)
        f = QUERY_FIELDS.get(fold(name))
        if f is None:
            raise HTTPError(400)
        values = []
        for v in vals.split(","):
            if v == "":
                continue
            neg = v.startswith("!")
            if neg:
                v = v[1:]
                if v == "":
                    raise HTTPError(400)
            if v.startswith('"'):
                if len(v) < 2 or not v.endswith('"'):
                    raise HTTPError(400)
                values.append(("exact", neg, fold(v[1:-1])))
            elif v.startswith("r/"):
                values.append(("regex", neg, _compile_ere(v[2:])))
            elif v == "*":
                values.append(("any", neg, None))
            else:
                values.append(("prefix", neg, fold(v)))
        if not values:
            raise HTTPError(400)
        terms.append((f, values))
    return terms


def _term_value_match(v, tv):
    how, neg, x = tv
    if v is None:
        hit = False
    elif how == "any":
        hit = True
    elif how == "exact":
        hit = fold(v) == x
    elif how == "prefix":
        hit = fold(v).startswith(x)
    else:
        hit = x.search(v) is not None
    return hit != neg


# ---------------------------------------------------------------- entry points

def _files_under(path):
    if os.path.isfile(path):
        return [path]
    out = []
    for d, dirs, files in os.walk(path, followlinks=True):
        dirs[:] = [x for x in dirs if not x.startswith(".")]  # dot entries are skipped
        for f in files:
            if f.endswith((".json", ".yaml", ".yml")) and not f.startswith("."):
                out.append(os.path.join(d, f))
    return sorted(out, key=lambda p: os.fsencode(p))


def load(paths, skip_invalid=False, sources=None, no_crds=False, targets=None, created=0,
         default=True):
    """A Snapshot of every report under the given files:/directory paths (each like a
    `--source files:PATH`), sources up by default. Becomes the module default unless
    default=False."""
    if isinstance(paths, str):
        paths = [paths]
    snap = Snapshot(sources if sources is not None else [("files:" + p, True) for p in paths],
                    no_crds, targets, created)
    for p in paths:
        for f in _files_under(p):
            with open(f, "rb") as fh:
                snap.add_text(f, fh.read(), skip_invalid)
    if default:
        global _default
        _default = snap
    return snap


def from_texts(files, skip_invalid=False, sources=None, **kw):
    """A Snapshot from {name: content}: names sorted by bytes, format from the extension."""
    snap = Snapshot(sources if sources is not None else [("files:test", True)], **kw)
    for name in sorted(files, key=lambda n: n.encode("utf-8")):
        snap.add_text(name, files[name], skip_invalid)
    return snap


_default = None


def answer(path, qs="", method="GET"):
    return _default.answer(path, qs, method)


def metrics(created=None):
    return _default.metrics(created)


def rows():
    """The default snapshot's rows as the API shows them (13 keys), in load order."""
    return [_default.public_row(r) for r in _default.rows]
