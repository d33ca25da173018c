// FFN-skip plan, once per decode step before layer 0: picks which gated FFN blocks of this token to skip and writes
// the indirect grids of their dispatches (the full grid to run, zeros to skip). One invocation: the work is a loop
// over the layers and the gated dispatches (tens of words), and one thread keeps the choice in a fixed order.
//
// A layer is a candidate when the last similarity its FFN measured (cos of the residual stream before and after it,
// written by ffn-residual.wgsl) is at least the threshold and it has been skipped fewer than `recheck` tokens in a
// row (0: no forced re-check). Up to `cap` candidates are skipped, the most similar first (ties: the lower layer).
// Before `warmup_until` (a position) every block runs. It also clears the per-token flags of blocks that ran, which
// the ffn-residual kernels set as they run.
struct Params {
  gates: u32,
  first: u32,
  end: u32,
  cap: u32,
  recheck: u32,
  threshold: f32,
  pos: u32,
  warmup_until: u32,
}

// Per layer: the similarity its FFN measured last (-2 until it has run), tokens skipped in a row, this token's choice.
struct LayerState {
  sim: f32,
  age: u32,
  skip: u32,
  pad: u32,
}

@group(0) @binding(0) var<storage, read_write> state: array<LayerState>;
@group(0) @binding(1) var<storage, read> table: array<u32>;
@group(0) @binding(2) var<storage, read_write> args: array<u32>;
@group(0) @binding(3) var<storage, read_write> ran: array<u32>;
@group(0) @binding(4) var<uniform> params: Params;

fn candidate(s: LayerState) -> bool {
  return s.skip == 0u && s.sim >= params.threshold && (params.recheck == 0u || s.age < params.recheck);
}

@compute @workgroup_size(1)
fn main() {
  for (var l = 0u; l < params.gates; l++) {
    ran[l] = 0u;
    state[l].skip = 0u;
  }
  if (params.pos >= params.warmup_until) {
    for (var n = 0u; n < params.cap; n++) {
      var best = params.end;
      for (var l = params.first; l < params.end; l++) {
        if (candidate(state[l]) && (best == params.end || state[l].sim > state[best].sim)) {
          best = l;
        }
      }
      if (best == params.end) {
        break;
      }
      state[best].skip = 1u;
    }
  }
  // Grids follow the gates + 1 offsets in the table; a gate's dispatches are table[l] .. table[l + 1].
  let grids = params.gates + 1u;
  for (var l = params.first; l < params.end; l++) {
    let skip = state[l].skip != 0u;
    if (skip) {
      state[l].age += 1u;
    }
    for (var i = table[l] * 3u; i < table[l + 1u] * 3u; i++) {
      args[i] = select(table[grids + i], 0u, skip);
    }
  }
}
