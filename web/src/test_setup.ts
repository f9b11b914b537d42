// Vitest setup: unmount React trees between tests so each test starts from a clean document.
import { afterEach } from "vitest";
import { cleanup } from "@testing-library/react";

afterEach(() => {
    cleanup();
});
