// Runs the module against a live service (tests/clients/run): lists 常宁市's department-wide
// records of 2022 page by page, reads the county's aggregate for the same filter, prints both,
// and fails unless the records' exact sum of spending is the aggregate's.
//
//   PERFEVAL_URL=http://127.0.0.1:8080 PERFEVAL_TOKEN=pe_… node out/src/main.js
import { connect, groupRegion, listRecords, measureValue, readAggregate, sumYuan, type ListFilter } from "./perfeval.js";

const baseUrl = process.env.PERFEVAL_URL ?? "http://localhost:8080";
const client = connect(baseUrl, process.env.PERFEVAL_TOKEN);

const filter: ListFilter = {
    region: ["430482"],
    fiscal_year: "2022",
    kind: ["department_overall"],
    sort: ["-expenditure_total", "region_code"],
    limit: 10,
};

let pages = 0;
const spending: (string | null | undefined)[] = [];
for await (const page of listRecords(client, filter)) {
    pages += 1;
    for (const record of page) {
        spending.push(record.expenditure_total);
        console.log(
            `record ${record.id} ${record.region_code} ${record.region_name} ${record.fiscal_year} ` +
                `${record.kind} ${record.status} expenditure_total=${record.expenditure_total ?? "-"}`,
        );
    }
}
const listed = sumYuan(spending);
console.log(`listed ${spending.length} records in ${pages} pages; expenditure_total sum ${listed}`);

const aggregate = await readAggregate(client, {
    measures: ["expenditure.total", "score:avg"],
    group_by: ["county", "fiscal_year"],
    region: filter.region,
    fiscal_year: filter.fiscal_year,
    kind: filter.kind,
});
for (const row of aggregate.rows) {
    const county = groupRegion(row, "county");
    console.log(
        `aggregate ${row.level} ${county?.code ?? "-"} ${county?.name ?? "-"} records=${row.records} ` +
            `expenditure.total:sum=${measureValue(row, "expenditure.total:sum") ?? "-"} ` +
            `score:avg=${measureValue(row, "score:avg") ?? "-"}`,
    );
}

const [row] = aggregate.rows;
if (aggregate.rows.length !== 1 || row === undefined) {
    throw new Error(`expected one aggregate row, got ${aggregate.rows.length}`);
}
if (row.records !== spending.length || measureValue(row, "expenditure.total:sum") !== listed) {
    throw new Error(
        `the list (${spending.length} records, ${listed}) and the aggregate ` +
            `(${row.records} records, ${measureValue(row, "expenditure.total:sum")}) disagree`,
    );
}
console.log("the list's exact sum equals the aggregate's");
