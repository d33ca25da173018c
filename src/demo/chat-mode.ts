// The demo's chat mode: the conversation so far, prompted through the model's chat template (the engine reuses the
// cached turns), shown as turns of plain text: model output never goes into the page as HTML.
import type { ChatMessage } from "../engine/chat-template.ts";

export class DemoConversation {
  private messages: ChatMessage[] = [];

  constructor(private readonly output: HTMLElement) {}

  reset(): void {
    this.messages = [];
    this.output.replaceChildren();
  }

  /** Adds the user's turn and returns the messages to prompt with, and the element the reply streams into. */
  ask(text: string, system?: string): { messages: ChatMessage[]; reply: HTMLElement } {
    if (this.messages.length === 0 && system) this.messages.push({ role: "system", content: system });
    this.messages.push({ role: "user", content: text });
    this.output.append(turn("user", text));
    const reply = turn("assistant", "");
    this.output.append(reply);
    return { messages: [...this.messages], reply };
  }

  answered(text: string): void {
    this.messages.push({ role: "assistant", content: text });
  }

  /** A failed turn leaves no trace in the conversation. */
  failed(): void {
    this.messages.pop();
  }
}

function turn(role: ChatMessage["role"], text: string): HTMLElement {
  const div = document.createElement("div");
  div.className = `turn ${role}`;
  div.dataset.role = role;
  div.textContent = text;
  return div;
}
