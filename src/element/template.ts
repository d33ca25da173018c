// <skiff-chat>'s shadow DOM: static markup and styles (never any model text), and the handles the element uses.
//
// Theming, from the page:
//   CSS custom properties (set them on skiff-chat or any ancestor):
//     --skiff-font        font shorthand of the whole element       (15px/1.5 system-ui, sans-serif)
//     --skiff-bg          background                                (#fff)
//     --skiff-fg          text colour                               (#1d1d1f)
//     --skiff-muted       status line and secondary text            (#6b6b76)
//     --skiff-accent      send button, progress bar, focus ring     (#3b5bdb)
//     --skiff-accent-fg   text on the accent colour                 (#fff)
//     --skiff-border      borders                                   (#d0d0d7)
//     --skiff-error       error status text                         (#c92a2a)
//     --skiff-radius      corner radius                             (10px)
//     --skiff-max-height  transcript height before it scrolls       (24em)
//   ::part() names: transcript, turn, user-turn, model-turn, progress, input, send, stop, status.

const STYLES = `
:host {
  display: block;
  box-sizing: border-box;
  font: var(--skiff-font, 15px/1.5 system-ui, sans-serif);
  color: var(--skiff-fg, #1d1d1f);
  background: var(--skiff-bg, #fff);
  border: 1px solid var(--skiff-border, #d0d0d7);
  border-radius: var(--skiff-radius, 10px);
  padding: 0.75em;
}
:host([hidden]) { display: none; }
*, *::before, *::after { box-sizing: inherit; }
.transcript {
  max-height: var(--skiff-max-height, 24em);
  overflow-y: auto;
  display: flex;
  flex-direction: column;
  gap: 0.5em;
}
.transcript:empty { display: none; }
.turn {
  white-space: pre-wrap;
  overflow-wrap: anywhere;
  padding: 0.4em 0.65em;
  border-radius: var(--skiff-radius, 10px);
  border: 1px solid var(--skiff-border, #d0d0d7);
}
.turn.user { align-self: flex-end; max-width: 85%; background: color-mix(in srgb, var(--skiff-accent, #3b5bdb) 10%, transparent); }
.turn.model { align-self: stretch; }
.turn.model[data-streaming]::after { content: "▍"; opacity: 0.6; }
.progress { display: flex; align-items: center; gap: 0.5em; margin-top: 0.5em; color: var(--skiff-muted, #6b6b76); font-size: 0.85em; }
.progress[hidden] { display: none; }
progress { flex: 1; accent-color: var(--skiff-accent, #3b5bdb); }
form { display: flex; gap: 0.5em; margin-top: 0.5em; align-items: flex-end; }
textarea {
  flex: 1;
  min-height: 2.5em;
  resize: vertical;
  font: inherit;
  color: inherit;
  background: transparent;
  border: 1px solid var(--skiff-border, #d0d0d7);
  border-radius: var(--skiff-radius, 10px);
  padding: 0.4em 0.6em;
}
button {
  font: inherit;
  border-radius: var(--skiff-radius, 10px);
  border: 1px solid var(--skiff-border, #d0d0d7);
  padding: 0.4em 0.9em;
  background: transparent;
  color: inherit;
  cursor: pointer;
}
button.send { background: var(--skiff-accent, #3b5bdb); border-color: var(--skiff-accent, #3b5bdb); color: var(--skiff-accent-fg, #fff); }
button:disabled { opacity: 0.45; cursor: default; }
:focus-visible { outline: 2px solid var(--skiff-accent, #3b5bdb); outline-offset: 1px; }
.status { margin: 0.4em 0 0; min-height: 1.5em; font-size: 0.85em; color: var(--skiff-muted, #6b6b76); }
.status[data-state="error"] { color: var(--skiff-error, #c92a2a); }
`;

const MARKUP = `
<div class="transcript" part="transcript" role="log" aria-live="polite"></div>
<div class="progress" part="progress" hidden><progress max="1" value="0"></progress><span></span></div>
<form>
  <textarea part="input" rows="2" aria-label="Prompt" placeholder="Write a prompt…" disabled></textarea>
  <button class="send" part="send" type="submit" disabled>Send</button>
  <button class="stop" part="stop" type="button" disabled>Stop</button>
</form>
<p class="status" part="status" role="status" data-state="pending"></p>
`;

let template: HTMLTemplateElement | undefined;

export interface ChatView {
  transcript: HTMLDivElement;
  progress: HTMLDivElement;
  progressBar: HTMLProgressElement;
  progressText: HTMLSpanElement;
  form: HTMLFormElement;
  input: HTMLTextAreaElement;
  send: HTMLButtonElement;
  stop: HTMLButtonElement;
  status: HTMLParagraphElement;
}

export type StatusState = "pending" | "ready" | "busy" | "error";

/** Fills the shadow root from one shared template and returns its parts. */
export function renderView(root: ShadowRoot): ChatView {
  if (!template) {
    template = document.createElement("template");
    template.innerHTML = `<style>${STYLES}</style>${MARKUP}`;
  }
  root.replaceChildren(template.content.cloneNode(true));
  const q = <T extends Element>(selector: string) => root.querySelector(selector) as T;
  return {
    transcript: q(".transcript"),
    progress: q(".progress"),
    progressBar: q("progress"),
    progressText: q(".progress span"),
    form: q("form"),
    input: q("textarea"),
    send: q(".send"),
    stop: q(".stop"),
    status: q(".status"),
  };
}

/** A transcript turn; its text goes in as a Text node, so nothing in it is ever parsed as HTML. */
export function addTurn(view: ChatView, role: "user" | "model", text = ""): HTMLDivElement {
  const turn = document.createElement("div");
  turn.className = `turn ${role}`;
  turn.setAttribute("part", `turn ${role}-turn`);
  turn.dataset.role = role;
  if (text) turn.append(document.createTextNode(text));
  view.transcript.append(turn);
  view.transcript.scrollTop = view.transcript.scrollHeight;
  return turn;
}

export function setStatus(view: ChatView, text: string, state: StatusState): void {
  view.status.textContent = text;
  view.status.dataset.state = state;
}

/** Shows import progress; `fraction` undefined hides the bar. */
export function setProgress(view: ChatView, fraction: number | undefined, text = ""): void {
  view.progress.hidden = fraction === undefined;
  if (fraction !== undefined) view.progressBar.value = fraction;
  view.progressText.textContent = text;
}
