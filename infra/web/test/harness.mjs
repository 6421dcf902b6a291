// What the browser tests stand on: the local runner built from this
// checkout and started on a free port (in-memory store, the outbox), and
// Chromium from apt driven by playwright-core.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import assert from "node:assert/strict";
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

// open loads the page from runner in a new context and waits until it
// has loaded what it shows; page.errors collects its uncaught errors.
export async function open(browser, runner, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, ...options });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  await page.goto(runner.url + "/");
  await page.waitForSelector("body[data-ready='1']");
  page.errors = errors;
  return page;
}

// signIn mints a token in the side panel for account sub.
export async function signIn(page, sub, { mfa = true, old = false, email = `${sub}@example.ru` } = {}) {
  await page.fill("#dev-sub", sub);
  await page.fill("#dev-email", email);
  await page.setChecked("#dev-mfa", mfa);
  await page.selectOption("#dev-age", old ? "3600" : "0");
  await page.click("#dev-mint");
  await page.waitForFunction((s) => document.getElementById("dev-token").textContent.includes(s + ","), sub);
  await waitText(page, "#status-text", /\S/);
}

export async function waitText(page, selector, re) {
  try {
    await page.waitForFunction(([s, src, flags]) => new RegExp(src, flags).test(document.querySelector(s)?.textContent ?? ""),
      [selector, re.source, re.flags], { timeout: 10000 });
  } catch (e) {
    const text = await page.textContent(selector).catch(() => "(none)");
    throw new Error(`${selector} never matched ${re}: it says ${JSON.stringify(text)}; error shown: ${JSON.stringify(await page.textContent("#error-text"))}`, { cause: e });
  }
}

export const text = (page, selector) => page.textContent(selector).then((s) => (s ?? "").trim());
export const focusedId = (page) => page.evaluate(() => document.activeElement?.id ?? "");

// codeFor reads the newest code sent to a number or address from the
// runner's outbox.
export async function codeFor(runner, to) {
  const r = await fetch(runner.url + "/_local/outbox?to=" + encodeURIComponent(to));
  const msgs = (await r.json()).filter((m) => m.code);
  assert.ok(msgs.length > 0, `no code in the outbox for ${to}`);
  return msgs[msgs.length - 1].code;
}

export async function bind(page, runner, number) {
  await page.fill("#phone", number);
  await page.check("#consent");
  await page.click("#send-code");
  await page.waitForSelector("#code-section:not([hidden])");
  await page.fill("#code", await codeFor(runner, number));
  await page.click("#confirm");
  await waitText(page, "#notice", /Номер сохранён|number is saved/);
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

// checkAxe runs axe-core on the page as it stands and fails on any serious
// or critical violation, naming the screen. The page must have been opened
// with bypassCSP: its own CSP forbids the inline script axe comes in.
export async function checkAxe(page, screen) {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad.map((v) => `${screen}: ${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`), []);
}

// token mints a dev token on runner, as the side panel does.
export async function token(runner, sub, { mfa = true } = {}) {
  const r = await fetch(runner.url + "/_local/token", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ sub, email: `${sub}@example.ru`, amr: mfa ? ["pwd", "mfa"] : ["pwd"] }),
  });
  assert.equal(r.status, 200, await r.clone().text());
  return (await r.json()).token;
}

// readPhone invokes PhoneReadFunction on runner as a portal service
// would, and resolves with its answer.
export async function readPhone(runner, sub, { clientId = "partner.bank-example", clientName = "Банк «Пример»", purpose = "third_party" } = {}) {
  const r = await fetch(runner.url + "/_local/invoke/phone-read", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ action: "read_phone", account_id: sub, purpose, client_id: clientId, client_name: clientName }),
  });
  assert.equal(r.status, 200, await r.clone().text());
  return r.json();
}
