// Protects the dialog's keyboard contract: focus starts inside, Tab wraps inside, closing restores focus.
import { beforeAll, describe, expect, it } from "vitest";
import { fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { Dialog } from "./Dialog";

beforeAll(() => {
    // jsdom has no modal dialogs and no layout: enough of both for focus handling.
    HTMLDialogElement.prototype.showModal = function (this: HTMLDialogElement) {
        this.setAttribute("open", "");
    };
    HTMLDialogElement.prototype.close = function (this: HTMLDialogElement) {
        this.removeAttribute("open");
    };
    HTMLElement.prototype.getClientRects = function () {
        return [{}] as unknown as DOMRectList;
    };
});

function Harness() {
    const [open, set_open] = useState(false);
    return (
        <>
            <button type="button" onClick={() => set_open(true)}>
                Open
            </button>
            <Dialog open={open} title="Example" on_close={() => set_open(false)} footer={<button type="button">Save</button>}>
                <input aria-label="Name" />
            </Dialog>
        </>
    );
}

describe("Dialog", () => {
    it("focuses the first field, wraps Tab inside and gives focus back on close", () => {
        render(<Harness />);
        const opener = screen.getByRole("button", { name: "Open" });
        opener.focus();
        fireEvent.click(opener);
        const name = screen.getByLabelText("Name");
        expect(document.activeElement).toBe(name);
        const save = screen.getByRole("button", { name: "Save" });
        save.focus();
        fireEvent.keyDown(save, { key: "Tab" });
        expect(document.activeElement).toBe(screen.getByRole("button", { name: "Close" }));
        fireEvent.keyDown(document.activeElement!, { key: "Tab", shiftKey: true });
        expect(document.activeElement).toBe(save);
        fireEvent.click(screen.getByRole("button", { name: "Close" }));
        expect(document.activeElement).toBe(opener);
    });
});
