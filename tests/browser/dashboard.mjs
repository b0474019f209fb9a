// Drives the dashboard in headless Chromium, as an operator would: load,
// sign in, look at the overview, search, open an order, hold it, release
// it. Run by tests/dashboard.rs with the OMS it started:
//   node tests/browser/dashboard.mjs URL TOKEN ORDER_ID CUSTOMER_ID SCREENSHOT_DIR
// Exits non-zero, saying what it did not see, on any failure.
import { createRequire } from "node:module";

// playwright-core from .tools/node_modules (NODE_PATH), where scripts/test puts it.
const require = createRequire(`${process.env.NODE_PATH}/`);
const { chromium } = require("playwright-core");

const [url, token, orderId, customerId, shots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const fail = (what) => { throw new Error(what); };
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));

  await page.goto(`${url}/dashboard`);
  await page.waitForSelector("#sign-in:not([hidden])");
  // A wrong token is refused with a clear message.
  await page.fill("#token", "not-a-token");
  await page.click("#sign-in-form button[type=submit]");
  await page.waitForSelector("#sign-in-error:text('not an operator')");

  await page.fill("#token", token);
  await page.click("#sign-in-form button[type=submit]");
  await page.waitForSelector("#overview:not([hidden]) .tile");
  const orders = await page.textContent("#tiles .tile:first-child .value");
  if (Number(orders) < 1) fail(`the orders tile shows ${orders}`);
  await page.waitForSelector("#funnel .bar");
  // The hour the order was placed in has a bar.
  await page.waitForSelector('#per-hour svg rect:not([height="0"])');
  await page.screenshot({ path: `${shots}/dashboard-overview.png`, fullPage: true });

  await page.click("nav a[data-view=orders]");
  await page.fill("#search-form input[name=customerId]", customerId);
  await page.click("#search-form button[type=submit]");
  await page.waitForSelector(`#results tr[data-order="${orderId}"]`);
  await page.click(`#results tr[data-order="${orderId}"]`);
  await page.waitForSelector(`#order:not([hidden]) #order-id:text("${orderId}")`);
  await page.waitForSelector("#timeline li");

  await page.click("[data-action=hold]");
  await page.fill("#ask-reason", "address to be confirmed");
  await page.click("#ask-ok");
  await page.waitForSelector("#order-status:text('ON_HOLD')");
  await page.waitForSelector("#timeline li:first-child:has-text('OrderOnHold')");
  await page.click("[data-action=release]");
  await page.waitForSelector("#order-status:text('ROUTED')");
  await page.waitForSelector("#timeline li:first-child:has-text('HoldReleased')");
  await page.screenshot({ path: `${shots}/dashboard-order.png`, fullPage: true });
  if (errors.length) fail(`page errors: ${errors.join("; ")}`);
  console.log("dashboard: signed in, searched, opened, held and released", orderId);
} finally {
  await browser.close();
}
