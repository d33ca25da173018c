// sparseGemv on the 2:8 and 4:8 patterns (the suite: sparse-suites.ts).
import { describe } from "vitest";
import { sparseMatmulSuite } from "./sparse-suites.ts";

describe("sparse gemv, groups of 8", () => {
  sparseMatmulSuite("gemv", ["2:8", "4:8"], ["q8_0", "f32"]);
});
