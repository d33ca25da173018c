// The version constant the runtime stamps on stored data must follow package.json.
import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { SKIFF_VERSION } from "./version.ts";

test("SKIFF_VERSION is package.json's version", () => {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  expect(SKIFF_VERSION).toBe(pkg.version);
});
