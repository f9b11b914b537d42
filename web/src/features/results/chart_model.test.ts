// Protects the chart's defaults: a time or text column on X and the numeric columns on Y, as analysts expect.
import { describe, expect, it } from "vitest";
import { parse_query_result } from "../../api/direct_query";
import { postgres_dialect } from "../editor/dialect";
import { chart_series, default_axes } from "./chart_model";

describe("chart model", () => {
    it("puts the month on X and revenue on Y", () => {
        const result = parse_query_result(
            '{"columns":["month","revenue"],"types":["timestamp with time zone","numeric"],"rows":[["2022-01-01T00:00:00+00:00",3094.78],["2022-02-01T00:00:00+00:00",10164.970]]}',
        );
        const axes = default_axes(result, postgres_dialect);
        expect(axes).toEqual({ x: 0, ys: [1] });
        const series = chart_series(result, axes!);
        expect(series.labels).toEqual(["2022-01-01T00:00:00+00:00", "2022-02-01T00:00:00+00:00"]);
        expect(series.datasets[0]).toEqual({ label: "revenue", data: [3094.78, 10164.97] });
    });

    it("prefers a varying label and a measure over identifiers", () => {
        const result = parse_query_result(
            '{"columns":["film_id","title","rental_rate","last_update"],"types":["integer","text","numeric","timestamp with time zone"],' +
                '"rows":[[1,"A",0.99,"2022-09-10T16:46:03+00:00"],[2,"B",4.99,"2022-09-10T16:46:03+00:00"]]}',
        );
        expect(default_axes(result, postgres_dialect)).toEqual({ x: 1, ys: [2] });
    });

    it("has nothing to plot without a numeric column", () => {
        const result = parse_query_result('{"columns":["title"],"types":["text"],"rows":[["A"]]}');
        expect(default_axes(result, postgres_dialect)).toBeNull();
    });
});
