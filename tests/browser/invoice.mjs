// Opens an invoice's printable page in headless Chromium, with the bearer
// token the API asks for, checks its number and total, and screenshots it.
// Run by tests/dashboard.rs:
//   node tests/browser/invoice.mjs URL TOKEN NUMBER TOTAL SCREENSHOT
import { createRequire } from "node:module";

const require = createRequire(`${process.env.NODE_PATH}/`);
const { chromium } = require("playwright-core");

const [url, token, number, total, shot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({
    viewport: { width: 1000, height: 1100 },
    extraHTTPHeaders: { Authorization: `Bearer ${token}` },
  });
  const response = await page.goto(`${url}/invoices/${number}.html`);
  if (response.status() !== 200) throw new Error(`status ${response.status()}`);
  const shown = (await page.textContent("#number")).trim();
  if (shown !== number) throw new Error(`the page shows number ${shown}`);
  const grand = (await page.textContent("#total")).trim();
  if (grand !== total) throw new Error(`the page shows total ${grand}, not ${total}`);
  const rows = await page.locator("#lines tbody tr").count();
  if (rows < 1) throw new Error("no lines on the page");
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`invoice ${number}: ${rows} lines, total ${grand}`);
} finally {
  await browser.close();
}
