// The team's sources (with their public connection settings), shared by the editor's database selector, the schema browser and the sources page.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { list_sources } from "../../api/sources";
import { error_message, is_abort } from "../../api/http";
import type { Source, TeamId } from "../../api/types";
import { dialect_for } from "../editor/dialect";

interface SourcesApi {
    sources: Source[];
    loading: boolean;
    error: string | null;
    reload(): Promise<void>;
}

const SourcesContext = createContext<SourcesApi | null>(null);

/** The name a person recognises a source by: its prefix, else its database, else the start of its id. */
export function source_name(source: Source): string {
    return source.prefix || source.job_inputs?.database || source.id.slice(0, 8);
}

/** "pagila (Postgres)" — how the database selector lists a source. */
export function source_label(source: Source): string {
    return `${source_name(source)} (${dialect_for(source.source_type).label})`;
}

export function SourcesProvider({ team_id, children }: { team_id: TeamId; children: ReactNode }) {
    const [sources, set_sources] = useState<Source[]>([]);
    const [loading, set_loading] = useState(true);
    const [error, set_error] = useState<string | null>(null);

    useEffect(() => {
        const controller = new AbortController();
        set_loading(true);
        list_sources(team_id, controller.signal)
            .then((list) => {
                set_sources(list);
                set_error(null);
            })
            .catch((caught: unknown) => {
                if (!is_abort(caught)) {
                    set_error(error_message(caught));
                }
            })
            .finally(() => {
                if (!controller.signal.aborted) {
                    set_loading(false);
                }
            });
        return () => controller.abort();
    }, [team_id]);

    const reload = useCallback(async () => {
        const list = await list_sources(team_id);
        set_sources(list);
        set_error(null);
    }, [team_id]);

    const api = useMemo(() => ({ sources, loading, error, reload }), [sources, loading, error, reload]);
    return <SourcesContext.Provider value={api}>{children}</SourcesContext.Provider>;
}

export function use_sources(): SourcesApi {
    const api = useContext(SourcesContext);
    if (!api) {
        throw new Error("use_sources outside SourcesProvider");
    }
    return api;
}
