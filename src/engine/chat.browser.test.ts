// The OpenAI-shaped chat API end to end on a synthetic model with a byte-level BPE vocabulary and a ChatML
// template: several turns give the same text as rendering the template by hand (jinja and the tokenizer used
// directly) and generating on a fresh engine; later turns reuse the KV cache for the shared prefix; streaming gives
// the same text in chunks of OpenAI's shape.
import { describe, expect, test } from "vitest";
import { Template } from "@huggingface/jinja";
import { Engine } from "./engine.ts";
import { ChatCompletions, type ChatCompletionChunk } from "./chat-completions.ts";
import { CHATML_TEMPLATE, type ChatMessage } from "./chat-template.ts";
import { syntheticLlamaGguf } from "../loaders/synthetic-model.ts";
import { bpeGgufMetadata, syntheticBpeVocab } from "../tokenizer/synthetic-bpe.ts";
import { createTokenizer } from "../tokenizer/tokenizer.ts";
import f32Url from "../../../shared/models/stories260K-f32.gguf?url";

const VOCAB_SIZE = 400;
const vocab = syntheticBpeVocab({ style: "chatml", vocabSize: VOCAB_SIZE });
const MODEL = syntheticLlamaGguf({
  dim: 64,
  hiddenDim: 96,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  vocabSize: VOCAB_SIZE,
  seqLen: 512,
  type: "q8_0",
  seed: 5,
  architecture: "qwen2",
  metadata: bpeGgufMetadata(vocab, CHATML_TEMPLATE),
});
const GREEDY = { temperature: 0, max_tokens: 10 } as const;

let n = 0;
async function loadedEngine(bytes: Uint8Array = MODEL): Promise<{ engine: Engine; chat: ChatCompletions }> {
  const engine = new Engine({ storePrefix: `skiff-chat-test-${Date.now()}-${n++}`, prefillChunk: 8 });
  const { id } = await engine.importModel(new Blob([bytes as BlobPart]), { name: "chat.gguf" });
  await engine.load(id, { tuning: "skip" });
  const chat = new ChatCompletions({
    chatPrompt: (m) => engine.chatPrompt(m),
    generate: (p, s, onToken) => engine.generate(p, s, onToken),
    loadedModelId: () => id,
  });
  return { engine, chat };
}

/** The prompt rendered and tokenized without the engine: jinja on the template, the tokenizer on the text. */
function byHand(messages: ChatMessage[]): number[] {
  const text = new Template(CHATML_TEMPLATE).render({ messages, add_generation_prompt: true });
  return createTokenizer({ kind: "bpe", vocab }).encode(text, { parseSpecial: true });
}

describe("chat completions", () => {
  test("a multi-turn conversation equals rendering by hand and generating; later turns reuse the cache", async () => {
    const { engine, chat } = await loadedEngine();
    const reference = await loadedEngine();
    const messages: ChatMessage[] = [{ role: "system", content: "You are a test." }];
    for (const [turn, user] of ["Hello!", "Tell me a story, 2 lines.", "Thanks 👍"].entries()) {
      messages.push({ role: "user", content: user });
      const c = await chat.create({ messages, ...GREEDY });
      const ids = byHand(messages);
      expect((await engine.chatPrompt(messages)).ids).toEqual(ids);
      const want = await reference.engine.generate(
        { ids },
        { temperature: 0, maxTokens: 10, stopAtEos: true, reusePrefix: false },
      );
      const reply = c.choices[0].message.content;
      expect(reply).toBe(want.text);
      expect(c.object).toBe("chat.completion");
      expect(c.choices[0].finish_reason).toBe(want.stopReason === "eos" ? "stop" : "length");
      expect(c.usage.prompt_tokens).toBe(ids.length);
      expect(c.usage.completion_tokens).toBe(want.tokenIds.length);
      expect(c.usage.total_tokens).toBe(ids.length + want.tokenIds.length);
      // The previous turn's prompt is a prefix of this one's: its keys and values were kept.
      if (turn > 0) expect(c.usage.prompt_tokens_details.cached_tokens).toBeGreaterThan(10);
      else expect(c.usage.prompt_tokens_details.cached_tokens).toBe(0);
      messages.push({ role: "assistant", content: reply });
    }
    engine.dispose();
    reference.engine.dispose();
  });

  test("streaming yields OpenAI-shaped chunks whose content joins into the non-streamed reply", async () => {
    const { engine, chat } = await loadedEngine();
    const messages: ChatMessage[] = [{ role: "user", content: "Count: 1, 2, 3" }];
    const whole = await chat.create({ messages, ...GREEDY });
    const chunks: ChatCompletionChunk[] = [];
    for await (const c of await chat.create({ messages, ...GREEDY, stream: true })) chunks.push(c);
    expect(chunks[0].choices[0].delta).toEqual({ role: "assistant", content: "" });
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.id === chunks[0].id)).toBe(true);
    const last = chunks[chunks.length - 1];
    expect(last.choices[0].finish_reason).toBe(whole.choices[0].finish_reason);
    expect(last.usage?.completion_tokens).toBe(whole.usage.completion_tokens);
    expect(chunks.slice(1, -1).every((c) => c.choices[0].finish_reason === null)).toBe(true);
    expect(chunks.map((c) => c.choices[0].delta.content ?? "").join("")).toBe(whole.choices[0].message.content);
    engine.dispose();
  });

  test("a model without a chat template is prompted with ChatML; bad requests are refused", async () => {
    const bytes = new Uint8Array(await (await fetch(f32Url)).arrayBuffer());
    const { engine, chat } = await loadedEngine(bytes);
    const p = await engine.chatPrompt([{ role: "user", content: "Hi" }]);
    expect(p.template).toBe("chatml");
    expect(p.text).toBe("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    await expect(chat.create({ messages: [], max_tokens: 2 })).rejects.toThrow(/messages must be a non-empty list/);
    await expect(chat.create({ messages: [{ role: "user", content: "x" }], temperature: -1 })).rejects.toThrow(
      /temperature/,
    );
    engine.dispose();
  });
});
