// Protects what an admin sees about the database role: warnings after "Test connection" and after saving (the
// dialog then stays open until "Done"), and the read-only recipe beside a refusal.
import { beforeAll, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { ApiError } from "../../api/http";
import type { RoleWarning } from "../../api/types";
import { SourceDialog } from "./SourceDialog";

const write_grant: RoleWarning = {
    code: "write_grant",
    message: "the role may write to 1 table or view (INSERT on 1)",
    examples: ["public.orders (INSERT)"],
};

const api = vi.hoisted(() => ({
    check_source: vi.fn(),
    create_source: vi.fn(),
    update_source: vi.fn(),
}));
vi.mock("../../api/sources", () => api);

beforeAll(() => {
    // jsdom has <dialog> but not its modal methods.
    HTMLDialogElement.prototype.showModal = function (this: HTMLDialogElement) {
        this.open = true;
    };
    HTMLDialogElement.prototype.close = function (this: HTMLDialogElement) {
        this.open = false;
    };
});

function fill_in() {
    const type = (name: string, value: string) =>
        fireEvent.change(document.querySelector(`input[name="${name}"]`)!, { target: { value } });
    type("prefix", "shop");
    type("host", "db.example.com");
    type("database", "shop");
    type("user", "writer");
}

describe("SourceDialog role warnings", () => {
    it("lists what Test connection found, with the recipe", async () => {
        api.check_source.mockResolvedValueOnce([write_grant]);
        render(<SourceDialog team_id={1} editing={null} open on_close={() => {}} on_saved={() => {}} />);
        fill_in();
        fireEvent.click(screen.getByText("Test connection"));
        const notice = await screen.findByTestId("role-warnings");
        expect(notice.textContent).toContain("This role can do more than read");
        expect(notice.textContent).toContain("public.orders (INSERT)");
        expect(notice.textContent).toContain("GRANT CONNECT ON DATABASE shop TO metahog_reader;");
    });

    it("keeps the dialog open after a save with warnings until Done", async () => {
        api.create_source.mockResolvedValueOnce({ id: "s1", warnings: [write_grant] });
        const on_saved = vi.fn();
        render(<SourceDialog team_id={1} editing={null} open on_close={() => {}} on_saved={on_saved} />);
        fill_in();
        fireEvent.click(screen.getByText("Add database"));
        await screen.findByTestId("role-warnings");
        expect(on_saved).not.toHaveBeenCalled();
        fireEvent.click(screen.getByText("Done"));
        expect(on_saved).toHaveBeenCalledWith("s1", true);
    });

    it("closes at once after a clean save", async () => {
        api.create_source.mockResolvedValueOnce({ id: "s2", warnings: [] });
        const on_saved = vi.fn();
        render(<SourceDialog team_id={1} editing={null} open on_close={() => {}} on_saved={on_saved} />);
        fill_in();
        fireEvent.click(screen.getByText("Add database"));
        await waitFor(() => expect(on_saved).toHaveBeenCalledWith("s2", true));
        expect(screen.queryByTestId("role-warnings")).toBeNull();
    });

    it("shows the recipe beside a refused role", async () => {
        api.check_source.mockRejectedValueOnce(
            new ApiError(400, { code: "unsafe_database_role", message: 'MetaHog refuses to connect as the database role "writer": it is a superuser' }),
        );
        render(<SourceDialog team_id={1} editing={null} open on_close={() => {}} on_saved={() => {}} />);
        fill_in();
        fireEvent.click(screen.getByText("Test connection"));
        const error = await screen.findByTestId("source-error");
        expect(error.textContent).toContain("it is a superuser");
        expect(error.textContent).toContain("How to create a read-only role");
    });
});
