// Downloads a streamed HTTP body as a file (a Blob, which Chromium spills to disk when large); NDJSON can be
// rewritten into a JSON array on the way, line by line, so exact numbers stay untouched.

/** Rewrites NDJSON ("{…}\n{…}\n") into a JSON array ("[{…},\n{…}]") as chunks arrive. */
export function ndjson_to_json_array(): TransformStream<Uint8Array, Uint8Array> {
    const decoder = new TextDecoder();
    const encoder = new TextEncoder();
    let pending = "";
    let first = true;
    const emit = (controller: TransformStreamDefaultController<Uint8Array>, line: string) => {
        const trimmed = line.trim();
        if (trimmed === "") {
            return;
        }
        controller.enqueue(encoder.encode((first ? "[\n" : ",\n") + trimmed));
        first = false;
    };
    return new TransformStream({
        transform(chunk, controller) {
            pending += decoder.decode(chunk, { stream: true });
            const lines = pending.split("\n");
            pending = lines.pop() ?? "";
            lines.forEach((line) => emit(controller, line));
        },
        flush(controller) {
            pending += decoder.decode();
            emit(controller, pending);
            controller.enqueue(encoder.encode(first ? "[]\n" : "\n]\n"));
        },
    });
}

/** Counts bytes as they pass, for a progress label. */
export function byte_counter(on_progress: (bytes: number) => void): TransformStream<Uint8Array, Uint8Array> {
    let bytes = 0;
    return new TransformStream({
        transform(chunk, controller) {
            bytes += chunk.byteLength;
            on_progress(bytes);
            controller.enqueue(chunk);
        },
    });
}

export async function save_stream(body: ReadableStream<Uint8Array>, filename: string, mime: string): Promise<void> {
    const blob = await new Response(body).blob();
    const url = URL.createObjectURL(new Blob([blob], { type: mime }));
    const link = document.createElement("a");
    link.href = url;
    link.download = filename;
    link.style.display = "none";
    document.body.appendChild(link);
    link.click();
    link.remove();
    // The browser starts the download asynchronously; keep the URL alive long enough for it.
    window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function format_bytes(bytes: number): string {
    if (bytes < 1024) {
        return `${bytes} B`;
    }
    if (bytes < 1024 * 1024) {
        return `${(bytes / 1024).toFixed(1)} KB`;
    }
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export async function copy_text(text: string): Promise<boolean> {
    try {
        await navigator.clipboard.writeText(text);
        return true;
    } catch {
        // Clipboard API refused (insecure origin, permissions): fall back to a hidden textarea.
        const area = document.createElement("textarea");
        area.value = text;
        area.style.position = "fixed";
        area.style.opacity = "0";
        document.body.appendChild(area);
        area.select();
        const ok = document.execCommand("copy");
        area.remove();
        return ok;
    }
}
