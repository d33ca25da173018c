// Chat messages to prompt text: the model's own `tokenizer.chat_template` (Jinja, rendered by @huggingface/jinja,
// the implementation transformers.js uses, so templates behave as they do there), or ChatML when the file has none
// (llama.cpp's fallback too). Template errors name the template's problem instead of producing a wrong prompt.
import { Template } from "@huggingface/jinja";
import { SkiffError } from "../errors.ts";

export type ChatRole = "system" | "user" | "assistant";

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export interface RenderedChat {
  text: string;
  /** "model": the GGUF's template; "chatml": the fallback for a file without one. */
  template: "model" | "chatml";
}

/** ChatML as a Jinja template, so the fallback goes through the same renderer as a model's own. */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}" +
  "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const ROLES: readonly string[] = ["system", "user", "assistant"];

export function checkMessages(messages: unknown): asserts messages is ChatMessage[] {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new SkiffError("bad-argument", "messages must be a non-empty list of { role, content }");
  }
  messages.forEach((m: unknown, i) => {
    const { role, content } = (m ?? {}) as Record<string, unknown>;
    if (typeof role !== "string" || !ROLES.includes(role)) {
      throw new SkiffError(
        "bad-argument",
        `messages[${i}].role is ${JSON.stringify(role)}; use system, user or assistant`,
      );
    }
    if (typeof content !== "string") {
      throw new SkiffError("bad-argument", `messages[${i}].content must be a string`);
    }
  });
}

export function renderChat(
  template: string | undefined,
  messages: ChatMessage[],
  tokens: { bos: string; eos: string },
  addGenerationPrompt = true,
): RenderedChat {
  checkMessages(messages);
  const source = template ?? CHATML_TEMPLATE;
  let text: string;
  try {
    text = new Template(source).render({
      messages,
      add_generation_prompt: addGenerationPrompt,
      bos_token: tokens.bos,
      eos_token: tokens.eos,
    });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new SkiffError("bad-argument", `The model's chat template failed to render: ${why}`, { cause: e });
  }
  return { text, template: template === undefined ? "chatml" : "model" };
}
