#!/usr/bin/env python3
"""A reference client of the Zhisu sync protocol, version 1, written from docs/sync-protocol.md
alone, with Python's standard library only (urllib, json, hashlib).

It is a second implementation of the protocol: CI runs it against the real server
(crates/zhisu-server/tests/python_client.rs) and checks every test vector in
docs/protocol-vectors/ with it. Another team's client (an import tool, a web form) can start
from it.

Library:
    canonical_form(interview) -> str      the canonical form of an interview (a dict as parsed)
    content_hash(interview) -> str        "sha256:" + hex SHA-256 of the canonical form
    Client(base_url)                      enrol, assignment, library, upload (with receipts)

Command line:
    zhisu_client.py verify-vectors DIR
        checks every vector of DIR; prints one line per vector; exit status 1 on a failure
    zhisu_client.py run --server URL --code CODE --interviews FILE
        enrols with CODE, reads the assignment (and the library it names), uploads the interviews of FILE (a JSON list of
        interviews without content_hash), sends them again, sends one altered, and prints a
        JSON summary of what the server answered
"""

import argparse
import datetime
import hashlib
import json
import os
import re
import sys
import urllib.error
import urllib.request

PROTOCOL_HEADER = "zhisu-protocol"
PROTOCOL_VERSION = "1"
MAX_BATCH_INTERVIEWS = 100

# ---------------------------------------------------------------------------------------------
# The canonical form ("The content hash" in docs/sync-protocol.md)
# ---------------------------------------------------------------------------------------------

# The fields the document defines, per object. Fields not listed are not part of the canonical
# form; optional ones are left out when absent or null; the paradata's fields get their defaults.
INTERVIEW_REQUIRED = ["id", "questionnaire_id", "questionnaire_version", "started_at",
                      "completed_at", "utc_offset_minutes", "answers"]
INTERVIEW_OPTIONAL = ["site_id", "surveyor_id", "paradata"]
PARADATA_DEFAULTS = {"duration_ms": 0, "items": [], "flags": []}
PARADATA_OPTIONAL = ["location_start", "location_end"]
ITEM_DEFAULTS = {"item_id": "", "ms_on_screen": 0, "visits": 0, "changes": 0}
LOCATION_FIELDS = ["latitude", "longitude", "accuracy_m", "at_ms"]
FLAG_FIELDS = {
    "too_fast": ["seconds_per_item", "minimum", "items"],
    "straight_lining": ["run", "position", "from_item", "items", "minimum"],
    "many_changes": ["changes", "maximum"],
    "far_from_site": ["distance_m", "allowed_m"],
}
ANSWER_TYPES = ["choice", "choices", "bool", "integer", "decimal", "text", "date", "dont_know"]

TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$")


def canonical_timestamp(text):
    """UTC, YYYY-MM-DDTHH:MM:SS, '.' and the fraction without trailing zeros when not zero, Z."""
    m = TIMESTAMP.match(text)
    if not m:
        raise ValueError("not an RFC 3339 timestamp: %r" % text)
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    fraction = (m.group(7) or "").rstrip("0")
    zone = m.group(8)
    offset = datetime.timedelta(0)
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        offset = sign * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    local = datetime.datetime(year, month, day, hour, minute, second)
    utc = local - offset
    out = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if fraction:
        out += "." + fraction
    return out + "Z"


def js_number(x):
    """A number as ECMAScript's Number.prototype.toString writes it (RFC 8785, 3.2.2.3)."""
    if isinstance(x, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(x, int):
        if abs(x) < 2 ** 53:
            return str(x)
        x = float(x)
    if x != x or x in (float("inf"), float("-inf")):
        raise ValueError("NaN and infinities have no JSON form")
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    # repr gives the shortest digits that read back as x, as ECMAScript does
    mantissa, _, exponent = repr(abs(x)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    all_digits = whole + fraction
    leading_zeros = len(all_digits) - len(all_digits.lstrip("0"))
    digits = all_digits.strip("0")
    k = len(digits)
    n = len(whole) + (int(exponent) if exponent else 0) - leading_zeros  # x = 0.digits * 10^n
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    exp = ("+" if e >= 0 else "-") + str(abs(e))
    if k == 1:
        return sign + digits + "e" + exp
    return sign + digits[0] + "." + digits[1:] + "e" + exp


def jcs(value):
    """RFC 8785: no whitespace, keys sorted by UTF-16 code units, minimal string escapes."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return js_number(value)
    if isinstance(value, str):
        # ensure_ascii=False: only ", \, and control characters are escaped (\u00xx lowercase)
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(jcs(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(jcs(k) + ":" + jcs(value[k]) for k in keys) + "}"
    raise TypeError("no JSON form for %r" % (value,))


def _present(obj, field):
    return obj.get(field) is not None


def _answer(answer):
    kind = answer["type"]
    if kind not in ANSWER_TYPES:
        raise ValueError("unknown answer type %r" % kind)
    if kind == "dont_know":
        return {"type": kind}
    return {"type": kind, "value": answer["value"]}


def _paradata(paradata):
    out = {}
    for field, default in PARADATA_DEFAULTS.items():
        out[field] = paradata[field] if _present(paradata, field) else default
    out["items"] = [{f: item.get(f, d) if item.get(f) is not None else d
                     for f, d in ITEM_DEFAULTS.items()} for item in out["items"]]
    out["flags"] = [dict({"kind": flag["kind"]},
                         **{f: flag[f] for f in FLAG_FIELDS[flag["kind"]]})
                    for flag in out["flags"]]
    for field in PARADATA_OPTIONAL:
        if _present(paradata, field):
            out[field] = {f: paradata[field][f] for f in LOCATION_FIELDS}
    return out


def canonical_form(interview):
    """The canonical form of an interview given as parsed JSON (a dict), as text."""
    out = {}
    for field in INTERVIEW_REQUIRED:
        out[field] = interview[field]
    out["id"] = out["id"].lower()
    out["started_at"] = canonical_timestamp(out["started_at"])
    out["completed_at"] = canonical_timestamp(out["completed_at"])
    out["answers"] = {item: _answer(a) for item, a in interview["answers"].items()}
    for field in INTERVIEW_OPTIONAL:
        if _present(interview, field):
            out[field] = interview[field]
    if "paradata" in out:
        out["paradata"] = _paradata(out["paradata"])
    # practice (a practice interview of surveyor training) only when true: false is as absent
    if interview.get("practice") is True:
        out["practice"] = True
    return jcs(out)


def content_hash(interview):
    return "sha256:" + hashlib.sha256(canonical_form(interview).encode("utf-8")).hexdigest()


def sealed(interview):
    """The interview with its content_hash set."""
    out = {k: v for k, v in interview.items() if k != "content_hash"}
    out["content_hash"] = content_hash(out)
    return out


def verify_vectors(directory):
    """Checks every vector: its canonical form and its content_hash. Returns (passed, failed)."""
    passed, failed = 0, 0
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".json") or name.endswith(".canonical.json"):
            continue
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            interview = json.load(f)
        with open(os.path.join(directory, name[:-5] + ".canonical.json"), encoding="utf-8") as f:
            expected_form = f.read()
        form = canonical_form(interview)
        digest = content_hash(interview)
        problems = []
        if form != expected_form:
            problems.append("canonical form differs:\n  got      %s\n  expected %s"
                            % (form, expected_form))
        if digest != interview["content_hash"]:
            problems.append("hash %s, the vector says %s" % (digest, interview["content_hash"]))
        if problems:
            failed += 1
            print("FAIL %s: %s" % (name, "; ".join(problems)))
        else:
            passed += 1
            print("ok   %s %s" % (name, digest))
    return passed, failed


# ---------------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------------

class ApiError(Exception):
    """An error answer: HTTP status and the body's {code, message}."""

    def __init__(self, status, code, message):
        super().__init__("%d %s: %s" % (status, code, message))
        self.status, self.code, self.message = status, code, message


class Client:
    def __init__(self, base_url, token=None):
        self.base_url = base_url.rstrip("/")
        self.token = token

    def _request(self, method, path, body=None):
        headers = {PROTOCOL_HEADER: PROTOCOL_VERSION, "accept": "application/json"}
        data = None
        if body is not None:
            # Python's default writer: non-ASCII as \uXXXX escapes. The canonical form does not
            # depend on it.
            data = json.dumps(body).encode("ascii")
            headers["content-type"] = "application/json"
        if self.token is not None:
            headers["authorization"] = "Bearer " + self.token
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers,
                                         method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace")
            try:
                error = json.loads(text)
                raise ApiError(e.code, error["code"], error["message"]) from None
            except (ValueError, KeyError):
                raise ApiError(e.code, "", text) from None

    def enrol(self, code, device_name):
        """POST /api/v1/enrol: keeps the token for every later request."""
        enrolment = self._request("POST", "/api/v1/enrol",
                                  {"code": code, "device_name": device_name})
        self.token = enrolment["token"]
        return enrolment

    def assignment(self):
        return self._request("GET", "/api/v1/device/assignment")

    def questionnaires(self):
        return self._request("GET", "/api/v1/questionnaires")

    def library(self):
        """GET /api/v1/library: the education library, its digest checked as the document
        says (each piece's id, a tab, its version and a line feed, in id order)."""
        library = self._request("GET", "/api/v1/library")
        lines = "".join("%s\t%d\n" % (p["id"], p["version"])
                        for p in sorted(library["pieces"], key=lambda p: p["id"]))
        digest = "sha256:" + hashlib.sha256(lines.encode("utf-8")).hexdigest()
        if digest != library["digest"]:
            raise ValueError("the library does not match its digest")
        return library

    def questionnaire(self, questionnaire_id, version):
        download = self._request("GET", "/api/v1/questionnaires/%s/%s"
                                 % (questionnaire_id, version))
        digest = "sha256:" + hashlib.sha256(download["source"].encode("utf-8")).hexdigest()
        if digest != download["hash"]:
            raise ValueError("questionnaire %s %s: the file does not match its hash"
                             % (questionnaire_id, version))
        return download

    def upload(self, interviews):
        """POST /api/v1/interviews/batch in batches of at most 100: one receipt per interview,
        in the order sent."""
        receipts = []
        for start in range(0, len(interviews), MAX_BATCH_INTERVIEWS):
            batch = interviews[start:start + MAX_BATCH_INTERVIEWS]
            response = self._request("POST", "/api/v1/interviews/batch", {"interviews": batch})
            receipts.extend(response["receipts"])
        return receipts


def _local_time(text, offset_minutes):
    """The same instant written with the device's offset (+08:00) and as few fraction digits as
    Python writes: how another writer might send it."""
    utc = datetime.datetime.strptime(canonical_timestamp(text)[:19], "%Y-%m-%dT%H:%M:%S")
    fraction = canonical_timestamp(text)[19:-1]
    local = utc + datetime.timedelta(minutes=offset_minutes)
    sign = "+" if offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return local.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "%s%02d:%02d" % (sign, hours, minutes)


def run(server, code, interviews_file):
    """Enrol, assignment, upload, receipts: what a device does, with a summary of the answers."""
    with open(interviews_file, encoding="utf-8") as f:
        interviews = json.load(f)
    for interview in interviews:
        interview["started_at"] = _local_time(interview["started_at"],
                                              interview["utc_offset_minutes"])
        interview["completed_at"] = _local_time(interview["completed_at"],
                                                interview["utc_offset_minutes"])
    client = Client(server)
    summary = {}
    enrolment = client.enrol(code, "Python 参考客户端")
    summary["district"] = enrolment["district"]
    assignment = client.assignment()
    summary["sites"] = [site["id"] for site in assignment["sites"]]
    if "library" in assignment:
        library = client.library()
        summary["library"] = {"pieces": len(library["pieces"]),
                              "same_digest": library["digest"] == assignment["library"]}
    listing = client.questionnaires()["questionnaires"]
    for ref in listing:
        client.questionnaire(ref["id"], ref["version"])
    summary["questionnaires"] = len(listing)

    site = summary["sites"][0] if summary["sites"] else None
    for interview in interviews:
        if site is not None:
            interview["site_id"] = site
    sealed_interviews = [sealed(i) for i in interviews]
    summary["first"] = [r["status"] for r in client.upload(sealed_interviews)]
    summary["again"] = [r["status"] for r in client.upload(sealed_interviews)]
    altered = dict(sealed_interviews[0])
    altered["id"] = "00000000-0000-4000-8000-0000000000aa"  # a new id, the old hash
    receipt = client.upload([altered])[0]
    summary["altered"] = {"status": receipt["status"], "code": receipt.get("code"),
                          "message": receipt.get("message")}
    try:
        Client(server, token="not a token").assignment()
        summary["bad_token"] = None
    except ApiError as e:
        summary["bad_token"] = {"status": e.status, "code": e.code}
    return summary


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    vectors = commands.add_parser("verify-vectors")
    vectors.add_argument("directory")
    sync = commands.add_parser("run")
    sync.add_argument("--server", required=True)
    sync.add_argument("--code", required=True)
    sync.add_argument("--interviews", required=True)
    args = parser.parse_args(argv)
    if args.command == "verify-vectors":
        passed, failed = verify_vectors(args.directory)
        print("%d passed, %d failed" % (passed, failed))
        return 1 if failed or not passed else 0
    print(json.dumps(run(args.server, args.code, args.interviews), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
