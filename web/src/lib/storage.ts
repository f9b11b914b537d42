// Small typed wrappers over localStorage that never throw: quota errors and private modes must not break the app.

export function read_json<T>(key: string, fallback: T): T {
    try {
        const text = window.localStorage.getItem(key);
        return text === null ? fallback : (JSON.parse(text) as T);
    } catch {
        return fallback;
    }
}

/** Returns false when the browser refused to store the value (quota full, storage disabled). */
export function write_json(key: string, value: unknown): boolean {
    try {
        window.localStorage.setItem(key, JSON.stringify(value));
        return true;
    } catch {
        return false;
    }
}

export function read_text(key: string): string | null {
    try {
        return window.localStorage.getItem(key);
    } catch {
        return null;
    }
}

export function write_text(key: string, value: string | null): boolean {
    try {
        if (value === null) {
            window.localStorage.removeItem(key);
        } else {
            window.localStorage.setItem(key, value);
        }
        return true;
    } catch {
        return false;
    }
}

export function remove_keys_with_prefix(prefix: string, keep: ReadonlySet<string>): void {
    try {
        const doomed: string[] = [];
        for (let index = 0; index < window.localStorage.length; index += 1) {
            const key = window.localStorage.key(index);
            if (key !== null && key.startsWith(prefix) && !keep.has(key)) {
                doomed.push(key);
            }
        }
        doomed.forEach((key) => window.localStorage.removeItem(key));
    } catch {
        // Storage unavailable: nothing to clean.
    }
}
