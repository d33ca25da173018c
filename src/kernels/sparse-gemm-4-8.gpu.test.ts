// sparseGemm on the 4:8 pattern (the suite: sparse-suites.ts).
import { describe } from "vitest";
import { sparseMatmulSuite } from "./sparse-suites.ts";

describe("sparse gemm 4:8", () => {
  sparseMatmulSuite("gemm", ["4:8"], ["q4_0"]);
});
