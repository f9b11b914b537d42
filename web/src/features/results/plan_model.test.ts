// Protects the plan view: nodes in order with depth, and the share of time that makes the slow step stand out.
import { describe, expect, it } from "vitest";
import { parse_exact_json } from "../../lib/exact_json";
import { read_plan } from "./plan_model";

const analysed = parse_exact_json(`[{"Plan": {"Node Type": "Hash Join", "Join Type": "Inner", "Total Cost": 100.5, "Plan Rows": 10,
  "Actual Total Time": 10.0, "Actual Rows": 12, "Actual Loops": 1, "Hash Cond": "(r.inventory_id = i.inventory_id)",
  "Plans": [
    {"Node Type": "Seq Scan", "Relation Name": "rental", "Alias": "r", "Total Cost": 60.0, "Plan Rows": 16044,
     "Actual Total Time": 7.0, "Actual Rows": 16044, "Actual Loops": 1},
    {"Node Type": "Hash", "Total Cost": 20.0, "Plan Rows": 4581, "Actual Total Time": 2.0, "Actual Rows": 4581, "Actual Loops": 1,
     "Plans": [{"Node Type": "Seq Scan", "Relation Name": "inventory", "Alias": "i", "Total Cost": 15.0, "Plan Rows": 4581,
       "Actual Total Time": 1.5, "Actual Rows": 4581, "Actual Loops": 1}]}
  ]}, "Planning Time": 0.25, "Execution Time": 10.4}]`);

describe("plan reading", () => {
    it("lists nodes depth-first with titles, conditions and self time", () => {
        const plan = read_plan(analysed)!;
        expect(plan.analyzed).toBe(true);
        expect(plan.rows.map((row) => [row.depth, row.title])).toEqual([
            [0, "Hash Join"],
            [1, "Seq Scan on rental r"],
            [1, "Hash"],
            [2, "Seq Scan on inventory i"],
        ]);
        expect(plan.rows[0].details).toEqual(["Hash condition: (r.inventory_id = i.inventory_id)"]);
        expect(plan.rows[0].self_ms).toBeCloseTo(1.0);
        expect(plan.rows[1].share).toBeCloseTo(0.7);
        expect(plan.execution_ms).toBeCloseTo(10.4);
    });

    it("uses cost shares when the plan was not analysed", () => {
        const plan = read_plan(parse_exact_json('[{"Plan": {"Node Type": "Limit", "Total Cost": 10, "Plans": [{"Node Type": "Seq Scan", "Relation Name": "film", "Total Cost": 8}]}}]'))!;
        expect(plan.analyzed).toBe(false);
        expect(plan.rows[1].share).toBeCloseTo(0.8);
        expect(read_plan(null)).toBeNull();
    });
});
