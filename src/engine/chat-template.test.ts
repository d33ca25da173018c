// Chat templates: a model's Jinja template renders as transformers would; files without one get ChatML; bad
// messages and broken templates are refused with errors that say what is wrong.
import { describe, expect, test } from "vitest";
import { CHATML_TEMPLATE, renderChat, type ChatMessage } from "./chat-template.ts";

/** Llama 3's template, as its GGUF files carry it. */
const LLAMA3 =
  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + " +
  "message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}" +
  "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}" +
  "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

const CONVERSATION: ChatMessage[] = [
  { role: "system", content: "Be brief." },
  { role: "user", content: " Hi there \n" },
  { role: "assistant", content: "Hello." },
  { role: "user", content: "2+2?" },
];
const TOKENS = { bos: "<|begin_of_text|>", eos: "<|eot_id|>" };

describe("chat templates", () => {
  test("Llama 3's template renders every turn, trims content, puts BOS first and opens the reply", () => {
    const r = renderChat(LLAMA3, CONVERSATION, TOKENS);
    expect(r.template).toBe("model");
    expect(r.text).toBe(
      "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>" +
        "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>" +
        "<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>" +
        "<|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|>" +
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
    );
    expect(renderChat(LLAMA3, CONVERSATION, TOKENS, false).text.endsWith("2+2?<|eot_id|>")).toBe(true);
  });

  test("a file without a template gets ChatML", () => {
    const r = renderChat(undefined, CONVERSATION.slice(0, 2), TOKENS);
    expect(r.template).toBe("chatml");
    expect(r.text).toBe(
      "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n Hi there \n<|im_end|>\n<|im_start|>assistant\n",
    );
    expect(renderChat(CHATML_TEMPLATE, CONVERSATION.slice(0, 2), TOKENS).text).toBe(r.text);
  });

  test("bad messages and broken templates are refused by name", () => {
    expect(() => renderChat(undefined, [], TOKENS)).toThrow(/messages must be a non-empty list/);
    expect(() => renderChat(undefined, [{ role: "robot", content: "x" } as never], TOKENS)).toThrow(
      /messages\[0\]\.role is "robot"/,
    );
    expect(() => renderChat(undefined, [{ role: "user", content: 3 } as never], TOKENS)).toThrow(
      /messages\[0\]\.content must be a string/,
    );
    expect(() => renderChat("{% for m in messages %}{{ m.content ", CONVERSATION, TOKENS)).toThrow(
      /chat template failed to render/,
    );
  });
});
