// CSV and JSON download through the server's streaming export, so a download is never limited to the grid's rows.
import { useRef, useState } from "react";
import { start_export } from "../../api/direct_query";
import { error_message, is_abort } from "../../api/http";
import type { TeamId } from "../../api/types";
import { DownloadIcon } from "../../components/icons";
import { use_toast } from "../../components/toast";
import { byte_counter, format_bytes, ndjson_to_json_array, save_stream } from "../../lib/download";

interface ExportButtonsProps {
    team_id: TeamId;
    source_id: string;
    sql: string;
    file_stem: string;
}

type Format = "csv" | "json";

export function ExportButtons({ team_id, source_id, sql, file_stem }: ExportButtonsProps) {
    const toast = use_toast();
    const [busy, set_busy] = useState<Format | null>(null);
    const [bytes, set_bytes] = useState(0);
    const controller = useRef<AbortController | null>(null);

    const download = async (format: Format) => {
        if (busy) {
            controller.current?.abort();
            return;
        }
        const abort = new AbortController();
        controller.current = abort;
        set_busy(format);
        set_bytes(0);
        try {
            const response = await start_export(team_id, source_id, sql, format === "csv" ? "csv" : "ndjson", abort.signal);
            if (!response.body) {
                throw new Error("The export returned no data.");
            }
            let stream = response.body.pipeThrough(byte_counter(set_bytes));
            if (format === "json") {
                stream = stream.pipeThrough(ndjson_to_json_array());
            }
            const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
            await save_stream(stream, `${file_stem}-${stamp}.${format}`, format === "csv" ? "text/csv" : "application/json");
        } catch (caught) {
            if (!is_abort(caught)) {
                toast.show(`Export failed: ${error_message(caught)}`, "error");
            }
        } finally {
            set_busy(null);
            controller.current = null;
        }
    };

    const label = (format: Format) => (busy === format ? `${bytes > 0 ? format_bytes(bytes) : "Starting…"} · Stop` : format.toUpperCase());

    return (
        <>
            <button type="button" className="btn btn-sm" onClick={() => download("csv")} disabled={busy === "json"} title="Download all rows as CSV (streamed by the server)">
                {busy === "csv" ? <span className="spinner" /> : <DownloadIcon size={13} />}
                {label("csv")}
            </button>
            <button type="button" className="btn btn-sm" onClick={() => download("json")} disabled={busy === "csv"} title="Download all rows as a JSON array">
                {busy === "json" ? <span className="spinner" /> : <DownloadIcon size={13} />}
                {label("json")}
            </button>
        </>
    );
}
