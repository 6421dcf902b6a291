// What the browser tests stand on: the local runner built from this
// checkout and started on a free port (in-memory store, the outbox), and
// Chromium from apt driven by playwright-core.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

export const repoRoot = resolve(import.meta.dirname, "../../..");
export const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
export const screenshotsDir = process.env.SCREENSHOTS_DIR ? resolve(import.meta.dirname, "..", process.env.SCREENSHOTS_DIR) : "";

// skipReason is why the suite cannot run here ("" when it can); with
// REQUIRE_BROWSER=1 a missing Chromium fails instead.
export function skipReason() {
  if (existsSync(chromiumPath)) return "";
  const why = `${chromiumPath} not found (apt-get install -y chromium)`;
  if (process.env.REQUIRE_BROWSER === "1") throw new Error(why + "; REQUIRE_BROWSER=1");
  return why;
}

// The settings of `make run-dev`: no cooldowns, limits far off.
export const devSettings = {
  RESEND_COOLDOWN: "0s",
  CHANGE_COOLDOWN: "0s",
  CODES_PER_ACCOUNT_HOUR: "1000",
  CODES_PER_PHONE_DAY: "1000",
  CODES_PER_IP_HOUR: "10000",
  MAX_FAILURES_DAY: "1000",
  CODES_PER_PREFIX_DAY: "10000",
};

let binary = "";
let workDir = "";

function buildRunner() {
  if (binary) return binary;
  workDir = mkdtempSync(join(tmpdir(), "phonebind-web-"));
  binary = join(workDir, "local");
  execFileSync("go", ["build", "-o", binary, "./infra/local"], { cwd: repoRoot, stdio: "inherit" });
  return binary;
}

// startRunner starts the runner with settings (nothing else of the
// environment: no DYNAMODB_ENDPOINT from `make test`'s emulators) and
// resolves with its URL, its log so far and a stop function.
export async function startRunner(settings) {
  const bin = buildRunner();
  const env = { PATH: process.env.PATH, HOME: process.env.HOME ?? workDir, PORT: "0", ...settings };
  const proc = spawn(bin, [], { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
  const runner = { url: "", log: "", proc, stop: () => stop(proc) };
  proc.stderr.on("data", (d) => (runner.log += d));
  runner.url = await new Promise((ok, fail) => {
    let out = "";
    const timer = setTimeout(() => fail(new Error("the runner did not start in 20 s:\n" + out + runner.log)), 20000);
    proc.stdout.on("data", (d) => {
      out += d;
      const m = /API on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    proc.on("exit", (code) => fail(new Error(`the runner exited (${code}):\n${out}${runner.log}`)));
  });
  return runner;
}

function stop(proc) {
  return new Promise((ok) => {
    if (proc.exitCode !== null) return ok();
    proc.on("exit", () => ok());
    proc.kill("SIGTERM");
  });
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

export function cleanup() {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
}

export async function screenshot(page, name) {
  if (!screenshotsDir) return;
  mkdirSync(screenshotsDir, { recursive: true });
  await page.screenshot({ path: join(screenshotsDir, name), fullPage: true });
}

let serial = Math.floor(Math.random() * 9_000_000);
// freshNumber is a Russian mobile number no other test used.
export function freshNumber() {
  serial = (serial + 7919) % 9_000_000;
  return "+7 912 " + String(1_000_000 + serial);
}
