// Prompt-lookup drafting: the tokens that followed the most recent earlier occurrence of the context's last n tokens
// (n from `maxN` down to 1) are proposed as the continuation. Free to compute, right wherever the output repeats its
// input (quoting, editing, summarising, code).

export function ngramDraft(context: readonly number[], k: number, maxN = 3): number[] {
  const len = context.length;
  for (let n = Math.min(maxN, len - 1); n >= 1; n--) {
    // Match ends before the suffix itself; the latest match wins (nearest context is likeliest to repeat).
    for (let i = len - n - 1; i >= 0; i--) {
      let j = 0;
      while (j < n && context[i + j] === context[len - n + j]) j++;
      if (j < n) continue;
      const draft = context.slice(i + n, Math.min(len, i + n + k));
      if (draft.length > 0) return draft;
    }
  }
  return [];
}
