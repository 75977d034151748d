// A front-end's client of perfeval, typed only by the types generated from openapi/openapi.json:
// when the document changes in a way this code no longer fits, `tsc` fails (tests/clients/run).
// Browser-safe: fetch and URL only, no Node API.
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "../generated/perfeval.js";

export type Schemas = components["schemas"];
export type EvaluationSummary = Schemas["EvaluationSummary"];
export type AggregateRow = Schemas["AggregateRow"];
export type Problem = Schemas["Problem"];

// JSON bodies: the list's and the aggregate's 200 also offer CSV, NDJSON and XLSX, which a page
// of the front-end does not ask for.
export type PerfevalClient = Client<paths, `${string}/json`>;

/** The list's query parameters, but the cursor and the export ones, which this module sets. */
export type ListFilter = Omit<
    NonNullable<paths["/api/v1/evaluations"]["get"]["parameters"]["query"]>,
    "cursor" | "format" | "labels"
>;

/** The aggregate's query parameters (measures required), but the export ones. */
export type AggregateQuery = Omit<
    paths["/api/v1/aggregates"]["get"]["parameters"]["query"],
    "cursor" | "format" | "labels"
>;

/** An answer other than 2xx, with the problem+json body the service sends. */
export class ApiError extends Error {
    constructor(
        readonly status: number,
        readonly problem: Problem | undefined,
    ) {
        super(problem ? `${status} ${problem.code}: ${problem.detail}` : `HTTP ${status}`);
    }
}

export function connect(baseUrl: string, token?: string): PerfevalClient {
    return createClient<paths, `${string}/json`>({
        baseUrl,
        headers: token ? { Authorization: `Bearer ${token}` } : {},
        // Lists go comma-separated, as the document states them (style form, explode false).
        querySerializer: { array: { style: "form", explode: false } },
    });
}

function isProblem(body: unknown): body is Problem {
    return typeof body === "object" && body !== null && "code" in body && "detail" in body;
}

/**
 * Every record the filter selects, page by page: each page's `next_cursor` asks for the next one
 * (keyset pagination, so pages do not shift while records are written), until a page has none.
 */
export async function* listRecords(
    client: PerfevalClient,
    filter: ListFilter,
): AsyncGenerator<EvaluationSummary[], void, undefined> {
    let cursor: string | undefined;
    do {
        const { data, error, response } = await client.GET("/api/v1/evaluations", {
            params: { query: { ...filter, cursor } },
        });
        if (data === undefined) {
            throw new ApiError(response.status, isProblem(error) ? error : undefined);
        }
        yield data.items;
        cursor = data.next_cursor ?? undefined;
    } while (cursor !== undefined);
}

/** Grouped aggregates: one page of rows (`limit` up to 1000), with the records behind them. */
export async function readAggregate(
    client: PerfevalClient,
    query: AggregateQuery,
): Promise<{ records: number; rows: AggregateRow[] }> {
    const { data, error, response } = await client.GET("/api/v1/aggregates", {
        params: { query },
    });
    if (data === undefined) {
        throw new ApiError(response.status, isProblem(error) ? error : undefined);
    }
    return { records: data.records, rows: data.rows };
}

/**
 * A measure's value in a row: a decimal string (`"456693700.00"`), or null. The document types
 * `values` as an object without properties, so the generated type says nothing of its members;
 * this checks each one at run time instead of trusting a cast.
 */
export function measureValue(row: AggregateRow, key: string): string | null {
    const values: { [key: string]: unknown } = row.values;
    const value = values[key];
    if (value === null) return null;
    if (typeof value === "string" && DECIMAL.test(value)) return value;
    throw new TypeError(`aggregate value ${key} is ${JSON.stringify(value)}, not a decimal string`);
}

/** A region group member (`{code, name}`) of a row, when the row is grouped by that level. */
export function groupRegion(row: AggregateRow, level: string): { code: string; name: string } | undefined {
    const group: { [key: string]: unknown } = row.group;
    const region = group[level];
    if (typeof region === "object" && region !== null && "code" in region && "name" in region) {
        const { code, name } = region;
        if (typeof code === "string" && typeof name === "string") return { code, name };
    }
    return undefined;
}

// Money is a decimal string in 元 with two fraction digits; it is added as integer 分 (BigInt),
// never through floating point, so a sum of any number of records is exact.
const DECIMAL = /^-?\d+(\.\d+)?$/;
const YUAN = /^(-?)(\d+)(?:\.(\d{1,2}))?$/;

function toFen(yuan: string): bigint {
    const match = YUAN.exec(yuan);
    if (!match) throw new TypeError(`${JSON.stringify(yuan)} is not an amount in 元`);
    const [, sign, whole = "0", fraction = ""] = match;
    const fen = BigInt(whole) * 100n + BigInt(fraction.padEnd(2, "0"));
    return sign === "-" ? -fen : fen;
}

function fromFen(fen: bigint): string {
    const sign = fen < 0n ? "-" : "";
    const magnitude = fen < 0n ? -fen : fen;
    return `${sign}${magnitude / 100n}.${(magnitude % 100n).toString().padStart(2, "0")}`;
}

/** The exact sum of amounts in 元 (nulls, amounts a record does not state, are skipped). */
export function sumYuan(amounts: Iterable<string | null | undefined>): string {
    let fen = 0n;
    for (const amount of amounts) {
        if (amount !== null && amount !== undefined) fen += toFen(amount);
    }
    return fromFen(fen);
}
