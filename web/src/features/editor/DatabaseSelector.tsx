// The toolbar's database selector: the team's sources as "pagila (Postgres)", remembered per tab. "Add a database"
// is a button beside it, not an option: arrowing through a select's options must never navigate away.
import type { Source } from "../../api/types";
import { PlusIcon } from "../../components/icons";
import { source_label } from "../sources/sources_context";

interface DatabaseSelectorProps {
    sources: Source[];
    loading: boolean;
    value: string | null;
    on_change(source_id: string): void;
    on_add(): void;
}

export function DatabaseSelector({ sources, loading, value, on_change, on_add }: DatabaseSelectorProps) {
    const known = value !== null && sources.some((source) => source.id === value);
    return (
        <>
            <select
                className="select select-sm db-select"
                aria-label="Database"
                data-testid="database-selector"
                value={value ?? ""}
                onChange={(event) => on_change(event.target.value)}
            >
                {value === null && <option value="">{loading ? "Loading databases…" : sources.length ? "Choose a database" : "No database yet"}</option>}
                {value !== null && !known && <option value={value}>{loading ? "Loading databases…" : `Unavailable source (${value.slice(0, 8)}…)`}</option>}
                {sources.map((source) => (
                    <option key={source.id} value={source.id}>
                        {source_label(source)}
                    </option>
                ))}
            </select>
            <button type="button" className="icon-btn" onClick={on_add} aria-label="Add a database" title="Add a database">
                <PlusIcon />
            </button>
        </>
    );
}
