// Loads a source's schema once per session (cached per source) and on demand with refresh=1.
import { useCallback, useEffect, useState } from "react";
import { fetch_schema } from "../../api/direct_query";
import { error_message, is_abort } from "../../api/http";
import type { SchemaResponse, TeamId } from "../../api/types";

const cache = new Map<string, SchemaResponse>();

export interface SchemaState {
    schema: SchemaResponse | null;
    loading: boolean;
    error: string | null;
    refresh(): void;
}

export function use_schema(team_id: TeamId, source_id: string | null): SchemaState {
    const key = source_id ? `${team_id}/${source_id}` : "";
    const [schema, set_schema] = useState<SchemaResponse | null>(() => cache.get(key) ?? null);
    const [loading, set_loading] = useState(false);
    const [error, set_error] = useState<string | null>(null);
    const [refresh_count, set_refresh_count] = useState(0);

    useEffect(() => {
        if (!source_id) {
            set_schema(null);
            set_error(null);
            set_loading(false);
            return;
        }
        const refresh = refresh_count > 0;
        const cached = cache.get(key);
        set_schema(cached ?? null);
        set_error(null);
        if (cached && !refresh) {
            set_loading(false);
            return;
        }
        const controller = new AbortController();
        set_loading(true);
        fetch_schema(team_id, source_id, refresh, controller.signal)
            .then((response) => {
                cache.set(key, response);
                set_schema(response);
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
    }, [team_id, source_id, key, refresh_count]);

    const refresh = useCallback(() => set_refresh_count((count) => count + 1), []);
    return { schema, loading, error, refresh };
}
