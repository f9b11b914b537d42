// The result pane's chart: Chart.js, loaded only when a chart is first shown so the editor's bundle stays small.
import { useEffect, useMemo, useRef, useState } from "react";
import type { QueryResult } from "../../api/types";
import { use_theme } from "../../lib/theme";
import type { Dialect } from "../editor/dialect";
import { chart_series, default_axes, max_chart_points, numeric_columns, type ChartAxes } from "./chart_model";

type ChartKind = "bar" | "line";

const palette = ["#3b82f6", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6"];

export function ChartView({ result, dialect }: { result: QueryResult; dialect: Dialect }) {
    const [theme] = use_theme();
    const canvas = useRef<HTMLCanvasElement>(null);
    const initial = useMemo(() => default_axes(result, dialect), [result, dialect]);
    const [axes, set_axes] = useState<ChartAxes | null>(initial);
    const [kind, set_kind] = useState<ChartKind>(result.rows.length > 60 ? "line" : "bar");
    const [load_error, set_load_error] = useState<string | null>(null);
    const numeric = useMemo(() => numeric_columns(result, dialect), [result, dialect]);

    useEffect(() => {
        set_axes(initial);
    }, [initial]);

    useEffect(() => {
        if (!axes || !canvas.current) {
            return;
        }
        let disposed = false;
        let chart: { destroy(): void } | null = null;
        const series = chart_series(result, axes);
        import("chart.js/auto")
            .then(({ default: Chart }) => {
                if (disposed || !canvas.current) {
                    return;
                }
                const style = getComputedStyle(document.documentElement);
                const text = style.getPropertyValue("--text-muted").trim();
                const grid = style.getPropertyValue("--border").trim();
                chart = new Chart(canvas.current, {
                    type: kind,
                    data: {
                        labels: series.labels,
                        datasets: series.datasets.map((dataset, index) => ({
                            ...dataset,
                            backgroundColor: palette[index % palette.length],
                            borderColor: palette[index % palette.length],
                            borderWidth: kind === "line" ? 2 : 0,
                            pointRadius: series.labels.length > 200 ? 0 : 2,
                        })),
                    },
                    options: {
                        animation: false,
                        maintainAspectRatio: false,
                        responsive: true,
                        interaction: { mode: "index", intersect: false },
                        plugins: { legend: { labels: { color: text } } },
                        scales: {
                            x: { ticks: { color: text, maxRotation: 45, autoSkip: true }, grid: { color: grid } },
                            y: { ticks: { color: text }, grid: { color: grid } },
                        },
                    },
                });
            })
            .catch((caught: unknown) => set_load_error(caught instanceof Error ? caught.message : String(caught)));
        return () => {
            disposed = true;
            chart?.destroy();
        };
    }, [result, axes, kind, theme]);

    if (!initial || !axes) {
        return (
            <div className="result-empty">
                <div>
                    <div className="big">Nothing to chart</div>A chart needs at least one numeric column beside a label column.
                </div>
            </div>
        );
    }

    return (
        <div style={{ flex: 1, minWidth: 0, display: "flex", flexDirection: "column" }}>
            <div className="toolbar" style={{ borderBottom: "1px solid var(--border)" }}>
                <label className="inline">
                    X
                    <select className="select select-sm" value={axes.x} onChange={(event) => set_axes({ ...axes, x: Number(event.target.value) })}>
                        {result.columns.map((name, index) => (
                            <option key={index} value={index}>
                                {name}
                            </option>
                        ))}
                    </select>
                </label>
                <label className="inline">
                    Y
                    <select
                        className="select select-sm"
                        value={axes.ys[0]}
                        onChange={(event) => set_axes({ ...axes, ys: [Number(event.target.value)] })}
                    >
                        {numeric.map((index) => (
                            <option key={index} value={index}>
                                {result.columns[index]}
                            </option>
                        ))}
                    </select>
                </label>
                <div className="segmented" role="tablist" aria-label="Chart type">
                    {(["bar", "line"] as const).map((option) => (
                        <button key={option} type="button" role="tab" aria-selected={kind === option} onClick={() => set_kind(option)}>
                            {option === "bar" ? "Bar" : "Line"}
                        </button>
                    ))}
                </div>
                {result.rows.length > max_chart_points && <span className="faint">First {max_chart_points.toLocaleString("en-US")} rows</span>}
                {load_error && <span style={{ color: "var(--danger)" }}>Chart failed to load: {load_error}</span>}
            </div>
            <div style={{ flex: 1, minHeight: 0, padding: 12 }}>
                {/* Chart.js sizes itself from a relatively positioned parent that holds nothing else. */}
                <div style={{ position: "relative", width: "100%", height: "100%" }}>
                    <canvas ref={canvas} aria-label="Chart of the results" role="img" />
                </div>
            </div>
        </div>
    );
}
