"""Puts a few stored drafts through the workflow so the fuzzer reads every status and a history.

Usage: seed.py BASE_URL TOKEN. Uses only the standard library; failures are printed, not fatal
(the fuzz run itself is the test).
"""
import json
import sys
import urllib.error
import urllib.request

BASE, TOKEN = sys.argv[1], sys.argv[2]


def call(method, path, body=None, etag=None):
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if etag is not None:
        headers["If-Match"] = etag
    request = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("ETag"), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("ETag"), json.loads(error.read() or b"null")


def walk(record_id, actions):
    status, etag, _ = call("GET", f"/api/v1/evaluations/{record_id}")
    for action, comment in actions:
        status, new_etag, body = call(
            "POST", f"/api/v1/evaluations/{record_id}/transitions", {"action": action, "comment": comment}, etag
        )
        if status != 200:
            print(f"seed: record {record_id}: {action} answered {status}: {body.get('detail') if body else ''}")
            return
        etag = new_etag


status, _, listing = call("GET", "/api/v1/evaluations?status=draft&limit=6&sort=region_code")
if status != 200:
    sys.exit(f"seed: listing records answered {status}: {listing}")
ids = [item["id"] for item in listing["items"]]
plans = [
    [("submit", None)],
    [("submit", "请审核"), ("approve", None)],
    [("submit", None), ("approve", "同意"), ("publish", None)],
    [("submit", None), ("return", "三公经费合计不符，请修改")],
    [("submit", None), ("approve", None), ("publish", None), ("reopen", "更正")],
]
for record_id, plan in zip(ids, plans):
    walk(record_id, plan)
# One replace, so a record has two revisions of content.
if len(ids) > 5:
    status, etag, record = call("GET", f"/api/v1/evaluations/{ids[5]}")
    if status == 200:
        for member in ("id", "workflow", "derived", "findings", "created_at", "updated_at"):
            record.pop(member, None)
        status, _, body = call("PUT", f"/api/v1/evaluations/{ids[5]}", record, etag)
        if status != 200:
            print(f"seed: replacing record {ids[5]} answered {status}: {body.get('detail') if body else ''}")
print(f"seed: records {ids[:6]} put through the workflow")
