// Makes sure a Chromium exists for the browser tests: installs Debian's package when we are root with
// apt, otherwise stops with one line that says what to do. `--optional` only warns (the demo needs none).
import { execSync } from "node:child_process";
import { existsSync } from "node:fs";
import { findChrome } from "./chrome-path.mjs";

const optional = process.argv.includes("--optional");
if (!findChrome()) {
  const canApt = process.getuid?.() === 0 && existsSync("/usr/bin/apt-get");
  if (canApt && !optional) {
    console.log("skiff: no Chromium found; installing Debian's chromium package");
    execSync("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium", {
      stdio: "inherit",
    });
  }
  if (!findChrome()) {
    const line = "skiff: no Chromium found: install Debian's `chromium` package or set CHROME_PATH";
    if (optional) console.warn(line);
    else {
      console.error(line);
      process.exit(1);
    }
  }
}
