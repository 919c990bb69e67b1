"""fake_central.py - a fake StackRox Central for tests: recorded API answers over real TLS.

The answers in tests/fixtures/stackrox have the shapes Central's REST gateway writes
(protojson with EmitUnpopulated: camelCase keys, enums by name, RFC 3339 timestamps, every
unset field present except unset oneof members), from stackrox/stackrox's
proto/api/v1/alert_service.proto (ListAlerts: GET /v1/alerts -> {"alerts": [ListAlert]},
GetAlert: GET /v1/alerts/{id} -> storage.Alert) and proto/storage/alert.proto; errors are
Central's ExtendedRpcStatus ({"code", "message", "details", "error"}).
    list-alerts.json       one ListAlertsResponse: 8 alerts, newest first (Central's order)
    alerts/ID.json         the GetAlert answer of each
    error-401/403/500.json Central's error bodies for those statuses

    from fake_central import FakeCentral
    with FakeCentral() as c:
        c.serve()                      # the recorded alerts, paged as the source asks
        c.serve(many(1203))            # more alerts than one page and the detail cap
        c.route("/v1/alerts", c.error(401))   # any fault of fake_https.resp
        ... c.url, c.ca_file, c.list_requests(), c.detail_requests() ...
"""
import copy
import json
import os
import socket

from fake_https import FakeHTTPS, resp

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "stackrox")
PAGE = 500  # pagination.limit the source sends (SR_PAGE in snapshot/source_stackrox.c)
DETAIL_MAX = 1000  # alerts whose details the source reads (SR_DETAIL_MAX)


def _load(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return json.load(f)


def recorded():
    """[(ListAlert, Alert)] as recorded, newest first."""
    return [(a, _load(os.path.join("alerts", a["id"] + ".json")))
            for a in _load("list-alerts.json")["alerts"]]


def many(n):
    """n alerts cloned round-robin from the recorded ones, each with a fresh id (uuid-shaped,
    deterministic) and its entity renamed "NAME-i", so every one is a distinct result."""
    base = recorded()
    out = []
    for i in range(n):
        lst, det = copy.deepcopy(base[i % len(base)])
        aid = "%08x-0000-4000-8000-%012x" % (0xA1E47000 + i, i)
        lst["id"] = det["id"] = aid
        for entity in ("deployment", "resource", "node"):
            for doc in (lst, det):
                if doc.get(entity):
                    doc[entity]["name"] = "%s-%d" % (doc[entity]["name"], i)
        out.append((lst, det))
    return out


class FakeCentral(FakeHTTPS):
    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        # http.server writes the headers and the body in two sends; with Nagle on, the body
        # waits for the client's delayed ACK (~40 ms a request, 45 s for the detail-cap test).
        # TODO(fake_https): set TCP_NODELAY in _Server.finish_request, then drop this.
        accept = self._server.finish_request

        def finish_request(request, client_address):
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            accept(request, client_address)
        self._server.finish_request = finish_request

    def serve(self, alerts=None, page=PAGE, query=None):
        """Routes the list pages of alerts ([(ListAlert, Alert)], default recorded()) as
        pagination.limit=page&pagination.offset=N (plus query= when given: a request without
        it finds no route and gets a 404) and every alert's GET /v1/alerts/{id}."""
        alerts = recorded() if alerts is None else alerts
        for off in range(0, len(alerts) + 1, page):
            q = {"pagination.limit": str(page), "pagination.offset": str(off)}
            if query is not None:
                q["query"] = query
            self.route("/v1/alerts", resp(json={"alerts": [a for a, _ in alerts[off:off + page]]}),
                       query=q)
        for _, det in alerts:
            self.route("/v1/alerts/" + det["id"], resp(json=det))
        return alerts

    @staticmethod
    def error(status, **kw):
        """Central's recorded error answer for 401, 403 or 500 (other statuses: the 500 body)."""
        name = "error-%d.json" % status if status in (401, 403, 500) else "error-500.json"
        return resp(status, json=_load(name), **kw)

    def list_requests(self):
        return [r for r in self.requests if r.path == "/v1/alerts"]

    def detail_requests(self):
        return [r for r in self.requests if r.path.startswith("/v1/alerts/")]
