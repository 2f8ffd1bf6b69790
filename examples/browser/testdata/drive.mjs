// drive.mjs: browser_test.go's hands. It drives Chromium (headless, via
// playwright-core) through the page of examples/browser and through a page
// of a second origin, and prints what it saw as one JSON object on stdout;
// the Go test asserts on it. Any step that cannot be done (a selector
// missing, a timeout) exits 1 with the reason on stderr.
//
// Environment: API (the server's origin), OTHER (the second origin),
// CHROMIUM (the browser's executable), USERNAME and PASSWORD (a user to
// register), MALLORY and MALLORY_PASSWORD (an existing account whose login
// the second origin tries to plant).
import { chromium } from "playwright-core";

const { API, OTHER, CHROMIUM, USERNAME, PASSWORD, MALLORY, MALLORY_PASSWORD } = process.env;
for (const [k, v] of Object.entries({ API, OTHER, CHROMIUM, USERNAME, PASSWORD, MALLORY, MALLORY_PASSWORD })) {
  if (!v) {
    console.error(`drive.mjs: ${k} is not set`);
    process.exit(2);
  }
}

const seen = {};
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, timeout: 20000 });
try {
  const context = await browser.newContext();
  context.setDefaultTimeout(10000);
  const page = await context.newPage();
  // The page's own faults: an uncaught exception, or anything its
  // Content-Security-Policy blocked (the 401s it shows are not faults).
  seen.pageErrors = [];
  page.on("pageerror", (e) => seen.pageErrors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) seen.pageErrors.push(m.text());
  });

  // jar is every cookie of the context (the refresh cookie's path is
  // /auth/refresh, so filtering by the page's URL would hide it).
  const jar = async () => (await context.cookies()).map((c) => ({
    name: c.name, value: c.value, domain: c.domain, path: c.path,
    httpOnly: c.httpOnly, secure: c.secure, sameSite: c.sameSite, expires: c.expires,
  }));
  // click presses a button of the page and returns the line it shows.
  const click = async (id) => {
    const before = Number(await page.locator("#out").getAttribute("data-seq"));
    await page.click(id);
    await page.waitForFunction((n) => Number(document.getElementById("out").dataset.seq) > n, before);
    return page.locator("#out").textContent();
  };
  const docCookie = () => page.evaluate(() => document.cookie);

  await page.goto(API + "/");
  await page.fill("#username", USERNAME);
  await page.fill("#password", PASSWORD);
  seen.register = await click("#register");
  seen.afterRegister = await jar();
  seen.docCookieAfterRegister = await docCookie();
  seen.meAfterRegister = await click("#whoami");
  seen.logout1 = await click("#logout");
  seen.afterLogout1 = await jar();
  seen.meAfterLogout1 = await click("#whoami");

  seen.login = await click("#login");
  seen.afterLogin = await jar();
  seen.docCookieAfterLogin = await docCookie();
  seen.meAfterLogin = await click("#whoami");
  seen.refresh = await click("#refresh");
  seen.afterRefresh = await jar();
  seen.meAfterRefresh = await click("#whoami");
  // The access cookie's value is a token of the API: as a bearer token,
  // from outside the browser, while the session lives.
  const access = seen.afterRefresh.find((c) => c.name === "access_token");
  const me = await fetch(API + "/me", { headers: { Authorization: `Bearer ${access ? access.value : ""}` } });
  seen.meByBearer = { status: me.status, body: await me.json() };

  // A page of the second origin (same site: cookies are sent to the API
  // whatever SameSite says) tries each unsafe request in the browser that
  // holds the session. The status is the API's answer, read off the
  // network (a no-cors fetch shows the page script nothing).
  const other = await context.newPage();
  await other.goto(OTHER + "/");
  const status = async (path, act) => {
    const [resp] = await Promise.all([
      other.waitForResponse((r) => r.url() === API + path && r.request().method() === "POST"),
      act(),
    ]);
    return resp.status();
  };
  seen.crossOrigin = {};
  // A form posted to the API (the classic CSRF): a top-level navigation.
  seen.crossOrigin.logoutForm = await status("/auth/logout", () => other.click("#logout-form button"));
  await other.goto(OTHER + "/");
  // fetch without CORS: no preflight, the cookies go along. A Blob body
  // carries no Content-Type, which the API takes as JSON: without the
  // origin check, the login would plant the other account's cookies.
  const noCors = (path, body) => status(path, () => other.evaluate(([url, body]) => {
    const init = { method: "POST", mode: "no-cors", credentials: "include" };
    if (body) init.body = new Blob([body]);
    fetch(url, init).catch(() => {});
  }, [API + path, body]));
  const mallory = JSON.stringify({ username: MALLORY, password: MALLORY_PASSWORD });
  seen.crossOrigin.loginFetch = await noCors("/auth/login", mallory);
  seen.crossOrigin.registerFetch = await noCors("/auth/register",
    JSON.stringify({ username: MALLORY + "2", password: MALLORY_PASSWORD }));
  seen.crossOrigin.refreshFetch = await noCors("/auth/refresh");
  seen.crossOrigin.logoutFetch = await noCors("/auth/logout");
  seen.crossOrigin.logoutAllFetch = await noCors("/auth/logout-all");
  seen.otherOrigin = await other.evaluate(() => location.origin);
  await other.close();

  seen.afterCrossOrigin = await jar();
  seen.meAfterCrossOrigin = await click("#whoami");

  seen.logout = await click("#logout");
  seen.afterLogout = await jar();
  seen.meAfterLogout = await click("#whoami");
  seen.refreshAfterLogout = await click("#refresh");
  seen.browserVersion = browser.version();
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(seen) + "\n");
