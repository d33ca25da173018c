// The worker: one Engine, exposed through Comlink. All GPU work and storage happen here, off the page's thread.
import * as Comlink from "comlink";
import { Engine } from "../engine/engine.ts";
import { registerErrorTransfer } from "./errors.ts";

registerErrorTransfer();
Comlink.expose(new Engine());
