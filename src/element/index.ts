// Registers <skiff-chat> (once, even if this module is loaded twice) and exports it with the client it uses.
import { SkiffChatElement, type SkiffChatEventMap } from "./skiff-chat.ts";

export { SkiffChatElement } from "./skiff-chat.ts";
export type { SkiffChatEventMap, SkiffErrorDetail, SkiffProgressDetail, SkiffTokenDetail } from "./skiff-chat.ts";
export { ClientRegistry, sharedRegistry } from "./registry.ts";
export { SkiffClient } from "../worker/client.ts";

export const SKIFF_CHAT_TAG = "skiff-chat";

if (!customElements.get(SKIFF_CHAT_TAG)) customElements.define(SKIFF_CHAT_TAG, SkiffChatElement);

declare global {
  interface HTMLElementTagNameMap {
    "skiff-chat": SkiffChatElement;
  }
  // The element's events bubble and are composed, so any ancestor (or document) can listen for them typed.
  interface HTMLElementEventMap extends SkiffChatEventMap {}
  interface DocumentEventMap extends SkiffChatEventMap {}
}
