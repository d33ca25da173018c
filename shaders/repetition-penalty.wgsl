// Repetition penalty (llama.cpp's penalty_repeat over the last `window` tokens): records the step's input token
// in the history ring at pos % window, then for each distinct token among positions max(0, pos - window + 1)..pos
// divides its logit by `penalty` when positive, multiplies when negative. One invocation: the window is short
// (tens of tokens), and one thread needs no dedupe races or barriers.
struct Params {
  vocab: u32,
  window: u32,
  pos: u32,
  penalty: f32,
}

@group(0) @binding(0) var<storage, read> tokens: array<u32>;
@group(0) @binding(1) var<storage, read_write> history: array<u32>;
@group(0) @binding(2) var<storage, read_write> logits: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(1)
fn main() {
  let w = params.window;
  history[params.pos % w] = tokens[0];
  let count = min(params.pos + 1u, w);
  for (var i = 0u; i < count; i++) {
    let t = history[(params.pos - i) % w];
    var seen = false;
    for (var j = 0u; j < i; j++) {
      if (history[(params.pos - j) % w] == t) {
        seen = true;
        break;
      }
    }
    if (seen || t >= params.vocab) {
      continue;
    }
    let l = logits[t];
    logits[t] = select(l * params.penalty, l / params.penalty, l > 0.0);
  }
}
