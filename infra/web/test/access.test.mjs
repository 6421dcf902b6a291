// The number in use, in Chromium against the local runner: a partner
// reads it (the side panel's read_phone), the citizen approves or declines
// the request it made, withdraws an approval, sees every read in the access
// log, and downloads the personal-data report; step-up, keyboard, axe-core
// and both languages.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import {
  launchBrowser, startRunner, devSettings, skipReason, cleanup, screenshot, freshNumber,
  open, signIn, waitText, text, focusedId, codeFor, bind, checkAxe, token, readPhone,
} from "./harness.mjs";

const skip = skipReason();
if (skip) console.log(`# browser tests skipped: ${skip}; set REQUIRE_BROWSER=1 to fail instead`);

let dev, browser;

before(async () => {
  if (skip) return;
  [dev, browser] = await Promise.all([startRunner(devSettings), launchBrowser()]);
});

after(async () => {
  await browser?.close();
  await dev?.stop();
  cleanup();
});

const it = (name, fn) => test(name, { skip: skip || false, timeout: 45000 }, fn);

// askForApproval sets «Доступ партнёров к номеру» to «С моего разрешения»
// through the page's settings form.
async function askForApproval(page) {
  await page.waitForSelector("#settings-section:not([hidden])");
  await page.selectOption("#set-third-party", "ask");
  await page.click("#settings-save");
  await waitText(page, "#notice", /^Настройки сохранены\.$/);
}

// readInPanel reads the number through the side panel as the partner named
// and waits for the answer and the sections it refreshes.
async function readInPanel(page, { clientId = "partner.bank-example", clientName = "Банк «Пример»" } = {}, result) {
  await page.fill("#read-client-id", clientId);
  await page.fill("#read-client-name", clientName);
  await page.selectOption("#read-purpose", "third_party");
  await page.evaluate(() => delete document.getElementById("read-result").dataset.result);
  await page.click("#read-run");
  await page.waitForSelector(`#read-result[data-result='${result}']`);
  await page.waitForSelector(`#access-log tbody tr:first-child[data-client='${clientId}'][data-result='${result}']`);
}

const rows = (page) => page.$$eval("#access-log tbody tr", (trs) => trs.map((tr) => [...tr.cells].slice(1).map((td) => td.textContent)));

// tabTo presses Tab until the focused element passes pick (at most 60 times).
async function tabTo(page, pick, what) {
  await page.evaluate(() => document.activeElement?.blur());
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(pick)) return;
  }
  assert.fail(`Tab never reached ${what}`);
}

it("shows a partner's request, approves it by keyboard with a strong session, and logs both reads (Russian)", async () => {
  const page = await open(browser, dev);
  const sub = "access-approve";
  await signIn(page, sub);
  const number = freshNumber();
  await bind(page, dev, number);
  assert.equal(await text(page, "#access-h"), "Доступ к номеру");
  assert.equal(await text(page, "#log-h"), "Кто обращался к номеру");
  assert.equal(await text(page, "#requests-h"), "Запросы и разрешения партнёров");
  assert.equal(await text(page, "#requests-empty"), "Запросов и действующих разрешений нет.");
  assert.equal(await text(page, "#log-empty"), "Обращений к номеру не было.");
  assert.match(await text(page, "#access-mode"), /^Партнёрским сервисам номер не передаётся/);

  await askForApproval(page);
  assert.match(await text(page, "#access-mode"), /только с вашего разрешения/);
  await readInPanel(page, {}, "approval_required");
  const item = page.locator("#access-requests li[data-client='partner.bank-example']");
  assert.equal(await item.count(), 1);
  assert.match(await item.textContent(), /^Банк «Пример» · Передача партнёру\s*Запрошено .+ · ждёт ответа до .+/);
  assert.equal(await page.isHidden("#requests-empty"), true);
  assert.deepEqual(await rows(page), [["Банк «Пример»", "Передача партнёру", "Отказ: ждёт вашего разрешения"]]);

  // By keyboard: Tab to the approve button (named for the partner), Enter.
  await tabTo(page, () => document.activeElement?.getAttribute("aria-label") === "Разрешить доступ: Банк «Пример»", "the approve button");
  await page.keyboard.press("Enter");
  await waitText(page, "#notice", /^Доступ разрешён: Банк «Пример», до .+\.$/);
  assert.equal(await focusedId(page), "access-h");
  // The request stays listed, now as the approval in force.
  await page.waitForSelector("#access-requests li[data-client='partner.bank-example'][data-state='approved']");
  assert.equal(await page.isHidden("#requests-empty"), true);
  assert.match(await text(page, "#history tbody"), /Доступ к номеру разрешён · partner\.bank-example/);

  // The partner reads again and gets the number; the log shows both reads, newest first.
  await readInPanel(page, {}, "allowed");
  assert.match(await text(page, "#read-result"), new RegExp(`"phone":"\\${number.replace(/ /g, "")}"`));
  assert.deepEqual(await rows(page), [
    ["Банк «Пример»", "Передача партнёру", "Номер передан"],
    ["Банк «Пример»", "Передача партнёру", "Отказ: ждёт вашего разрешения"],
  ]);
  // The API agrees: nothing pending, the approval in force.
  const api = await fetch(dev.url + "/v1/phone/access-requests", { headers: { Authorization: "Bearer " + (await token(dev, sub)) } });
  assert.deepEqual((await api.json()).items.map((r) => [r.client_id, r.state]), [["partner.bank-example", "approved"]]);
  assert.deepEqual(await readPhone(dev, sub).then((r) => r.ok), true);
  await screenshot(page, "access-log.png");
  assert.deepEqual(page.errors, []);
});

it("asks a weak session to sign in again before an approval, declines another partner, shows a request answered elsewhere in the API's words, and pages the log", async () => {
  const page = await open(browser, dev);
  const sub = "access-weak";
  await signIn(page, sub, { mfa: false });
  await bind(page, dev, freshNumber());
  await page.waitForSelector("#settings-section:not([hidden])");
  await page.selectOption("#set-third-party", "ask");
  await page.click("#settings-save");
  await page.waitForSelector("#stepup:not([hidden])");
  await page.click("#stepup-signin");
  await waitText(page, "#notice", /^Настройки сохранены\.$/);
  // Back to a session without a second factor.
  await signIn(page, sub, { mfa: false });
  await waitText(page, "#dev-token", /amr pwd, /);

  const shop = { clientId: "partner.shop", clientName: "Магазин «Тест»" };
  await readInPanel(page, shop, "approval_required");
  await page.click("#access-requests li[data-client='partner.shop'] button.approve");
  await page.waitForSelector("#stepup:not([hidden])");
  assert.equal(await focusedId(page), "error");
  assert.match(await text(page, "#error-text"), /втор\S* фактор/);
  assert.equal(await page.locator("#access-requests li[data-client='partner.shop']").count(), 1, "nothing decided yet");
  await screenshot(page, "access-step-up.png");
  await page.click("#stepup-signin");
  await waitText(page, "#notice", /^Доступ разрешён: Магазин «Тест», до .+\.$/);
  assert.equal(await page.isHidden("#error"), true);
  assert.match(await text(page, "#dev-token"), /amr pwd,mfa/);
  assert.equal((await readPhone(dev, sub, shop)).ok, true);

  // Decline the bank: its next read is refused, and it asks no more.
  await readInPanel(page, {}, "approval_required");
  await page.click("#access-requests li[data-client='partner.bank-example'] button.decline");
  await waitText(page, "#notice", /^Запрос отклонён: Банк «Пример»\.$/);
  await page.waitForSelector("#access-requests li[data-client='partner.bank-example']", { state: "detached" });
  assert.match(await text(page, "#history tbody"), /В доступе к номеру отказано · partner\.bank-example/);
  await readInPanel(page, {}, "not_allowed");
  assert.deepEqual((await rows(page))[0], ["Банк «Пример»", "Передача партнёру", "Отказ: не разрешено"]);
  assert.deepEqual(await page.$$eval("#access-requests li", (lis) => lis.map((li) => [li.dataset.client, li.dataset.state])),
    [["partner.shop", "approved"]], "only the shop's approval is left");

  // A request answered elsewhere (another device) while the page showed it: 409 in the API's words.
  const other = { clientId: "partner.other", clientName: "Сервис «Другой»" };
  await readInPanel(page, other, "approval_required");
  const id = await page.getAttribute("#access-requests li[data-client='partner.other']", "data-request-id");
  const strongToken = await token(dev, sub);
  const decide = () => fetch(dev.url + "/v1/phone/access-requests/" + id, {
    method: "POST",
    headers: { Authorization: "Bearer " + strongToken, "Content-Type": "application/json", "Accept-Language": "ru" },
    body: JSON.stringify({ decision: "decline" }),
  });
  assert.equal((await decide()).status, 200);
  await page.click("#access-requests li[data-client='partner.other'] button.approve");
  const closed = await (await decide()).json();
  assert.equal(closed.code, "access_request_closed");
  await waitText(page, "#error-text", /\S/);
  assert.equal(await text(page, "#error-text"), closed.detail);
  assert.equal(await focusedId(page), "error");
  await page.waitForSelector("#access-requests li[data-client='partner.other']", { state: "detached" });

  // More reads than a page holds: "show more" follows next_cursor.
  for (let i = 0; i < 20; i++) await readPhone(dev, sub, other);
  await readInPanel(page, other, "not_allowed");
  const total = 5 + 21;
  assert.equal((await rows(page)).length, 20);
  assert.equal(await page.isVisible("#log-more"), true);
  await page.focus("#log-more");
  await page.keyboard.press("Enter");
  await page.waitForFunction((n) => document.querySelectorAll("#access-log tbody tr").length === n, total);
  assert.equal(await page.isHidden("#log-more"), true, "the last page has no next_cursor");
  assert.equal(await page.evaluate(() => [...document.querySelectorAll("#access-log tbody tr")].indexOf(document.activeElement)), 20,
    "focus moves to the first entry added");
  const all = await rows(page);
  assert.deepEqual(all.at(-1), ["Магазин «Тест»", "Передача партнёру", "Отказ: ждёт вашего разрешения"], "the oldest read comes last");
  assert.deepEqual(page.errors, []);
});

// requestsShown is the list as the page shows it: partner, state, the
// line under the name, and each button's text and accessible name.
const requestsShown = (page) => page.$$eval("#access-requests li", (lis) => lis.map((li) => ({
  client: li.dataset.client,
  state: li.dataset.state,
  when: li.querySelector(".when").textContent,
  buttons: [...li.querySelectorAll("button")].map((b) => [b.textContent, b.getAttribute("aria-label")]),
})));

// shownDate is how the page writes iso in lang (its formatDate).
const shownDate = (page, iso, lang) => page.evaluate(([iso, lang]) =>
  new Intl.DateTimeFormat(lang === "ru" ? "ru-RU" : "en-GB", { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso)), [iso, lang]);

it("lists an approval in force with its date beside a pending request, withdraws it after a step-up, and the partner is refused; a withdrawal made elsewhere is the API's 409", async () => {
  const page = await open(browser, dev, { bypassCSP: true });
  const sub = "access-withdraw";
  await signIn(page, sub);
  await bind(page, dev, freshNumber());
  await askForApproval(page);
  const strong = await token(dev, sub);
  const listed = async () => (await (await fetch(dev.url + "/v1/phone/access-requests", { headers: { Authorization: "Bearer " + strong } })).json()).items;

  // The bank asks and is approved; the shop asks and waits.
  await readInPanel(page, {}, "approval_required");
  await page.click("#access-requests li[data-client='partner.bank-example'] button.approve");
  await waitText(page, "#notice", /^Доступ разрешён: Банк «Пример», до .+\.$/);
  const shop = { clientId: "partner.shop", clientName: "Магазин «Тест»" };
  await readInPanel(page, shop, "approval_required");
  const approval = (await listed()).find((r) => r.client_id === "partner.bank-example");
  assert.equal(approval.state, "approved");
  assert.ok(approval.approved_until, "an approval in force has approved_until");
  const until = await shownDate(page, approval.approved_until, "ru");
  await page.waitForSelector("#access-requests li[data-client='partner.shop'][data-state='pending']");
  const shown = await requestsShown(page);
  assert.deepEqual(shown.map(({ when, ...r }) => r), [
    { client: "partner.shop", state: "pending", buttons: [["Разрешить", "Разрешить доступ: Магазин «Тест»"], ["Отклонить", "Отклонить запрос: Магазин «Тест»"]] },
    { client: "partner.bank-example", state: "approved", buttons: [["Отозвать разрешение", "Отозвать разрешение: Банк «Пример»"]] },
  ]);
  assert.match(shown[0].when, /^Запрошено .+ · ждёт ответа до .+$/);
  assert.equal(shown[1].when, `Разрешено до ${until}`);
  assert.match(await text(page, "#access-requests li[data-state='approved']"), /^Банк «Пример» · Передача партнёру\s*Разрешено до /);
  await checkAxe(page, "an approval and a request, Russian");
  await screenshot(page, "access-request.png");

  // A weak session is asked to sign in again; nothing is withdrawn until it does.
  await signIn(page, sub, { mfa: false });
  await waitText(page, "#dev-token", /amr pwd, /);
  await page.waitForSelector("#access-requests li[data-state='approved']");
  await tabTo(page, () => document.activeElement?.getAttribute("aria-label") === "Отозвать разрешение: Банк «Пример»", "the withdraw button");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#stepup:not([hidden])");
  assert.equal(await focusedId(page), "error");
  assert.match(await text(page, "#error-text"), /втор\S* фактор/);
  assert.equal((await listed()).find((r) => r.client_id === "partner.bank-example")?.state, "approved", "nothing withdrawn yet");
  assert.equal((await readPhone(dev, sub)).ok, true, "the bank still reads");
  await page.click("#stepup-signin");
  await waitText(page, "#notice", /^Разрешение отозвано: Банк «Пример»\.$/);
  assert.equal(await page.isHidden("#error"), true);
  assert.equal(await focusedId(page), "access-h");
  await page.waitForSelector("#access-requests li[data-client='partner.bank-example']", { state: "detached" });
  assert.deepEqual((await listed()).map((r) => [r.client_id, r.state]), [["partner.shop", "pending"]]);
  assert.match(await text(page, "#history tbody"), /В доступе к номеру отказано · partner\.bank-example/);

  // The bank's next reads are refused, from the panel and from the harness.
  await readInPanel(page, {}, "not_allowed");
  assert.deepEqual((await rows(page))[0], ["Банк «Пример»", "Передача партнёру", "Отказ: не разрешено"]);
  const refused = await readPhone(dev, sub);
  assert.equal(refused.ok, false);
  assert.equal(refused.error, "not_allowed");
  assert.equal(refused.phone, undefined, "no number in a refusal");

  // The shop is approved here and withdrawn on another device while the
  // page shows it: the page's withdrawal is the API's 409, in its words.
  await page.click("#access-requests li[data-client='partner.shop'] button.approve");
  await waitText(page, "#notice", /^Доступ разрешён: Магазин «Тест», до .+\.$/);
  await page.waitForSelector("#access-requests li[data-client='partner.shop'][data-state='approved']");
  const id = await page.getAttribute("#access-requests li[data-client='partner.shop']", "data-request-id");
  const withdraw = () => fetch(dev.url + "/v1/phone/access-requests/" + id, {
    method: "POST",
    headers: { Authorization: "Bearer " + strong, "Content-Type": "application/json", "Accept-Language": "ru" },
    body: JSON.stringify({ decision: "decline" }),
  });
  assert.equal((await withdraw()).status, 200);
  await page.click("#access-requests li[data-client='partner.shop'] button.withdraw");
  const closed = await (await withdraw()).json();
  assert.equal(closed.code, "access_request_closed");
  await waitText(page, "#error-text", /\S/);
  assert.equal(await text(page, "#error-text"), closed.detail);
  assert.equal(await focusedId(page), "error");
  await page.waitForSelector("#access-requests li", { state: "detached" });
  assert.equal(await page.isVisible("#requests-empty"), true);
  assert.equal((await readPhone(dev, sub, shop)).error, "not_allowed");

  // In English: an approval again (a third partner), its words and names.
  const third = { clientId: "partner.third", clientName: "Сервис «Третий»" };
  await readInPanel(page, third, "approval_required");
  await page.click("#access-requests li[data-client='partner.third'] button.approve");
  await page.waitForSelector("#access-requests li[data-client='partner.third'][data-state='approved']");
  await page.click("#lang-switch");
  await waitText(page, "#access-requests li", /Approved until .+/);
  const thirdUntil = (await listed()).find((r) => r.client_id === "partner.third").approved_until;
  assert.deepEqual((await requestsShown(page)).map(({ when, buttons }) => ({ when, buttons })), [
    { when: `Approved until ${await shownDate(page, thirdUntil, "en")}`, buttons: [["Withdraw access", "Withdraw access: Сервис «Третий»"]] },
  ]);
  await checkAxe(page, "an approval, English");
  await page.click("#access-requests li button.withdraw");
  await waitText(page, "#notice", /^Access withdrawn: Сервис «Третий»\.$/);
  assert.equal(await text(page, "#requests-empty"), "No requests, no approvals in force.");
  assert.deepEqual(page.errors, []);
});

it("downloads the personal-data report after a step-up, by keyboard: the full number, no code", async () => {
  const page = await open(browser, dev);
  const sub = "access-data";
  await signIn(page, sub, { mfa: false });
  const number = freshNumber();
  await bind(page, dev, number);
  const code = await codeFor(dev, number);
  assert.equal(await text(page, "#data-h"), "Мои данные");
  assert.equal(await text(page, "#data-download"), "Скачать мои данные");

  await tabTo(page, () => document.activeElement?.id === "data-download", "the download button");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#stepup:not([hidden])");
  assert.equal(await focusedId(page), "error");
  await page.keyboard.press("Tab");
  assert.equal(await focusedId(page), "stepup-signin");
  const [download] = await Promise.all([page.waitForEvent("download"), page.keyboard.press("Enter")]);
  const name = download.suggestedFilename();
  assert.match(name, /^phone-data-\d{4}-\d{2}-\d{2}\.json$/);
  await waitText(page, "#notice", new RegExp(`^Файл ${name.replace(/\./g, "\\.")} скачан\\.$`));
  await screenshot(page, "data-report.png");

  const raw = await readFile(await download.path(), "utf8");
  const report = JSON.parse(raw);
  assert.equal(report.account_id, sub);
  assert.equal(report.profile.phone, number.replace(/ /g, ""), "the number in full");
  const keys = [];
  (function walk(v) {
    if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) keys.push(k), walk(x);
  })(report);
  assert.ok(!keys.some((k) => /code|hmac|ciphertext|key_id/i.test(k)), `no code or key material: ${keys.join(",")}`);
  assert.doesNotMatch(raw, new RegExp(`(?<![\\w.])${code}(?!\\w)`), "the SMS code is nowhere in the report");
  assert.deepEqual(page.errors, []);
});

it("shows the access and data sections in English, with no serious axe-core violation in either language", async () => {
  const page = await open(browser, dev, { bypassCSP: true });
  const sub = "access-axe";
  await signIn(page, sub);
  await bind(page, dev, freshNumber());
  await askForApproval(page);
  await readInPanel(page, {}, "approval_required");
  await checkAxe(page, "access request, Russian");

  await page.click("#lang-switch");
  await waitText(page, "#access-h", /^Access to the number$/);
  assert.equal(await page.getAttribute("html", "lang"), "en");
  assert.equal(await text(page, "#requests-h"), "Partners' requests and approvals");
  assert.equal(await text(page, "#log-h"), "Who read the number");
  assert.equal(await text(page, "#data-h"), "My data");
  assert.equal(await text(page, "#data-download"), "Download my data");
  assert.match(await text(page, "#access-mode"), /only with your approval/);
  assert.equal(await page.getAttribute("#access-requests li button.approve", "aria-label"), "Approve access: Банк «Пример»");
  await waitText(page, "#access-requests li", /Sharing with a partner\s*Asked .+ · waits for an answer until .+/);
  assert.deepEqual(await rows(page), [["Банк «Пример»", "Sharing with a partner", "Refused: waits for your approval"]]);
  await checkAxe(page, "access request, English");
  await screenshot(page, "access-english.png");
  assert.deepEqual(page.errors, []);
});
