// Maps a database's 1-based character position to an editor offset; Postgres counts characters, JS UTF-16 units.

/** Offset in UTF-16 code units of the 1-based character `position` within `sql`, clamped to the text. */
export function character_position_to_offset(sql: string, position: number): number {
    if (!Number.isFinite(position) || position <= 1) {
        return 0;
    }
    let characters = 1;
    let offset = 0;
    while (offset < sql.length && characters < position) {
        const code = sql.charCodeAt(offset);
        offset += code >= 0xd800 && code <= 0xdbff && offset + 1 < sql.length ? 2 : 1;
        characters += 1;
    }
    return offset;
}

/** Line and column (both 1-based) of an offset, for messages such as "line 3, column 7". */
export function line_column(text: string, offset: number): { line: number; column: number } {
    let line = 1;
    let line_start = 0;
    for (let index = 0; index < offset && index < text.length; index += 1) {
        if (text.charCodeAt(index) === 10) {
            line += 1;
            line_start = index + 1;
        }
    }
    return { line, column: offset - line_start + 1 };
}
