"""Fetches every page of an aggregate answer, for same_numbers.py.

Usage: all_pages.py BASE PATH TOKEN OUT
GETs BASE + PATH with its `limit` replaced by 1000 (the API's largest page), follows
`next_cursor` to the last page, and writes the first page's answer with the rows of every page
(and `next_cursor` null) to OUT. Prints the number of pages. Exits 1 on any HTTP error.
"""
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

base, path, token, out = sys.argv[1:]
parts = urllib.parse.urlsplit(path)
params = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if k not in ("limit", "cursor")]
params.append(("limit", "1000"))

answer, cursor, pages = None, None, 0
while True:
    query = urllib.parse.urlencode(params + ([("cursor", cursor)] if cursor else []), safe=",:")
    request = urllib.request.Request(f"{base}{parts.path}?{query}", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            page = json.load(response)
    except urllib.error.HTTPError as error:
        sys.exit(f"all_pages: HTTP {error.code}: {error.read()[:500].decode(errors='replace')}")
    pages += 1
    if answer is None:
        answer = page
    else:
        answer["rows"].extend(page["rows"])
    cursor = page.get("next_cursor")
    if not cursor:
        break
answer["next_cursor"] = None
with open(out, "w") as f:
    json.dump(answer, f, ensure_ascii=False)
print(pages)
