// The one place that talks HTTP: cookies, the CSRF header, the error body shape and cancellation via AbortSignal.

export interface ErrorBody {
    error?: string;
    message?: string;
    code?: string;
    field?: string;
    sqlstate?: string;
    detail?: string;
    hint?: string;
    position?: number;
}

/** Any non-2xx answer, carrying the server's stable code and, for database errors, its own details. */
export class ApiError extends Error {
    readonly status: number;
    readonly code: string;
    readonly field?: string;
    readonly sqlstate?: string;
    readonly detail?: string;
    readonly hint?: string;
    readonly position?: number;

    constructor(status: number, body: ErrorBody) {
        super(body.error ?? body.message ?? status_text(status));
        this.name = "ApiError";
        this.status = status;
        this.code = body.code ?? (status === 401 ? "unauthenticated" : "http_" + status);
        this.field = body.field;
        this.sqlstate = body.sqlstate;
        this.detail = body.detail;
        this.hint = body.hint;
        this.position = typeof body.position === "number" ? body.position : undefined;
    }
}

/** The network itself failed (server down, connection reset), as opposed to an error answer. */
export class NetworkError extends Error {
    constructor(cause: unknown) {
        super("Could not reach the MetaHog server. Check that it is running and try again.");
        this.name = "NetworkError";
        this.cause = cause;
    }
}

function status_text(status: number): string {
    switch (status) {
        case 401:
            return "Please sign in again.";
        case 403:
            return "You are not allowed to do that.";
        case 404:
            return "Not found.";
        case 413:
            return "The request is too large.";
        case 429:
            return "Too many requests; wait a moment and try again.";
        case 502:
        case 503:
        case 504:
            return "The server is unavailable right now; try again shortly.";
        default:
            return `The server answered with status ${status}.`;
    }
}

let csrf_token: string | null = null;
let on_unauthenticated: (() => void) | null = null;

export function set_csrf_token(token: string | null): void {
    csrf_token = token;
}

/** Called when any request answers 401, so the app can return to the sign-in page. */
export function set_unauthenticated_handler(handler: (() => void) | null): void {
    on_unauthenticated = handler;
}

export interface RequestOptions {
    method?: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
    body?: unknown;
    signal?: AbortSignal;
    /** Auth probes report 401 to their caller instead of signing the app out. */
    quiet_unauthenticated?: boolean;
    headers?: Record<string, string>;
}

/** Sends a request and returns the raw Response once it is known to be a success. */
export async function request(path: string, options: RequestOptions = {}): Promise<Response> {
    const method = options.method ?? "GET";
    const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
    if (options.body !== undefined) {
        headers["Content-Type"] = "application/json";
    }
    if (method !== "GET" && csrf_token) {
        headers["X-CSRF-Token"] = csrf_token;
    }
    let response: Response;
    try {
        response = await fetch(path, {
            method,
            headers,
            body: options.body === undefined ? undefined : JSON.stringify(options.body),
            credentials: "same-origin",
            signal: options.signal,
        });
    } catch (cause) {
        if (cause instanceof DOMException && cause.name === "AbortError") {
            throw cause;
        }
        throw new NetworkError(cause);
    }
    if (!response.ok) {
        const body = await read_error_body(response);
        // An abort while the error body was being read is an abort, not an error answer without details.
        if (options.signal?.aborted) {
            throw new DOMException("The request was aborted.", "AbortError");
        }
        if (response.status === 401 && !options.quiet_unauthenticated) {
            on_unauthenticated?.();
        }
        throw new ApiError(response.status, body);
    }
    return response;
}

async function read_error_body(response: Response): Promise<ErrorBody> {
    try {
        const text = await response.text();
        const parsed: unknown = text ? JSON.parse(text) : {};
        return parsed && typeof parsed === "object" ? (parsed as ErrorBody) : {};
    } catch {
        return {};
    }
}

export async function request_json<T>(path: string, options: RequestOptions = {}): Promise<T> {
    const response = await request(path, options);
    if (response.status === 204) {
        return undefined as T;
    }
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
}

export function is_abort(error: unknown): boolean {
    return error instanceof DOMException && error.name === "AbortError";
}

/** A message for any thrown value, fit to show a person. */
export function error_message(error: unknown): string {
    if (error instanceof Error) {
        return error.message;
    }
    return String(error);
}
