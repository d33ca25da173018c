// sparseGemm on the 2:8 pattern (the suite: sparse-suites.ts).
import { describe } from "vitest";
import { sparseMatmulSuite } from "./sparse-suites.ts";

describe("sparse gemm 2:8", () => {
  sparseMatmulSuite("gemm", ["2:8"], ["f16"]);
});
