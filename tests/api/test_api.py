#!/usr/bin/env python3
"""API tests: a demo store served by `hmb serve`, driven over HTTP.

Usage: test_api.py HMB_BINARY

With HMB_TEST_DB_URL set (an empty PostgreSQL database), the store is that
database instead of a SQLite file.

Standard library only. Makes a demo store in a temporary directory, starts
the server on a free loopback port, runs the cases (one line each), stops
the server with SIGTERM (it must exit 0), runs `hmb verify` on the store
and removes the directory. Exit status 1 when any case failed.
"""

import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
from decimal import Decimal

PLAN = "liaocheng-2024"
SPONSOR = "liaocheng-charity"
HAN = re.compile("[\u4e00-\u9fff]")
IDNO = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")

# Everything in one place for the cases.
ctx = {}
results = []  # (name, ok, detail)

# No proxy from the environment: the server is on loopback.
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Resp:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers
        self.raw = raw
        try:
            self.json = json.loads(raw.decode("utf-8")) if raw else None
        except (ValueError, UnicodeDecodeError):
            self.json = None

    @property
    def text(self):
        return self.raw.decode("utf-8", "replace")

    def err(self):
        """The error object of an error body, {} otherwise."""
        if isinstance(self.json, dict) and isinstance(self.json.get("error"), dict):
            return self.json["error"]
        return {}

    def __repr__(self):
        t = self.text
        return "HTTP %d %s" % (self.status, t if len(t) < 400 else t[:400] + "...")


def call(method, path, role=None, body=None, headers=None, key=None, timeout=60):
    """One request. body: bytes, str or a JSON-able object. role picks a
    demo key; key gives one literally."""
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body, ensure_ascii=False)
    if isinstance(body, str):
        body = body.encode("utf-8")
    req = urllib.request.Request(ctx["base"] + path, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if role:
        req.add_header("X-API-Key", ctx["keys"][role])
    if key is not None:
        req.add_header("X-API-Key", key)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with opener.open(req, timeout=timeout) as r:
            return Resp(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        with e:
            return Resp(e.code, e.headers, e.read())


class Fail(Exception):
    pass


def check(cond, what, resp=None):
    if not cond:
        raise Fail(what + (": %r" % (resp,) if resp is not None else ""))


def expect(resp, status, code=None, field=None):
    """Status, and for errors the JSON error code (and field) and a Chinese message."""
    check(resp.status == status, "status %d, want %d" % (resp.status, status), resp)
    if code is not None:
        e = resp.err()
        check(e.get("code") == code, "code %r, want %r" % (e.get("code"), code), resp)
        check(isinstance(e.get("message"), str) and HAN.search(e["message"]),
              "no Chinese message", resp)
        if field is not None:
            check(e.get("field") == field, "field %r, want %r" % (e.get("field"), field), resp)
    elif status < 400:
        check(resp.json is not None, "body is not JSON", resp)
    return resp


def case(name, fn, *args):
    try:
        fn(*args)
    except Fail as e:
        results.append((name, False, str(e)))
        print("FAIL %s: %s" % (name, e), flush=True)
        return False
    except Exception:  # a crash of the test itself counts as a failure
        detail = traceback.format_exc().strip().splitlines()[-1]
        results.append((name, False, detail))
        print("FAIL %s: %s" % (name, detail), flush=True)
        traceback.print_exc()
        return False
    results.append((name, True, ""))
    print("ok   %s" % name, flush=True)
    return True


def fen(s):
    """A two-decimal yuan string as integer fen."""
    check(isinstance(s, str) and re.fullmatch(r"-?[0-9]+\.[0-9]{2}", s), "amount %r" % (s,))
    return int(Decimal(s) * 100)


def certno(region, birth, seq):
    """A GB 11643 ID number with its check character."""
    body = "%s%s%03d" % (region, birth, seq)
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * k for c, k in zip(body, w)) % 11]


def settlement(setl_id, psn_no, setl_time, total, fund, med_type="21"):
    """An inpatient settlement, all in scope: in-scope self-pay = total - fund."""
    return {
        "setl_id": setl_id, "psn_no": psn_no, "med_type": med_type, "setl_time": setl_time,
        "medfee_sumamt": total, "fulamt_ownpay_amt": "0", "overlmt_selfpay": "0",
        "preselfpay_amt": "0", "inscp_scp_amt": total, "hifp_pay": fund,
        "fund_pay_sumamt": fund, "psn_part_amt": str(Decimal(total) - Decimal(fund)),
    }


# ---- cases ----

def c_health():
    r = expect(call("GET", "/health"), 200)
    check(r.json == {"status": "ok"}, "body", r)


def c_metrics():
    r = call("GET", "/metrics")
    check(r.status == 200, "status", r)
    check(r.headers.get("Content-Type", "").startswith("text/plain"), "content type", r)
    for name in ("hmb_settled_total", "hmb_trials_total", "hmb_settle_queue_max",
                 'hmb_http_responses_total{class="2xx"}'):
        check(re.search(r"^%s [0-9.]+$" % re.escape(name), r.text, re.M), "no " + name, r)


def c_auth():
    r = expect(call("GET", "/v1/plans"), 401, "auth.missing")
    check(r.headers.get("WWW-Authenticate") == "Bearer", "WWW-Authenticate", r)
    expect(call("GET", "/v1/plans", key="0" * 64), 401, "auth.key")
    expect(call("GET", "/v1/plans", key="x" * 200), 401, "auth.key")
    expect(call("GET", "/v1/plans", headers={"Authorization": "Bearer " + "1" * 64}), 401,
           "auth.key")
    # the right key as a bearer token works
    expect(call("GET", "/v1/plans", headers={"Authorization": "Bearer " + ctx["keys"]["bureau"]}),
           200)


def c_forbidden():
    good = {"plan_id": PLAN, "psn_no": ctx["new_psn"], "channel": "sponsor", "date": "2023-12-10"}
    rows = [
        ("hospital", "POST", "/v1/roster", "psn_no,certno\n", "auth.forbidden"),
        ("hospital", "GET", "/v1/persons/" + ctx["psn"], None, "auth.forbidden"),
        ("hospital", "POST", "/v1/enrollments", good, "auth.forbidden"),
        ("bureau", "POST", "/v1/settlements", ctx["body_a1"], "auth.forbidden"),
        ("bureau", "POST", "/v1/settlements/trial", ctx["body_a1"], "auth.forbidden"),
        ("sponsor", "POST", "/v1/settlements", ctx["body_a1"], "auth.forbidden"),
        ("sponsor", "POST", "/v1/settlements/A1/reversal", {"psn_no": ctx["psn"]},
         "auth.forbidden"),
        ("sponsor", "POST", "/v1/roster", "psn_no,certno\n", "auth.forbidden"),
        ("hospital", "PUT", "/v1/sponsors/" + SPONSOR, {"name": "x", "budget": "1"},
         "auth.forbidden"),
        ("bureau", "POST", "/v1/plans", "{}", "auth.forbidden"),
        ("sponsor", "POST", "/v1/enrollments", dict(good, channel="online"), "auth.sponsor"),
        ("sponsor", "POST", "/v1/enrollments", dict(good, channel="counter", payer=SPONSOR),
         "auth.sponsor"),
        ("sponsor", "POST", "/v1/enrollments", {"plan_id": PLAN, "psn_no": ctx["new_psn"]},
         "auth.sponsor"),  # channel defaults to online
        ("sponsor", "POST", "/v1/enrollments", dict(good, payer="other-charity"), "auth.sponsor"),
        ("sponsor", "GET", "/v1/sponsors/other-charity", None, "auth.sponsor"),
    ]
    for role, method, path, body, code in rows:
        r = call(method, path, role, body)
        try:
            expect(r, 403, code)
        except Fail as e:
            raise Fail("%s %s %s: %s" % (role, method, path, e))


def c_not_found():
    rows = [
        ("operator", "GET", "/nope", "http.not_found"),
        ("operator", "GET", "/v1", "http.not_found"),
        ("operator", "GET", "/v1/settlements/NOPE-1", "setl.not_found"),
        ("hospital", "GET", "/v1/settlements/NOPE-1", "setl.not_found"),
        ("operator", "GET", "/v1/persons/P37159999999999", "person.not_found"),
        ("bureau", "GET", "/v1/persons/P37159999999999", "person.not_found"),
        ("operator", "GET", "/v1/enrollments/LIAOCHENG2024-99999999", "enrollment.not_found"),
        ("operator", "GET", "/v1/sponsors/no-such-sponsor", "sponsor.not_found"),
        # ids in paths: 1-63 of A-Z a-z 0-9 . _ -, else the path is unknown
        ("operator", "GET", "/v1/persons/" + "P" * 64, "http.not_found"),
        ("operator", "GET", "/v1/persons/a%2Fb", "http.not_found"),
        ("operator", "GET", "/v1/persons/a,b", "http.not_found"),
    ]
    for role, method, path, code in rows:
        r = call(method, path, role)
        try:
            expect(r, 404, code)
        except Fail as e:
            raise Fail("%s %s: %s" % (method, path, e))
    r = call("POST", "/v1/settlements/NEVER-1/reversal", "hospital", {"psn_no": ctx["psn"]})
    expect(r, 404, "reversal.unknown")


def c_method():
    for method, path in (("DELETE", "/v1/plans"), ("GET", "/v1/settlements"),
                         ("PUT", "/v1/settlements/trial"), ("POST", "/health"),
                         ("GET", "/v1/roster"), ("DELETE", "/v1/persons/" + ctx["psn"])):
        r = call(method, path, "operator", b"{}" if method in ("POST", "PUT") else None)
        try:
            expect(r, 405, "http.method")
        except Fail as e:
            raise Fail("%s %s: %s" % (method, path, e))


def c_json_syntax():
    r = expect(call("POST", "/v1/enrollments", "operator", '{"plan_id":'), 400, "json.syntax")
    check(re.fullmatch(r"@[0-9]+", r.err().get("field", "")), "field @N", r)
    expect(call("POST", "/v1/enrollments", "operator", '{"plan_id":"a",}'), 400, "json.syntax")
    expect(call("PUT", "/v1/sponsors/x-1", "operator", b"\xff\xfe"), 400, "json.syntax")
    expect(call("POST", "/v1/settlements", "hospital", '{"setl_id":"Z1",'), 400, "json.syntax")
    expect(call("POST", "/v1/settlements/trial", "hospital", "not json"), 400, "json.syntax")
    expect(call("POST", "/v1/settlements/Z1/reversal", "hospital", "[1"), 400, "json.syntax")
    expect(call("POST", "/v1/enrollments", "operator", "[]"), 400, "json.type")
    expect(call("POST", "/v1/enrollments", "operator", "[" * 40 + "]" * 40), 400, "json.depth")
    expect(call("POST", "/v1/enrollments", "operator",
                {"plan_id": PLAN, "psn_no": ctx["psn"], "chanel": "online"}),
           400, "json.unknown_key", "chanel")
    expect(call("POST", "/v1/enrollments", "operator",
                '{"plan_id":"%s","plan_id":"%s","psn_no":"%s"}' % (PLAN, PLAN, ctx["psn"])),
           400, "json.syntax")
    expect(call("POST", "/v1/enrollments", "operator", {"psn_no": ctx["psn"]}), 400,
           "json.missing", "plan_id")
    # the parser quotes the body near the error, cut at any byte: the answer
    # must still be valid UTF-8 JSON (expect() decodes it strictly)
    bad = b'{"pl""d\\"\\\xe1\x81\x82\xdd}'
    expect(call("POST", "/v1/enrollments", "operator", bad), 400, "json.syntax")
    expect(call("POST", "/v1/plans", "operator", b'{"id":"x\xe1\x81'), 400, "plan.json")


def c_money():
    b = dict(ctx["body_a1"], setl_id="M1", medfee_sumamt="50000.001")
    expect(call("POST", "/v1/settlements/trial", "hospital", b), 400, "money.decimals",
           "medfee_sumamt")
    expect(call("POST", "/v1/settlements", "hospital", b), 400, "money.decimals", "medfee_sumamt")
    expect(call("PUT", "/v1/sponsors/api-test", "operator", {"name": "测试", "budget": "1.001"}),
           400, "money.decimals", "budget")
    expect(call("PUT", "/v1/sponsors/api-test", "operator", '{"name":"测试","budget":1.001}'),
           400, "money.decimals", "budget")
    expect(call("POST", "/v1/enrollments/LIAOCHENG2024-00000001/payments", "operator",
                {"amount": "89.001"}), 400, "money.decimals", "amount")
    # a number in exponent form is refused, never read through a double
    body = json.dumps(dict(ctx["body_a1"], setl_id="M2")).replace('"50000"', "5e4", 1)
    check("5e4" in body, "test body")
    expect(call("POST", "/v1/settlements/trial", "hospital", body), 400, "json.exponent",
           "medfee_sumamt")
    for v in ("1e3", "1E3", "1.5e2"):
        expect(call("PUT", "/v1/sponsors/api-test", "operator",
                    '{"name":"测试","budget":%s}' % v), 400, "money.syntax", "budget")
    expect(call("POST", "/v1/enrollments/LIAOCHENG2024-00000001/payments", "operator",
                '{"amount":1e3}'), 400, "money.syntax", "amount")
    # a number with two decimals is read exactly
    r = expect(call("PUT", "/v1/sponsors/api-test", "operator",
                    '{"name":"测试","budget":1000.1}'), 200)
    check(r.json.get("budget") == "1000.10" and r.json.get("remaining") == "1000.10", "budget", r)
    r = expect(call("PUT", "/v1/sponsors/api-test", "operator",
                    {"name": "测试", "budget": "0.29"}), 200)
    check(r.json.get("budget") == "0.29", "budget", r)


def c_too_large():
    mib = 1024 * 1024
    big = b'{"setl_id":"' + b"x" * (mib + 1) + b'"}'
    expect(call("POST", "/v1/settlements", "hospital", big), 413, "http.too_large")
    # the limit is checked before the key
    expect(call("POST", "/v1/enrollments", None, b" " * (mib + 1)), 413, "http.too_large")
    expect(call("GET", "/health"), 200)
    # exactly 1 MiB is read and decoded
    small = b'{"psn_no":"%s"}' % ctx["psn"].encode()
    exact = small + b" " * (mib - len(small))
    check(len(exact) == mib, "test body")
    expect(call("POST", "/v1/settlements/NEVER-2/reversal", "hospital", exact), 404,
           "reversal.unknown")
    expect(call("GET", "/health"), 200)


def c_plans():
    for role in ("operator", "hospital", "bureau", "sponsor"):
        r = expect(call("GET", "/v1/plans", role), 200)
        check(isinstance(r.json, list), "list", r)
        p = [x for x in r.json if x.get("id") == PLAN]
        check(len(p) == 1, "plan %s listed" % PLAN, r)
        check(p[0].get("year") == 2024 and p[0].get("coverage") ==
              {"start": "2024-01-01", "end": "2024-12-31"}, "coverage", r)
        check("inpatient_in_scope" in p[0].get("responsibilities", []), "responsibilities", r)


def c_roster():
    cert = ctx["new_cert"]
    # status_date: insured since before the enrollment window (default: today)
    csv = ("psn_no,certno,psn_name,insutype,admdvs,status,status_date\n"
           "P37159900000001,123,错误行,390,371502,active,2023-01-01\n"
           "%s,%s,测试人员,390,371502,active,2023-01-01\n" % (ctx["new_psn"], cert))
    r = expect(call("POST", "/v1/roster", "bureau", csv, {"Content-Type": "text/csv"}), 200)
    j = r.json
    check((j.get("rows"), j.get("accepted"), j.get("inserted"), j.get("rejected")) ==
          (2, 1, 1, 1), "counts", r)
    errs = j.get("errors")
    check(isinstance(errs, list) and len(errs) == 1, "one error", r)
    e = errs[0]
    check(e.get("line") == 2 and e.get("field") == "certno" and e.get("code") == "idno.length",
          "error row", r)
    check(HAN.search(e.get("message", "")), "Chinese message", r)
    # the good row is a person now, not enrolled; the bad one is not
    r = expect(call("GET", "/v1/persons/" + ctx["new_psn"], "bureau"), 200)
    check(r.json.get("enrollments") == [], "no enrollment yet", r)
    expect(call("GET", "/v1/persons/P37159900000001", "bureau"), 404, "person.not_found")


def c_enroll_window():
    r = call("POST", "/v1/enrollments", "operator",
             {"plan_id": PLAN, "psn_no": ctx["new_psn"], "date": "2024-02-01", "pay": True})
    expect(r, 400, "enroll.window_closed")
    r = call("POST", "/v1/enrollments", "operator",
             {"plan_id": PLAN, "psn_no": ctx["new_psn"], "date": "2023-11-30", "pay": True})
    expect(r, 400, "enroll.window_closed")
    expect(call("POST", "/v1/enrollments", "operator",
                {"plan_id": PLAN, "psn_no": ctx["new_psn"], "date": "2023-12-32"}), 400)
    expect(call("POST", "/v1/enrollments", "operator",
                {"plan_id": PLAN, "psn_no": ctx["new_psn"], "channel": "cash"}), 400,
           "enroll.channel", "channel")


def c_not_enrolled():
    b = settlement("NE-1", ctx["new_psn"], "2024-03-01 10:00:00", "50000", "20000")
    for path in ("/v1/settlements/trial", "/v1/settlements"):
        r = expect(call("POST", path, "hospital", b), 404, "cover.not_enrolled")
        check(HAN.search(r.err().get("message", "")), "Chinese message", r)
    # the refusal was not stored as a settlement
    expect(call("GET", "/v1/settlements/NE-1", "operator"), 404, "setl.not_found")


def c_enroll():
    r = expect(call("POST", "/v1/enrollments", "operator",
                    {"plan_id": PLAN, "psn_no": ctx["new_psn"], "channel": "online",
                     "date": "2023-12-10", "pay": True}), 201)
    j = r.json
    check(j.get("psn_no") == ctx["new_psn"] and j.get("plan_id") == PLAN and
          j.get("status") == "active" and j.get("cover_start") == "2024-01-01" and
          j.get("paid") == j.get("premium") and fen(j.get("premium")) > 0, "enrollment", r)
    ctx["new_policy"] = j["policy_no"]
    r = expect(call("GET", "/v1/enrollments/" + j["policy_no"], "bureau"), 200)
    check(r.json.get("policy_no") == j["policy_no"] and r.json.get("status") == "active",
          "GET enrollment", r)


def c_enroll_dup():
    for ch in ("online", "counter"):
        expect(call("POST", "/v1/enrollments", "operator",
                    {"plan_id": PLAN, "psn_no": ctx["new_psn"], "channel": ch,
                     "date": "2023-12-11", "pay": True}), 409, "enroll.already")


def c_sponsor():
    r = expect(call("GET", "/v1/sponsors/" + SPONSOR, "sponsor"), 200)
    j = r.json
    check(j.get("id") == SPONSOR and j.get("name"), "sponsor", r)
    check(fen(j["budget"]) - fen(j["spent"]) == fen(j["remaining"]), "remaining", r)
    r2 = expect(call("GET", "/v1/sponsors/" + SPONSOR, "operator"), 200)
    check(r2.json == j, "operator sees the same", r2)
    expect(call("GET", "/v1/sponsors/other-charity", "sponsor"), 403, "auth.sponsor")
    expect(call("GET", "/v1/sponsors/no-such-sponsor", "operator"), 404, "sponsor.not_found")


def c_settle_flow():
    psn, body = ctx["psn"], ctx["body_a1"]
    raw = json.dumps(body).encode()
    # in-scope self-pay 30000 - deductible 16000, at 80%
    want = "11200.00"
    r = expect(call("POST", "/v1/settlements/trial", "hospital", raw), 200)
    j = r.json
    check(j.get("op") == "trial" and j.get("status") == "trial" and j.get("payout") == want,
          "trial", r)
    check(j.get("psn_no") == psn and j.get("plan_id") == PLAN, "trial ids", r)
    check(r.headers.get("Idempotent-Replay") is None, "trial replay header", r)
    expect(call("GET", "/v1/settlements/" + body["setl_id"], "hospital"), 404, "setl.not_found")

    r1 = expect(call("POST", "/v1/settlements", "hospital", raw), 200)
    j = r1.json
    check(j.get("op") == "settle" and j.get("status") == "settled" and j.get("payout") == want,
          "settle", r1)
    resp = {x["id"]: x for x in j.get("responsibilities", [])}
    check(resp.get("inpatient_in_scope", {}).get("payout") == want and
          resp["inpatient_in_scope"].get("deductible_used") == "16000.00", "responsibility", r1)
    check(r1.headers.get("Idempotent-Replay") is None, "first settle is not a replay", r1)
    r2 = expect(call("POST", "/v1/settlements", "hospital", raw), 200)
    check(r2.headers.get("Idempotent-Replay") == "true", "replay header", r2)
    check(r2.raw == r1.raw, "replay is byte for byte the stored answer", r2)
    # the operator may settle too, and gets the same stored answer
    r3 = expect(call("POST", "/v1/settlements", "operator", raw), 200)
    check(r3.raw == r1.raw and r3.headers.get("Idempotent-Replay") == "true", "operator replay",
          r3)

    r = expect(call("GET", "/v1/settlements/" + body["setl_id"], "bureau"), 200)
    g = r.json
    check(g.get("reversed") is False and g.get("reversal") is None, "not reversed", r)
    check(g.get("settlement", {}).get("setl_id") == body["setl_id"] and
          g["settlement"].get("payout") == want, "stored settlement", r)

    rv = {"psn_no": psn}
    v1 = expect(call("POST", "/v1/settlements/%s/reversal" % body["setl_id"], "hospital", rv), 200)
    check(v1.json.get("setl_id") == body["setl_id"] and v1.json.get("psn_no") == psn, "reversal",
          v1)
    check(v1.headers.get("Idempotent-Replay") is None, "first reversal is not a replay", v1)
    v2 = expect(call("POST", "/v1/settlements/%s/reversal" % body["setl_id"], "hospital",
                     dict(rv, setl_id=body["setl_id"])), 200)
    check(v2.raw == v1.raw, "repeated reversal gives the same answer", v2)
    check(v2.headers.get("Idempotent-Replay") == "true", "reversal replay header", v2)
    expect(call("POST", "/v1/settlements/%s/reversal" % body["setl_id"], "hospital",
                dict(rv, setl_id="OTHER")), 400, "setl.id_mismatch", "setl_id")

    r = expect(call("GET", "/v1/settlements/" + body["setl_id"], "hospital"), 200)
    check(r.json.get("reversed") is True and r.json.get("reversal") is not None, "reversed", r)
    # a settlement again after the reversal is still the stored answer
    r4 = expect(call("POST", "/v1/settlements", "hospital", raw), 200)
    check(r4.raw == r1.raw and r4.headers.get("Idempotent-Replay") == "true", "replay after", r4)
    # the year's amounts are back to nothing paid
    r = expect(call("GET", "/v1/persons/" + psn, "operator"), 200)
    e = [x for x in r.json["enrollments"] if x["enrollment"]["plan_id"] == PLAN][0]
    check(e["year"]["paid"] == ctx["psn_paid_before"], "year paid after reversal", r)


def c_person_masked():
    for psn, cert in ((ctx["new_psn"], ctx["new_cert"]), (ctx["psn"], None)):
        for role in ("operator", "bureau"):
            r = expect(call("GET", "/v1/persons/" + psn, role), 200)
            j = r.json
            check(j.get("psn_no") == psn, "psn_no", r)
            check(re.fullmatch(r"[0-9]{6}\*{8}[0-9]{3}[0-9X]", j.get("certno", "")), "certno mask",
                  r)
            check("*" in j.get("name", "") and HAN.search(j["name"]), "name mask", r)
            check(not IDNO.search(r.text), "an 18-digit ID number in the body", r)
            if cert:
                check(cert not in r.text and cert[6:14] not in r.text.replace(j["birth"], ""),
                      "the ID number in the body", r)
                check("测试人员" not in r.text and "试人" not in r.text, "the name in the body", r)
                check(j["certno"][:6] == cert[:6] and j["certno"][-4:] == cert[-4:], "mask ends", r)
                check(j.get("birth") == "1990-05-17", "birth", r)


def c_concurrency():
    psn = ctx["new_psn"]
    threads, per = 8, 25
    # each stay: in-scope 2000.00, fund 1000.00, so in-scope self-pay 1000.00
    stay, n = Decimal("1000.00"), threads * per
    want = (stay * n - Decimal("16000")) * Decimal("0.8")  # 147200.00
    out, errs = [], []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def worker(t):
        start.wait()
        for i in range(per):
            k = t * per + i
            ts = (datetime.datetime(2024, 4, 1, 8, 0, 0) + datetime.timedelta(minutes=k))
            b = settlement("CC-%d-%02d" % (t, i), psn, ts.strftime("%Y-%m-%d %H:%M:%S"),
                           "2000.00", "1000.00")
            try:
                r = call("POST", "/v1/settlements", "hospital", b, timeout=120)
            except Exception as e:  # noqa: BLE001 - reported below
                r = e
            with lock:
                if isinstance(r, Resp) and r.status == 200 and r.json and \
                        r.json.get("status") == "settled" and \
                        r.headers.get("Idempotent-Replay") is None:
                    out.append(r.json)
                else:
                    errs.append(repr(r))

    ts = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(not errs, "%d failed, first: %s" % (len(errs), errs[:1]))
    check(len(out) == n, "%d answers" % len(out))
    got = sum(Decimal(j["payout"]) for j in out)
    check(got == want, "sum of payouts %s, want %s" % (got, want))
    check(max(Decimal(j["year_paid"]) for j in out) == want, "year_paid of the last")
    check(sorted({j["policy_no"] for j in out}) == [ctx["new_policy"]], "policy")
    r = expect(call("GET", "/v1/persons/" + psn, "operator"), 200)
    e = [x for x in r.json["enrollments"] if x["enrollment"]["plan_id"] == PLAN]
    check(len(e) == 1, "one enrollment", r)
    check(Decimal(e[0]["year"]["paid"]) == want, "year paid %s" % e[0]["year"]["paid"], r)
    ins = [x for x in e[0]["year"]["responsibilities"] if x["id"] == "inpatient_in_scope"][0]
    check(Decimal(ins["eligible"]) == stay * n and Decimal(ins["paid"]) == want, "in scope", r)
    check(len(e[0]["settlements"]) == n, "%d settlements listed" % len(e[0]["settlements"]), r)
    ctx["conc_want"] = want


def c_concurrent_same():
    """The same settlement posted 8 times at once: one settles, the others
    get the stored answer; then the same for its reversal."""
    psn = ctx["new_psn"]
    raw = json.dumps(settlement("DUP-1", psn, "2024-06-01 09:00:00", "3000.00",
                                "1000.00")).encode()
    rv = json.dumps({"psn_no": psn}).encode()
    for path, body in (("/v1/settlements", raw), ("/v1/settlements/DUP-1/reversal", rv)):
        out = []
        lock = threading.Lock()
        start = threading.Barrier(8)

        def worker():
            start.wait()
            try:
                r = call("POST", path, "hospital", body, timeout=120)
            except Exception as e:  # noqa: BLE001 - reported below
                r = e
            with lock:
                out.append(r)

        ts = [threading.Thread(target=worker) for _ in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        bad = [r for r in out if not isinstance(r, Resp) or r.status != 200]
        check(not bad, "%s: %r" % (path, bad[:1]))
        fresh = [r for r in out if r.headers.get("Idempotent-Replay") is None]
        check(len(fresh) == 1, "%s: %d answers not marked as replays" % (path, len(fresh)))
        check(len({r.raw for r in out}) == 1, "%s: answers differ" % path)
    r = expect(call("GET", "/v1/settlements/DUP-1", "operator"), 200)
    check(r.json.get("reversed") is True, "reversed", r)
    check(r.json["settlement"].get("payout") == "1600.00", "payout", r)


# ---- setup ----

def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_health(proc, deadline):
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if call("GET", "/health", timeout=2).status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def find_person():
    """A demo person enrolled in the plan, active, with nothing yet in the
    inpatient in-scope account (so the deductible is whole)."""
    for k in range(300):
        psn = "P371500%08d" % k
        r = call("GET", "/v1/persons/" + psn, "operator")
        if r.status != 200 or r.json.get("status") != "active":
            continue
        for e in r.json.get("enrollments", []):
            en = e["enrollment"]
            ins = [x for x in e["year"]["responsibilities"] if x["id"] == "inpatient_in_scope"]
            if en["plan_id"] == PLAN and en["status"] == "active" and \
                    en["cover_start"] <= "2024-03-01" and ins and ins[0]["eligible"] == "0.00":
                return psn, e["year"]["paid"]
    return None, None


def main():
    if len(sys.argv) != 2:
        print("usage: test_api.py HMB_BINARY", file=sys.stderr)
        return 2
    hmb = os.path.abspath(sys.argv[1])
    env = dict(os.environ)
    env.setdefault("HMB_HOME", os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
    t0 = time.time()
    tmp = tempfile.mkdtemp(prefix="hmb-api-")
    proc = None
    log = None
    try:
        db = os.environ.get("HMB_TEST_DB_URL") or os.path.join(tmp, "demo.db")
        env["HMB_KEY_FILE"] = os.path.join(tmp, "pii.key")
        keys_file = os.path.join(tmp, "demo.keys")
        d = subprocess.run([hmb, "demo", "--db", db, "--people", "300", "--settlements", "200",
                            "--keys-out", keys_file],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
        if d.returncode != 0:
            print("FAIL demo: exit %d\n%s" % (d.returncode, d.stdout.decode(errors="replace")))
            return 1
        keys = {}
        with open(keys_file) as f:
            for line in f:
                if "=" in line:
                    k, v = line.strip().split("=", 1)
                    keys[k] = v
        if set(keys) != {"operator", "hospital", "bureau", "sponsor"}:
            print("FAIL demo keys: %r" % sorted(keys))
            return 1
        ctx["keys"] = keys
        port = free_port()
        ctx["base"] = "http://127.0.0.1:%d" % port
        log = open(os.path.join(tmp, "serve.log"), "w+b")
        proc = subprocess.Popen([hmb, "serve", "--db", db, "--port", str(port)], env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        if not wait_health(proc, time.time() + 60):
            print("FAIL server did not answer /health")
            return 1

        psn, paid = find_person()
        if not psn:
            print("FAIL no enrolled demo person with an unused deductible")
            return 1
        ctx["psn"], ctx["psn_paid_before"] = psn, paid
        ctx["body_a1"] = settlement("A1", psn, "2024-03-01 10:00:00", "50000", "20000")
        ctx["new_psn"] = "P37159900000002"
        ctx["new_cert"] = certno("371502", "19900517", 123)

        case("health", c_health)
        case("metrics", c_metrics)
        case("401 no key / wrong key", c_auth)
        case("403 role may not use the route", c_forbidden)
        case("404 unknown route and records", c_not_found)
        case("405 other method", c_method)
        case("400 json.* (syntax, type, depth, unknown key)", c_json_syntax)
        case("400 money.decimals and exponent amounts", c_money)
        case("413 body over 1 MiB, server still up", c_too_large)
        case("plans list", c_plans)
        case("roster import: one bad row, one good", c_roster)
        case("enrollment outside the window refused", c_enroll_window)
        case("settlement for a person not enrolled -> 404 cover.not_enrolled", c_not_enrolled)
        enrolled = case("enrollment of the new person -> 201", c_enroll)
        case("duplicate enrollment -> 409 enroll.already", c_enroll_dup)
        case("sponsor GET own / other", c_sponsor)
        case("trial, settle, replay, reversal, replay", c_settle_flow)
        case("GET person masks certno and name", c_person_masked)
        if enrolled:
            case("concurrency: 8 x 25 settlements for one person", c_concurrency)
            case("same settlement and reversal 8 times at once", c_concurrent_same)
        else:
            results.append(("concurrency", False, "no enrollment"))
            print("FAIL concurrency: the new person was not enrolled")
        case("health after all", c_health)

        # SIGTERM: queued settlements finish, the server exits 0.
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            rc = None
        proc_ok = rc == 0
        results.append(("SIGTERM -> exit 0", proc_ok, "exit %r" % rc))
        print("%s SIGTERM -> exit 0%s" % ("ok  " if proc_ok else "FAIL",
                                           "" if proc_ok else ": exit %r" % rc), flush=True)
        proc = None

        def c_verify():
            v = subprocess.run([hmb, "verify", "--db", db], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=300)
            check(v.returncode == 0, "verify exit %d: %s" % (v.returncode, v.stderr.decode()))
            j = json.loads(v.stdout.decode())
            check(j.get("mismatched") == 0, "verify: %r" % j)
            check(j.get("settlements", 0) >= 200, "verify: %r" % j)
        case("hmb verify: mismatched 0", c_verify)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        failed = [r for r in results if not r[1]]
        if log is not None:
            if failed:
                log.seek(0)
                tail = log.read().decode("utf-8", "replace").splitlines()[-30:]
                print("--- server log (last lines) ---\n" + "\n".join(tail))
            log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    passed = sum(1 for r in results if r[1])
    print("%d passed, %d failed (%.1f s)" % (passed, len(failed), time.time() - t0))
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
