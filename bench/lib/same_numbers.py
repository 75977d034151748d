"""Checks that an aggregate's hand-written statement gives the API's numbers.

Usage: same_numbers.py API_JSON SQL_ROWS
API_JSON is the API's answer (limit=1000); SQL_ROWS is `psql -AtX -F'|'` output of the
statement, one row per group: the keys in group_by order, the record count, the measures in the
query's order (a percentile_cont array is spread over its measures), and the rank when asked.
Rows with a NULL key are the statement's subtotals (ROLLUP) and are not compared; of the API's
rows, only the detail rows are. A value matches when it is equal to the API's within half a unit
of the API's last decimal (PostgreSQL's percentile_cont answers in floating point, so 97.92
matches 97.91499999999999). Prints the
number of rows compared; exits 1 at the first difference.
"""
import decimal
import json
import sys

api = json.load(open(sys.argv[1]))
query = api["query"]


def key(value):
    return value["code"] if isinstance(value, dict) else str(value)


def same(ours, theirs):
    if ours is None or theirs == "":
        return ours is None and theirs == ""
    ours_d = decimal.Decimal(str(ours))
    exponent = ours_d.as_tuple().exponent
    # Half a unit, and a hair more for a floating-point neighbour of the midpoint.
    return abs(ours_d - decimal.Decimal(theirs)) <= decimal.Decimal("5.000001").scaleb(exponent - 1)


expected = {}
for row in api["rows"]:
    if row["level"] != "detail":
        continue
    keys = tuple(key(row["group"][d]) for d in query["group_by"])
    values = [row["records"]] + [row["values"][m] for m in query["measures"]]
    if query.get("rank"):
        values.append(row["rank"])
    expected[keys] = values
if api.get("next_cursor"):
    sys.exit("same_numbers: the API answer has more pages; ask with limit=1000")

dims = len(query["group_by"])
seen = 0
for line in open(sys.argv[2]):
    cells = line.rstrip("\n").split("|")
    keys, rest = tuple(cells[:dims]), cells[dims:]
    if any(k == "" for k in keys):
        continue
    values = []
    for cell in rest:
        if cell.startswith("{") and cell.endswith("}"):
            values.extend("" if v == "NULL" else v for v in cell[1:-1].split(","))
        else:
            values.append(cell)
    if keys not in expected:
        sys.exit(f"same_numbers: the statement has a group {keys} the API does not")
    ours = expected.pop(keys)
    if len(ours) != len(values) or not all(same(o, t) for o, t in zip(ours, values)):
        sys.exit(f"same_numbers: group {keys}: API {ours}, statement {values}")
    seen += 1
if expected:
    sys.exit(f"same_numbers: the API has groups the statement does not, such as {next(iter(expected))}")
print(seen)
