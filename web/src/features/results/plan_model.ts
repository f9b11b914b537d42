// Reads Postgres's EXPLAIN (FORMAT JSON) into rows for the plan view: one per node, with its own share of the
// time (ANALYZE) or of the cost, so the expensive step stands out.
import { ExactNumber, type JsonValue } from "../../lib/exact_json";

export interface PlanRow {
    depth: number;
    title: string;
    details: string[];
    estimated_rows: number | null;
    actual_rows: number | null;
    loops: number | null;
    total_cost: number | null;
    /** Milliseconds spent in this node alone (children subtracted), when the plan was analysed. */
    self_ms: number | null;
    /** Fraction of the whole plan's time (or cost, without ANALYZE) that this node accounts for. */
    share: number;
}

export interface PlanSummary {
    rows: PlanRow[];
    planning_ms: number | null;
    execution_ms: number | null;
    analyzed: boolean;
}

type PlanNode = Record<string, JsonValue>;

function number_of(value: JsonValue | undefined): number | null {
    if (typeof value === "number") {
        return value;
    }
    if (value instanceof ExactNumber) {
        return Number(value.text);
    }
    return null;
}

function text_of(value: JsonValue | undefined): string | null {
    if (typeof value === "string") {
        return value;
    }
    if (Array.isArray(value)) {
        return value.map((item) => (typeof item === "string" ? item : String(item))).join(", ");
    }
    return null;
}

function title_of(node: PlanNode): string {
    const type = text_of(node["Node Type"]) ?? "Node";
    const strategy = text_of(node["Strategy"]);
    const join = text_of(node["Join Type"]);
    let title = type;
    if (type === "Aggregate" && strategy && strategy !== "Plain") {
        title = `${strategy === "Hashed" ? "Hash" : strategy === "Sorted" ? "Group" : strategy} Aggregate`;
    }
    if (join && join !== "Inner" && /Join|Nested Loop/.test(type)) {
        title = `${type} (${join})`;
    }
    const relation = text_of(node["Relation Name"]);
    const index = text_of(node["Index Name"]);
    const alias = text_of(node["Alias"]);
    if (index && relation) {
        title += ` using ${index} on ${relation}`;
    } else if (relation) {
        title += ` on ${relation}`;
    } else if (text_of(node["CTE Name"])) {
        title += ` on ${text_of(node["CTE Name"])}`;
    }
    if (alias && relation && alias !== relation) {
        title += ` ${alias}`;
    }
    return title;
}

const detail_keys: Array<[string, string]> = [
    ["Hash Cond", "Hash condition"],
    ["Merge Cond", "Merge condition"],
    ["Join Filter", "Join filter"],
    ["Index Cond", "Index condition"],
    ["Recheck Cond", "Recheck condition"],
    ["Filter", "Filter"],
    ["Group Key", "Group key"],
    ["Sort Key", "Sort key"],
    ["Sort Method", "Sort method"],
];

function inclusive_ms(node: PlanNode): number | null {
    const total = number_of(node["Actual Total Time"]);
    const loops = number_of(node["Actual Loops"]) ?? 1;
    return total === null ? null : total * loops;
}

export function read_plan(plan: JsonValue): PlanSummary | null {
    const top = Array.isArray(plan) ? plan[0] : plan;
    if (!top || typeof top !== "object" || Array.isArray(top) || top instanceof ExactNumber) {
        return null;
    }
    const root = (top as PlanNode)["Plan"];
    if (!root || typeof root !== "object" || Array.isArray(root) || root instanceof ExactNumber) {
        return null;
    }
    const rows: PlanRow[] = [];
    const analyzed = number_of((root as PlanNode)["Actual Total Time"]) !== null;
    const walk = (node: PlanNode, depth: number) => {
        const children = Array.isArray(node["Plans"]) ? (node["Plans"] as PlanNode[]) : [];
        let self_ms: number | null = null;
        const own = inclusive_ms(node);
        if (own !== null) {
            const children_ms = children.reduce((sum, child) => sum + (inclusive_ms(child) ?? 0), 0);
            self_ms = Math.max(0, own - children_ms);
        }
        const total_cost = number_of(node["Total Cost"]);
        const children_cost = children.reduce((sum, child) => sum + (number_of(child["Total Cost"]) ?? 0), 0);
        const details: string[] = [];
        for (const [key, label] of detail_keys) {
            const value = text_of(node[key]);
            if (value) {
                details.push(`${label}: ${value}`);
            }
        }
        const removed = number_of(node["Rows Removed by Filter"]);
        if (removed) {
            details.push(`Rows removed by filter: ${removed.toLocaleString("en-US")}`);
        }
        rows.push({
            depth,
            title: title_of(node),
            details,
            estimated_rows: number_of(node["Plan Rows"]),
            actual_rows: number_of(node["Actual Rows"]),
            loops: number_of(node["Actual Loops"]),
            total_cost,
            self_ms,
            share: analyzed ? (self_ms ?? 0) : Math.max(0, (total_cost ?? 0) - children_cost),
        });
        children.forEach((child) => walk(child, depth + 1));
    };
    walk(root as PlanNode, 0);
    const whole = rows.reduce((sum, row) => sum + row.share, 0);
    rows.forEach((row) => {
        row.share = whole > 0 ? row.share / whole : 0;
    });
    return {
        rows,
        planning_ms: number_of((top as PlanNode)["Planning Time"]),
        execution_ms: number_of((top as PlanNode)["Execution Time"]),
        analyzed,
    };
}
