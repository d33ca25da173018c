// The per-layer x per-token map of which FFN blocks ran, on a canvas: one column per generated token, one row
// per layer, blue where the block ran and grey where it was skipped (as the kernels reported, TokenEvent.ffnRan).
// Dense decoding reports no map, and its columns fill solid. Past the canvas's width the map starts over.

export class FfnMap {
  private columns = 0;
  constructor(
    private readonly canvas: HTMLCanvasElement,
    private layers = 1,
  ) {}

  reset(layers: number): void {
    this.layers = layers;
    this.columns = 0;
    const ctx = this.canvas.getContext("2d");
    ctx?.clearRect(0, 0, this.canvas.width, this.canvas.height);
  }

  /** Adds a token's column; `ran[l]` says whether layer l's FFN ran (all true when no map came). */
  push(ran: boolean[] = new Array(this.layers).fill(true)): void {
    const ctx = this.canvas.getContext("2d");
    if (!ctx) return;
    const cell = Math.max(2, Math.floor(this.canvas.height / this.layers));
    const x = (this.columns % Math.floor(this.canvas.width / cell)) * cell;
    if (x === 0) ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ran.forEach((r, l) => {
      ctx.fillStyle = r ? "#2e86de" : "#dfe6e9";
      ctx.fillRect(x, l * cell, cell - 1, cell - 1);
    });
    this.columns++;
  }
}
