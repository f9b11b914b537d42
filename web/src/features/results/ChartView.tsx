// The result pane's chart builder: chart type, X column, one or more numeric Y columns, an optional series column
// that splits the rows into series, stacking; settings are the tab's own. Chart.js is loaded only when a chart
// is first shown so the editor's bundle stays small.
import { useEffect, useMemo, useRef, useState } from "react";
import type { QueryResult } from "../../api/types";
import { use_theme } from "../../lib/theme";
import type { Dialect } from "../editor/dialect";
import { chart_data, chart_kinds, chart_palettes, max_chart_points, max_series, numeric_columns, resolve_settings, type ChartKind, type ChartSettings } from "./chart_model";

interface ChartViewProps {
    result: QueryResult;
    dialect: Dialect;
    /** The tab's saved settings (null before the user changed anything). */
    settings: ChartSettings | null;
    on_change(settings: ChartSettings): void;
}

const number_format = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });
const compact_format = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });

function tick_text(value: number | string): string {
    const number = Number(value);
    if (!Number.isFinite(number)) {
        return String(value);
    }
    return Math.abs(number) >= 100_000 ? compact_format.format(number) : number_format.format(number);
}

function with_alpha(hex: string, alpha: number): string {
    return hex + Math.round(alpha * 255).toString(16).padStart(2, "0");
}

export function ChartView({ result, dialect, settings: saved, on_change }: ChartViewProps) {
    const [theme] = use_theme();
    const canvas = useRef<HTMLCanvasElement>(null);
    const [load_error, set_load_error] = useState<string | null>(null);
    const numeric = useMemo(() => numeric_columns(result, dialect), [result, dialect]);
    const settings = useMemo(() => resolve_settings(result, dialect, saved), [result, dialect, saved]);
    const data = useMemo(() => (settings ? chart_data(result, settings) : null), [result, settings]);

    useEffect(() => {
        if (!settings || !data || data.problem || !canvas.current) {
            return;
        }
        let disposed = false;
        let chart: { destroy(): void } | null = null;
        const kind = settings.kind;
        import("chart.js/auto")
            .then(({ default: Chart }) => {
                if (disposed || !canvas.current) {
                    return;
                }
                const style = getComputedStyle(document.documentElement);
                const text = style.getPropertyValue("--text-muted").trim() || "#5b6573";
                const strong = style.getPropertyValue("--text").trim() || "#1b1f24";
                const grid = style.getPropertyValue("--border").trim() || "#d9dde3";
                const background = style.getPropertyValue("--bg").trim() || "#ffffff";
                const palette = chart_palettes[theme];
                const font = { family: getComputedStyle(document.body).fontFamily, size: 12 };
                const stacked = settings.stacked && (kind === "bar" || kind === "area");
                const many_points = data.labels.length > 200;
                const axis_title = (title: string) => ({ display: title !== "", text: title, color: strong, font: { ...font, weight: "bold" as const } });
                if (kind === "pie") {
                    chart = new Chart(canvas.current, {
                        type: "pie",
                        data: {
                            labels: data.labels,
                            datasets: data.series.map((entry) => ({
                                label: entry.label,
                                data: entry.data as Array<number | null>,
                                backgroundColor: data.labels.map((_, index) => palette[index % palette.length]),
                                borderColor: background,
                                borderWidth: 2,
                            })),
                        },
                        options: {
                            animation: false,
                            maintainAspectRatio: false,
                            responsive: true,
                            plugins: { legend: { position: "right", labels: { color: strong, font, boxWidth: 12 } } },
                        },
                    });
                    return;
                }
                const datasets = data.series.map((entry, index) => {
                    const colour = palette[index % palette.length];
                    return {
                        label: entry.label,
                        data: entry.data,
                        backgroundColor: kind === "area" ? with_alpha(colour, stacked ? 0.55 : 0.2) : kind === "scatter" ? with_alpha(colour, 0.7) : colour,
                        borderColor: colour,
                        borderWidth: kind === "bar" ? 0 : 2,
                        pointRadius: kind === "scatter" ? 3 : many_points ? 0 : 2.5,
                        pointHoverRadius: 5,
                        fill: kind === "area" ? (stacked && index > 0 ? "-1" : "origin") : false,
                        // Straight segments: a smoothed curve would draw values between points that no row has.
                        tension: 0,
                        spanGaps: false,
                        borderRadius: kind === "bar" ? 2 : 0,
                        maxBarThickness: 56,
                    };
                });
                chart = new Chart(canvas.current, {
                    type: kind === "scatter" ? "scatter" : kind === "bar" ? "bar" : "line",
                    data: { labels: kind === "scatter" ? undefined : data.labels, datasets: datasets as never },
                    options: {
                        animation: false,
                        maintainAspectRatio: false,
                        responsive: true,
                        interaction: kind === "scatter" ? { mode: "nearest", intersect: true } : { mode: "index", intersect: false },
                        plugins: {
                            legend: { display: data.series.length > 1, position: "top", align: "start", labels: { color: strong, font, boxWidth: 12, boxHeight: 12 } },
                            tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${tick_text(kind === "scatter" ? (item.parsed as { y: number }).y : (item.parsed as { y: number }).y)}` } },
                        },
                        scales: {
                            x: {
                                type: kind === "scatter" ? "linear" : "category",
                                stacked,
                                title: axis_title(data.x_title),
                                ticks: { color: text, font, maxRotation: 45, autoSkip: true, autoSkipPadding: 12 },
                                grid: { color: grid, display: kind === "scatter" },
                                border: { color: grid },
                            },
                            y: {
                                stacked,
                                beginAtZero: kind !== "scatter",
                                title: axis_title(data.series.length > 1 && settings.group ? `${data.y_title} by ${settings.group}` : data.y_title),
                                ticks: { color: text, font, callback: (value) => tick_text(value) },
                                grid: { color: grid },
                                border: { display: false },
                            },
                        },
                    },
                });
            })
            .catch((caught: unknown) => set_load_error(caught instanceof Error ? caught.message : String(caught)));
        return () => {
            disposed = true;
            chart?.destroy();
        };
    }, [data, settings, theme]);

    if (!settings || !data) {
        return (
            <div className="result-empty" data-testid="chart-empty">
                <div>
                    <div className="big">Nothing to chart</div>
                    <p className="empty-text">
                        A chart needs at least one numeric column (integer, bigint, numeric, real…) beside a label column. These columns hold{" "}
                        {result.columns.map((name, index) => `${name} (${result.types[index] || "unknown"})`).join(", ")}.
                    </p>
                    <p className="empty-text faint">Tip: aggregate with COUNT(*) or SUM(…), or cast text to a number with ::numeric.</p>
                </div>
            </div>
        );
    }

    const update = (patch: Partial<ChartSettings>) => on_change({ ...settings, ...patch });
    const label_columns = result.columns.map((name, index) => ({ name, index }));
    const y_choices = numeric.map((index) => result.columns[index]).filter((name) => name !== settings.x);
    const group_choices = result.columns.filter((name) => name !== settings.x && !settings.ys.includes(name));
    const toggle_y = (name: string, on: boolean) => {
        const next = on ? result.columns.filter((column) => column === name || settings.ys.includes(column)) : settings.ys.filter((column) => column !== name);
        if (next.length > 0) {
            update({ ys: next });
        }
    };
    const stackable = settings.kind === "bar" || settings.kind === "area";
    const summary = `${chart_kinds.find((option) => option.kind === settings.kind)?.label ?? ""} chart of ${data.y_title} by ${settings.x}${
        data.series.length > 1 ? `, ${data.series.length} series: ${data.series.map((entry) => entry.label).join(", ")}` : ""
    }`;

    return (
        <div className="chart-view">
            <div className="chart-controls" role="group" aria-label="Chart settings">
                <label className="inline">
                    Type
                    <select className="select select-sm" value={settings.kind} onChange={(event) => update({ kind: event.target.value as ChartKind })} aria-label="Chart type">
                        {chart_kinds.map((option) => (
                            <option key={option.kind} value={option.kind}>
                                {option.label}
                            </option>
                        ))}
                    </select>
                </label>
                <label className="inline">
                    X
                    <select className="select select-sm" value={settings.x} onChange={(event) => update({ x: event.target.value })} aria-label="X axis column">
                        {label_columns.map(({ name, index }) => (
                            <option key={index} value={name}>
                                {name}
                            </option>
                        ))}
                    </select>
                </label>
                <fieldset className="chart-ys">
                    <legend>{settings.kind === "pie" ? "Value" : "Y"}</legend>
                    {y_choices.map((name) => (
                        <label key={name} className="check-chip">
                            <input
                                type="checkbox"
                                checked={settings.ys.includes(name)}
                                disabled={settings.ys.length === 1 && settings.ys[0] === name}
                                onChange={(event) => toggle_y(name, event.target.checked)}
                            />
                            {name}
                        </label>
                    ))}
                </fieldset>
                <label className="inline">
                    Series
                    <select
                        className="select select-sm"
                        value={settings.group ?? ""}
                        onChange={(event) => update({ group: event.target.value || null })}
                        aria-label="Split into series by column"
                        disabled={settings.kind === "pie"}
                    >
                        <option value="">None</option>
                        {group_choices.map((name) => (
                            <option key={name} value={name}>
                                {name}
                            </option>
                        ))}
                    </select>
                </label>
                <label className="inline check">
                    <input type="checkbox" checked={settings.stacked} disabled={!stackable} onChange={(event) => update({ stacked: event.target.checked })} />
                    Stacked
                </label>
            </div>
            {(data.clipped || data.hidden_series > 0 || (settings.kind === "pie" && settings.ys.length > 1) || load_error) && (
                <div className="chart-notes" role="status">
                    {data.clipped && <span>Plotting the first {max_chart_points.toLocaleString("en-US")} rows.</span>}
                    {data.hidden_series > 0 && (
                        <span>
                            Showing the {max_series} largest series; {data.hidden_series} more left out.
                        </span>
                    )}
                    {settings.kind === "pie" && settings.ys.length > 1 && <span>A pie shows one value: {settings.ys[0]}.</span>}
                    {load_error && <span className="danger">The chart could not load: {load_error}</span>}
                </div>
            )}
            {data.problem ? (
                <div className="result-empty" data-testid="chart-problem">
                    <div>
                        <div className="big">This chart cannot be drawn</div>
                        <p className="empty-text">{data.problem}</p>
                    </div>
                </div>
            ) : (
                <div className="chart-canvas" data-testid="chart" data-chart-kind={settings.kind} data-series-count={data.series.length}>
                    {/* Chart.js sizes itself from a relatively positioned parent that holds nothing else. */}
                    <div className="chart-canvas-inner">
                        <canvas ref={canvas} role="img" aria-label={summary} />
                    </div>
                </div>
            )}
        </div>
    );
}
