// Turns a pasted Postgres connection string (URI or key=value form) into the source form's fields.

export interface ConnectionFields {
    host?: string;
    port?: number;
    database?: string;
    user?: string;
    password?: string;
    sslmode?: string;
    schema?: string;
}

export type ParsedConnection = { ok: true; fields: ConnectionFields } | { ok: false; message: string };

/** Accepts postgres://, postgresql:// URIs and libpq's "host=… port=…" form. */
export function parse_connection_string(input: string): ParsedConnection {
    const text = input.trim();
    if (text === "") {
        return { ok: false, message: "Paste a connection string first." };
    }
    if (/^postgres(ql)?:\/\//i.test(text)) {
        return parse_uri(text);
    }
    if (/^\w+\s*=/.test(text)) {
        return parse_key_values(text);
    }
    return { ok: false, message: "Expected postgresql://user:password@host:port/database or host=… dbname=…" };
}

function parse_uri(text: string): ParsedConnection {
    // URL() refuses some valid libpq URIs (several hosts, unbracketed IPv6), so the authority is split by hand.
    const match = /^postgres(?:ql)?:\/\/(?:([^@/?#]*)@)?([^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?/i.exec(text);
    if (!match) {
        return { ok: false, message: "That connection string could not be read." };
    }
    const [, credentials, host_port, database, query] = match;
    const fields: ConnectionFields = {};
    if (credentials !== undefined) {
        const colon = credentials.indexOf(":");
        const user = colon >= 0 ? credentials.slice(0, colon) : credentials;
        if (user) {
            fields.user = safe_decode(user);
        }
        if (colon >= 0) {
            fields.password = safe_decode(credentials.slice(colon + 1));
        }
    }
    if (host_port) {
        const first_host = host_port.split(",")[0];
        const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(first_host);
        if (bracketed) {
            fields.host = bracketed[1];
            if (bracketed[2]) {
                fields.port = Number(bracketed[2]);
            }
        } else {
            const colon = first_host.lastIndexOf(":");
            if (colon >= 0 && /^\d+$/.test(first_host.slice(colon + 1))) {
                fields.host = safe_decode(first_host.slice(0, colon));
                fields.port = Number(first_host.slice(colon + 1));
            } else if (first_host) {
                fields.host = safe_decode(first_host);
            }
        }
    }
    if (database) {
        fields.database = safe_decode(database);
    }
    if (query) {
        const params = new URLSearchParams(query);
        apply_param(fields, params, "sslmode", "sslmode");
        apply_param(fields, params, "user", "user");
        apply_param(fields, params, "password", "password");
        apply_param(fields, params, "dbname", "database");
        apply_param(fields, params, "host", "host");
        const port = params.get("port");
        if (port && /^\d+$/.test(port)) {
            fields.port = Number(port);
        }
        const search_path = schema_from_options(params.get("options"));
        if (search_path) {
            fields.schema = search_path;
        }
        const schema = params.get("schema") ?? params.get("currentSchema");
        if (schema) {
            fields.schema = schema;
        }
    }
    return { ok: true, fields };
}

function apply_param(fields: ConnectionFields, params: URLSearchParams, name: string, field: "sslmode" | "user" | "password" | "database" | "host"): void {
    const value = params.get(name);
    if (value !== null && value !== "") {
        fields[field] = value;
    }
}

function schema_from_options(options: string | null): string | undefined {
    if (!options) {
        return undefined;
    }
    const match = /search_path\s*=\s*([^\s,]+)/.exec(options);
    return match ? match[1] : undefined;
}

function safe_decode(text: string): string {
    try {
        return decodeURIComponent(text);
    } catch {
        return text;
    }
}

function parse_key_values(text: string): ParsedConnection {
    const fields: ConnectionFields = {};
    // libpq's keyword form: key = value, values optionally single-quoted with backslash escapes.
    const pattern = /(\w+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S+))/g;
    let match: RegExpExecArray | null;
    let matched = false;
    while ((match = pattern.exec(text)) !== null) {
        matched = true;
        const key = match[1].toLowerCase();
        const value = match[2] !== undefined ? match[2].replace(/\\(.)/g, "$1") : match[3];
        switch (key) {
            case "host":
            case "hostaddr":
                fields.host = value.split(",")[0];
                break;
            case "port":
                if (/^\d+$/.test(value)) {
                    fields.port = Number(value);
                }
                break;
            case "dbname":
                fields.database = value;
                break;
            case "user":
                fields.user = value;
                break;
            case "password":
                fields.password = value;
                break;
            case "sslmode":
                fields.sslmode = value;
                break;
            case "options": {
                const schema = schema_from_options(value);
                if (schema) {
                    fields.schema = schema;
                }
                break;
            }
            default:
                break;
        }
    }
    return matched ? { ok: true, fields } : { ok: false, message: "That connection string could not be read." };
}
