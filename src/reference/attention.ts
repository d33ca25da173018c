// Float64 reference for the KV cache and causal attention with grouped-query heads: the oracle of the
// kv-cache and attention kernel tests. Plain loops, output first, caches laid out [nKvHeads, capacity, headSize].

export interface KvCacheShape {
  nKvHeads: number;
  capacity: number;
  headSize: number;
}

export interface AttentionShape extends KvCacheShape {
  /** Query tokens; token t sits at absolute position startPos + t. */
  nTokens: number;
  startPos: number;
  nHeads: number;
  /** Multiplies q·k before the softmax; usually 1 / sqrt(headSize). */
  scale: number;
}

/** Element offset of (kvHead, pos, 0) in a head-major cache. */
export function cacheOffset(shape: KvCacheShape, kvHead: number, pos: number): number {
  return (kvHead * shape.capacity + pos) * shape.headSize;
}

/** Copies k and v (nTokens, nKvHeads * headSize) into the caches at positions startPos..startPos+nTokens-1. */
export function kvCacheWrite(
  keyCache: { [i: number]: number },
  valueCache: { [i: number]: number },
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  shape: KvCacheShape,
  nTokens: number,
  startPos: number,
): void {
  const { nKvHeads, headSize } = shape;
  const kvDim = nKvHeads * headSize;
  for (let t = 0; t < nTokens; t++) {
    for (let h = 0; h < nKvHeads; h++) {
      const dst = cacheOffset(shape, h, startPos + t);
      for (let i = 0; i < headSize; i++) {
        keyCache[dst + i] = k[t * kvDim + h * headSize + i];
        valueCache[dst + i] = v[t * kvDim + h * headSize + i];
      }
    }
  }
}

/**
 * out (nTokens, nHeads * headSize): token t's query head h attends to cache positions 0..startPos+t of kv head
 * floor(h / (nHeads / nKvHeads)) with softmax(scale * q·k) weights over the values.
 */
export function attention(
  out: Float64Array,
  q: ArrayLike<number>,
  keyCache: ArrayLike<number>,
  valueCache: ArrayLike<number>,
  shape: AttentionShape,
): Float64Array {
  const { nTokens, startPos, nHeads, nKvHeads, headSize, scale } = shape;
  const group = nHeads / nKvHeads;
  const dim = nHeads * headSize;
  const scores = new Float64Array(startPos + nTokens);
  for (let t = 0; t < nTokens; t++) {
    const last = startPos + t;
    for (let h = 0; h < nHeads; h++) {
      const kvh = Math.floor(h / group);
      const qOff = t * dim + h * headSize;
      // Subtracting the max keeps exp() finite; the softmax is unchanged by it.
      let max = -Infinity;
      for (let p = 0; p <= last; p++) {
        const kOff = cacheOffset(shape, kvh, p);
        let s = 0;
        for (let i = 0; i < headSize; i++) s += q[qOff + i] * keyCache[kOff + i];
        scores[p] = s * scale;
        if (scores[p] > max) max = scores[p];
      }
      let sum = 0;
      for (let p = 0; p <= last; p++) {
        scores[p] = Math.exp(scores[p] - max);
        sum += scores[p];
      }
      for (let i = 0; i < headSize; i++) {
        let acc = 0;
        for (let p = 0; p <= last; p++) acc += scores[p] * valueCache[cacheOffset(shape, kvh, p) + i];
        out[qOff + i] = acc / sum;
      }
    }
  }
  return out;
}
