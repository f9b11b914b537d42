// Protects the JSON download: NDJSON from the server must become one valid JSON array with digits untouched.
import { describe, expect, it } from "vitest";
import { ndjson_to_json_array } from "./download";

async function convert(chunks: string[]): Promise<string> {
    const encoder = new TextEncoder();
    const source = new ReadableStream<Uint8Array>({
        start(controller) {
            chunks.forEach((chunk) => controller.enqueue(encoder.encode(chunk)));
            controller.close();
        },
    });
    return new Response(source.pipeThrough(ndjson_to_json_array())).text();
}

describe("NDJSON to JSON", () => {
    it("joins lines split across chunks into an array, keeping big numbers' digits", async () => {
        const text = await convert(['{"id":9007199254740993,"t":"a"}\n{"id":', '2,"t":"b\\nc"}\n']);
        expect(text).toBe('[\n{"id":9007199254740993,"t":"a"},\n{"id":2,"t":"b\\nc"}\n]\n');
        expect(() => JSON.parse(text)).not.toThrow();
    });

    it("writes an empty array for no rows and accepts a last line without newline", async () => {
        expect(await convert([])).toBe("[]\n");
        expect(JSON.parse(await convert(['{"a":1}']))).toEqual([{ a: 1 }]);
    });
});
