// sparseGemm on the 1:4 pattern (the suite: sparse-suites.ts).
import { describe } from "vitest";
import { sparseMatmulSuite } from "./sparse-suites.ts";

describe("sparse gemm 1:4", () => {
  sparseMatmulSuite("gemm", ["1:4"], ["q8_0"]);
});
