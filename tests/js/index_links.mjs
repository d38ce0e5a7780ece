// Open the series' index.html in headless Chromium and report, as JSON, what a reader sees on it.
//
//   node index_links.mjs DIR/index.html
//
// Prints {volumes: [the id of each volume's row or list item, in page order], links: [every link's
// href as Chromium resolves it]}.
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const [page_file] = process.argv.slice(2);
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run"];
const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
try {
  const page = await browser.newPage();
  await page.goto(pathToFileURL(page_file).href);
  const seen = await page.evaluate(() => ({
    volumes: [...document.querySelectorAll("tr[id], li[id]")].filter((e) => e.offsetParent !== null)
      .map((e) => e.id),
    links: [...document.querySelectorAll("a[href]")].map((a) => a.href),
  }));
  console.log(JSON.stringify(seen));
} finally {
  await browser.close();
}
