// The citizen's page in Chromium against the local runner: every flow a
// person goes through, in Russian and English, by keyboard alone, checked
// by axe-core, and the API called from a page on another origin.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import {
  startRunner, launchBrowser, devSettings, skipReason, cleanup, screenshot, freshNumber,
  open, signIn, waitText, text, focusedId, codeFor, bind, checkAxe,
} from "./harness.mjs";

const skip = skipReason();
if (skip) console.log(`# browser tests skipped: ${skip}; set REQUIRE_BROWSER=1 to fail instead`);

let dev, strict, browser;

before(async () => {
  if (skip) return;
  [dev, strict, browser] = await Promise.all([
    startRunner(devSettings),
    // Production's cooldowns: 60 s between codes, 30 days between changes.
    startRunner({ CODES_PER_IP_HOUR: "10000", CODES_PER_PREFIX_DAY: "10000" }),
    launchBrowser(),
  ]);
});

after(async () => {
  await browser?.close();
  await Promise.all([dev?.stop(), strict?.stop()]);
  cleanup();
});

const it = (name, fn) => test(name, { skip: skip || false, timeout: 30000 }, fn);

it("binds a number: consent refused, a wrong code, then the right one (Russian)", async () => {
  const page = await open(browser, dev);
  assert.equal(await page.getAttribute("html", "lang"), "ru");
  assert.equal(await text(page, "h1"), "Контактные данные");
  await signIn(page, "bind-ru");
  assert.equal(await text(page, "#status-text"), "Номер не привязан");
  const number = freshNumber();

  await page.fill("#phone", number);
  await page.click("#send-code");
  await waitText(page, "#error-text", /соглас/i);
  assert.equal(await focusedId(page), "error", "focus goes to the error");

  await page.check("#consent");
  await page.click("#send-code");
  await page.waitForSelector("#code-section:not([hidden])");
  assert.match(await text(page, "#code-sent"), /^Код отправлен по SMS на \+7 912 \*\*\*-\*\*-\d\d\.$/);
  assert.equal(await text(page, "#attempts"), "Осталось попыток: 5");
  assert.equal(await focusedId(page), "code");
  const code = await codeFor(dev, number);
  await page.waitForSelector(`#outbox li[data-code='${code}']`);
  await screenshot(page, "code-entry.png");

  const wrong = String((Number(code) + 1) % 1_000_000).padStart(code.length, "0");
  await page.fill("#code", wrong);
  await page.click("#confirm");
  await waitText(page, "#error-text", /код/i);
  assert.equal(await focusedId(page), "error");
  assert.equal(await text(page, "#attempts"), "Осталось попыток: 4");

  await page.fill("#code", code);
  await page.click("#confirm");
  await waitText(page, "#notice", /^Номер сохранён\.$/);
  assert.equal(await text(page, "#status-text"), "Номер сохранён");
  assert.equal(await page.isHidden("#error"), true, "the error is gone after success");
  assert.match(await text(page, "#history tbody"), /Номер привязан/);
  assert.equal(await text(page, "#bind-h"), "Изменить номер");
  await screenshot(page, "bound.png");
  assert.deepEqual(page.errors, []);
});

it("switches to English and back: lang, the page's words and the API's", async () => {
  const page = await open(browser, dev);
  await signIn(page, "lang-en");
  await page.click("#lang-switch");
  await waitText(page, "#status-text", /^No number saved$/);
  assert.equal(await page.getAttribute("html", "lang"), "en");
  assert.equal(await text(page, "h1"), "Contact details");
  assert.equal(await text(page, "label[for=phone]"), "Mobile phone number");
  assert.equal(await page.getAttribute("#lang-switch", "lang"), "ru");
  assert.equal(await text(page, "#lang-switch"), "Русский");
  // An error in English: the API's own detail, asked with Accept-Language: en.
  await page.fill("#phone", "12");
  await page.check("#consent");
  await page.click("#send-code");
  await waitText(page, "#error-text", /[a-z]/);
  assert.doesNotMatch(await text(page, "#error-text"), /[а-яё]/i);
  await screenshot(page, "english.png");

  await page.click("#lang-switch");
  await waitText(page, "#status-text", /^Номер не привязан$/);
  assert.equal(await page.getAttribute("html", "lang"), "ru");
  assert.equal(await text(page, "h1"), "Контактные данные");
});

it("asks for a second factor on a change, then changes after signing in again", async () => {
  const page = await open(browser, dev);
  await signIn(page, "change-weak", { mfa: false });
  await bind(page, dev, freshNumber());

  const second = freshNumber();
  await page.fill("#phone", second);
  await page.check("#consent");
  await page.click("#send-code");
  await page.waitForSelector("#stepup:not([hidden])");
  assert.equal(await focusedId(page), "error");
  assert.match(await text(page, "#error-text"), /\S{10,}/, "the API's detail is shown");
  assert.equal(await text(page, "#stepup-signin"), "Войти снова со вторым фактором");
  await screenshot(page, "step-up.png");

  await page.click("#stepup-signin");
  await page.waitForSelector("#code-section:not([hidden])");
  assert.match(await text(page, "#dev-token"), /amr pwd,mfa/);
  assert.equal(await page.isHidden("#error"), true);
  await page.fill("#code", await codeFor(dev, second));
  await page.click("#confirm");
  await waitText(page, "#notice", /^Номер сохранён\.$/);
  assert.match(await text(page, "#status-phone"), new RegExp(second.slice(-2) + "$"));
  assert.match(await text(page, "#history tbody"), /Номер изменён/);
});

it("changes the settings with a strong session: the number shown in the national form, by keyboard", async () => {
  const page = await open(browser, dev);
  await signIn(page, "settings-strong");
  const number = freshNumber();
  await bind(page, dev, number);
  await page.waitForSelector("#settings-section:not([hidden])");
  // The defaults: every notice on, autofill on, partners denied, +7 form.
  for (const id of ["#set-sms", "#set-email", "#set-push", "#set-autofill"]) assert.equal(await page.isChecked(id), true, id);
  assert.equal(await page.inputValue("#set-third-party"), "deny");
  assert.equal(await page.inputValue("#set-format"), "international");
  assert.match(await text(page, "#status-phone"), /^\+7 \d{3} \*\*\*-\*\*-\d\d$/);
  assert.equal(await text(page, "label[for='set-email']"), "По электронной почте");

  // By keyboard: focus the e-mail checkbox and untick it with Space.
  await page.focus("#set-email");
  await page.keyboard.press("Space");
  assert.equal(await page.isChecked("#set-email"), false);
  await page.selectOption("#set-format", "national");
  await page.selectOption("#set-third-party", "ask");
  await page.focus("#settings-save");
  await page.keyboard.press("Enter");
  await waitText(page, "#notice", /^Настройки сохранены\.$/);
  await waitText(page, "#status-phone", /^8 \(\d{3}\) \*\*\*-\*\*-\d\d$/);
  assert.equal(await text(page, "#status-phone"), "8 (" + number.replace(/\D/g, "").slice(1, 4) + ") ***-**-" + number.slice(-2));
  assert.match(await text(page, "#history tbody"), /Настройки изменены/);
  assert.doesNotMatch(await text(page, "#history tbody"), /\+7 \d{3} \*/, "every number in the history in the national form");
  await screenshot(page, "settings.png");

  // Read back from the API on a fresh load: kept, the others untouched.
  const again = await open(browser, dev);
  await signIn(again, "settings-strong");
  await again.waitForSelector("#settings-section:not([hidden])");
  assert.equal(await again.isChecked("#set-email"), false);
  assert.equal(await again.isChecked("#set-sms"), true);
  assert.equal(await again.inputValue("#set-format"), "national");
  assert.equal(await again.inputValue("#set-third-party"), "ask");
  assert.deepEqual([...page.errors, ...again.errors], []);
});

it("asks a weak session to sign in again before changing the settings, then saves them", async () => {
  const page = await open(browser, dev);
  await signIn(page, "settings-weak", { mfa: false });
  await page.waitForSelector("#settings-section:not([hidden])");
  await page.uncheck("#set-autofill");
  await page.click("#settings-save");
  await page.waitForSelector("#stepup:not([hidden])");
  assert.equal(await focusedId(page), "error");
  assert.match(await text(page, "#error-text"), /втор\S* фактор/);

  await page.click("#stepup-signin");
  await waitText(page, "#notice", /^Настройки сохранены\.$/);
  assert.match(await text(page, "#dev-token"), /amr pwd,mfa/);
  assert.equal(await page.isHidden("#error"), true);
  assert.equal(await page.isChecked("#set-autofill"), false);

  // In English, the same section in English words.
  await page.click("#lang-switch");
  await waitText(page, "#settings-h", /^Settings$/);
  assert.equal(await text(page, "label[for='set-autofill']"), "Fill the number into applications on the portal");
  assert.equal(await page.isChecked("#set-autofill"), false);
});

it("removes the number by SMS", async () => {
  const page = await open(browser, dev);
  await signIn(page, "unbind-sms");
  const number = freshNumber();
  await bind(page, dev, number);
  await page.click("#unbind-sms");
  await page.waitForSelector("#code-section:not([hidden])");
  assert.match(await text(page, "#code-sent"), /^Код отправлен по SMS на/);
  await page.fill("#code", await codeFor(dev, number));
  await page.click("#confirm");
  await waitText(page, "#notice", /^Номер удалён\.$/);
  assert.equal(await text(page, "#status-text"), "Номер не привязан");
  assert.match(await text(page, "#history tbody"), /Номер удалён/);
  assert.equal(await page.isHidden("#unbind-section"), true);
});

it("removes the number by e-mail", async () => {
  const page = await open(browser, dev);
  await signIn(page, "unbind-mail", { email: "unbind-mail@example.ru" });
  await bind(page, dev, freshNumber());
  await page.click("#unbind-email");
  await page.waitForSelector("#code-section:not([hidden])");
  assert.match(await text(page, "#code-sent"), /^Код отправлен на e-mail u\*+@example\.ru\.$/);
  await page.waitForSelector("#outbox li[data-to='unbind-mail@example.ru']");
  await page.fill("#code", await codeFor(dev, "unbind-mail@example.ru"));
  await page.click("#confirm");
  // The SIM-lost removal is held: the number stays, with the date and a cancel.
  await waitText(page, "#notice", /^Удаление номера запланировано на .+\.$/);
  assert.equal(await text(page, "#status-text"), "Номер сохранён");
  await page.waitForSelector("#hold-section:not([hidden])");
  assert.match(await text(page, "#hold-text"), /^Номер будет удалён .+ Если это не вы, отмените удаление\.$/);
  assert.match(await text(page, "#history tbody"), /Удаление запланировано/);
  await screenshot(page, "hold.png");
  await page.waitForSelector("#outbox li[data-to]");
  await page.click("#cancel-unbind");
  await waitText(page, "#notice", /^Удаление номера отменено\.$/);
  assert.equal(await text(page, "#status-text"), "Номер сохранён");
  assert.equal(await page.isHidden("#hold-section"), true);
  assert.match(await text(page, "#history tbody"), /Удаление отменено/);
});

it("counts down the resend cooldown and a 429's Retry-After", async () => {
  const page = await open(browser, strict);
  await signIn(page, "cooldown");
  const number = freshNumber();
  await page.fill("#phone", number);
  await page.check("#consent");
  await page.click("#send-code");
  await page.waitForSelector("#code-section:not([hidden])");
  assert.match(await text(page, "#resend"), /^Отправить код ещё раз через (59|60) с$/);
  assert.equal(await page.isDisabled("#resend"), true);

  // A second code at once: 429, its detail, and a countdown from Retry-After.
  await page.click("#cancel");
  await page.click("#send-code");
  await waitText(page, "#retry-wait", /^Повторить можно через \d+ с$/);
  assert.equal(await focusedId(page), "error");
  assert.match(await text(page, "#error-text"), /^Новый код можно запросить через \d+ с\.$/);
  assert.equal(await page.isDisabled("#send-code"), true);
  const first = Number((await text(page, "#retry-wait")).match(/\d+/)[0]);
  await page.waitForFunction((n) => {
    const m = document.getElementById("retry-wait").textContent.match(/\d+/);
    return m && Number(m[0]) < n;
  }, first, { timeout: 3000 });
  await screenshot(page, "rate-limited.png");

  // The refused request sent nothing: the first code is still the one.
  await page.reload();
  await page.waitForSelector("body[data-ready='1']");
  await waitText(page, "#status-text", /Ожидание подтверждения/);
  const r = await fetch(strict.url + "/_local/outbox?to=" + encodeURIComponent(number));
  assert.equal((await r.json()).filter((m) => m.code).length, 1);
});

it("shows the date a change is allowed after", async () => {
  const page = await open(browser, strict);
  await signIn(page, "change-date");
  await bind(page, strict, freshNumber());
  await waitText(page, "#change-after", /^Сменить номер можно после \d{1,2} [а-я]+\.? \d{4}/);
  await screenshot(page, "change-cooldown.png");
});

it("writes a support ticket, lists it and reads the answer", async () => {
  const page = await open(browser, dev);
  await signIn(page, "tickets");
  await page.selectOption("#ticket-category", "problem");
  await page.fill("#ticket-message", "Не приходит SMS с кодом");
  await page.fill("#ticket-contact", "tickets@example.ru");
  await page.click("#send-ticket");
  await waitText(page, "#notice", /^Обращение FB-[0-9A-Z]{8} отправлено\.$/);
  const id = (await text(page, "#notice")).match(/FB-[0-9A-Z]{8}/)[0];
  await waitText(page, "#tickets", new RegExp(id + " · Новое"));
  await page.click(`#tickets button:has-text("${id}")`);
  await waitText(page, "#ticket-view-answer", /^Ответа пока нет\.$/);
  assert.equal(await focusedId(page), "ticket-view");

  // The operator answers (an ops event through the runner), the person reads it.
  const res = await fetch(dev.url + "/_local/invoke/feedback", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ action: "update_ticket", ticket_id: id, status: "answered", answer: "Здравствуйте! Запросите код ещё раз.", operator: "ivanova" }),
  });
  assert.equal(res.status, 200, await res.text());
  await page.click(`#tickets button:has-text("${id}")`);
  await waitText(page, "#ticket-view-answer", /^Здравствуйте! Запросите код ещё раз\.$/);
  assert.equal(await text(page, "#ticket-view-status"), "Получен ответ");
  await screenshot(page, "tickets.png");

  // An empty message: the API's words, focus on them.
  await page.click("#send-ticket");
  await waitText(page, "#error-text", /\S/);
  assert.equal(await focusedId(page), "error");
});

it("binds a number by keyboard alone", async () => {
  const page = await open(browser, dev);
  await signIn(page, "keyboard");
  await page.evaluate(() => document.activeElement?.blur());
  const number = freshNumber();
  for (let i = 0; i < 10 && (await focusedId(page)) !== "phone"; i++) await page.keyboard.press("Tab");
  assert.equal(await focusedId(page), "phone");
  await page.keyboard.type(number);
  await page.keyboard.press("Tab");
  assert.equal(await focusedId(page), "consent");
  await page.keyboard.press("Space");
  await page.keyboard.press("Tab");
  assert.equal(await focusedId(page), "send-code");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#code-section:not([hidden])");
  assert.equal(await focusedId(page), "code");
  await page.keyboard.type(await codeFor(dev, number));
  await page.keyboard.press("Enter");
  await waitText(page, "#notice", /^Номер сохранён\.$/);
  assert.equal(await focusedId(page), "status-h");
});

it("has no serious or critical axe-core violation on its screens", async () => {
  // bypassCSP lets axe's script in; the page's own CSP forbids inline scripts.
  const page = await open(browser, dev, { bypassCSP: true });
  await signIn(page, "axe");
  const check = (screen) => checkAxe(page, screen);
  await check("status");
  await page.fill("#phone", "12");
  await page.check("#consent");
  await page.click("#send-code");
  await waitText(page, "#error-text", /\S/);
  await check("error");
  await page.fill("#phone", freshNumber());
  await page.click("#send-code");
  await page.waitForSelector("#code-section:not([hidden])");
  await check("code entry");
  await page.click("#lang-switch");
  await waitText(page, "h1", /Contact details/);
  await check("English");
});

it("answers a page on another origin, preflight included", async () => {
  // A page served from another port: another origin, allowed by the
  // runner's default CORS origins (any port of localhost).
  const other = createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    res.end("<!doctype html><html lang=en><title>another site</title><h1>another site</h1>");
  });
  await new Promise((ok) => other.listen(0, "127.0.0.1", ok));
  const origin = `http://localhost:${other.address().port}`;
  try {
    const tokenRes = await fetch(dev.url + "/_local/token", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sub: "cross-origin", amr: ["pwd", "mfa"] }),
    });
    const { token } = await tokenRes.json();
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(origin + "/");
    const before = (dev.log.match(/method=OPTIONS path=\/v1\/phone /g) ?? []).length;
    const got = await page.evaluate(async ([api, token]) => {
      const r = await fetch(api + "/v1/phone", { headers: { Authorization: "Bearer " + token, "Accept-Language": "en" } });
      return { status: r.status, lang: r.headers.get("Content-Language"), body: await r.json() };
    }, [dev.url, token]);
    assert.equal(got.status, 200);
    assert.equal(got.body.status_text, "No number saved");
    assert.equal(got.lang, "en");
    await new Promise((ok) => setTimeout(ok, 100));
    const preflights = (dev.log.match(/method=OPTIONS path=\/v1\/phone /g) ?? []).length;
    assert.ok(preflights > before, "the browser sent a preflight (OPTIONS /v1/phone) and the runner answered it");
    await context.close();
  } finally {
    other.close();
  }
});
