// Open an EPUB in epub.js inside headless Chromium and report, as JSON, what a reader meets.
//
//   node epubjs.mjs BOOK.epub PAGE_ANCHOR NOTEREF_HREF [SCREENSHOT.png]
//
// Prints {toc, pageList, views: {paginated, scrolled, narrow, night, phoneScrolled, desktop}}. Each
// view holds the viewer's rectangle, how long epub.js took to display the page-list target
// PAGE_ANCHOR (ms), then the document shown and the page number as Chromium drew it (its text, style and box); then, once
// epub.js has gone to the note reference NOTEREF_HREF ("chapter-002.xhtml#d5-fn1ref", "" for none),
// the document before and after a click on it and where its note is drawn. Boxes are in the page's
// CSS pixels. The screenshot, if asked for, is the paginated viewer (docs/ in the README).
// With FIND set to a JSON list of [document href, text], each view also tells, per text, whether a
// reader paging on from the document's start gets it on screen (scrolling its box if it has to) and
// how; with MEASURE set, the most characters on one line of the shown page's paragraphs, and how a
// paragraph of the text is set there.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const [book, anchor, noteref, screenshot] = process.argv.slice(2);
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run"];
// The reader's page and the book are served from one made-up origin, as a web reader serves them
// (epub.js resolves a document's links against the book's URL); nothing goes to the network.
const ORIGIN = "http://reader.invalid";
const VIEWS = {
  paginated: { width: 600, height: 800, flow: "paginated" },
  scrolled: { width: 1000, height: 800, flow: "scrolled-doc" },
  narrow: { width: 320, height: 560, flow: "paginated" },
  // A reading system's night mode: light text on a dark ground, set on the document by the reader.
  night: { width: 600, height: 800, flow: "paginated", colors: { color: "#e6e6e6", background: "#121212" } },
  phoneScrolled: { width: 320, height: 560, flow: "scrolled-doc" },
  desktop: { width: 1200, height: 800, flow: "paginated" },
};
const FIND = JSON.parse(process.env.FIND || "[]");

// Scrollbars shown, as a reader's browser shows them (Playwright hides them by default).
const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true,
  ignoreDefaultArgs: ["--hide-scrollbars"] });
try {
  const data = readFileSync(book);
  const result = { views: {} };
  for (const [name, view] of Object.entries(VIEWS)) {
    const page = await browser.newPage({ viewport: { width: view.width + 40, height: view.height + 40 } });
    await open(page, data, view);
    Object.assign(result, await page.evaluate(() => ({
      toc: window.flatten(window.book.navigation.toc),
      // epub.js keeps a page's number as parseInt of its label: null for "XII" or "[1]".
      pageList: window.book.pageList.pageList.map((p) => ({ page: p.page, href: p.href })),
    })));
    const target = result.pageList.find((p) => p.href.endsWith(`#${anchor}`));
    const start = Date.now();
    await page.evaluate((h) => window.rendition.display(h), target.href);
    const ms = Date.now() - start;
    await settle(page);
    const viewer = await page.evaluate(() => {
      const r = document.getElementById("viewer").getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    });
    result.views[name] = { viewer, ms, shown: await shown(page), number: await pageNumber(page, anchor) };
    if (name === "paginated" && screenshot) await page.screenshot({ path: screenshot, clip: viewer });
    if (process.env.MEASURE) {
      result.views[name].longestLine = await longestLine(page);
      result.views[name].setting = await setting(page);
    }
    result.views[name].note = noteref ? await followNote(page, noteref) : null;
    if (FIND.length) {
      result.views[name].found = {};
      for (const [href, text] of FIND) result.views[name].found[text] = await locate(page, href, text);
    }
    await page.close();
  }
  process.stdout.write(JSON.stringify(result));
} finally {
  await browser.close();
}

async function open(page, data, view) {
  await page.route(`${ORIGIN}/**`, (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === "/book.epub") return route.fulfill({ body: data, contentType: "application/epub+zip" });
    if (path === "/jszip.js") return route.fulfill({ path: require.resolve("jszip/dist/jszip.min.js") });
    if (path === "/epub.js") return route.fulfill({ path: require.resolve("epubjs/dist/epub.min.js") });
    return route.fulfill({ contentType: "text/html", body: `<!DOCTYPE html><html><body style="margin:20px">
      <div id="viewer" style="width:${view.width}px;height:${view.height}px"></div>
      <script src="/jszip.js"></script><script src="/epub.js"></script></body></html>` });
  });
  await page.goto(`${ORIGIN}/reader.html`);
  await page.evaluate(async (view) => {
    window.flatten = (items) => items.flatMap((i) => [{ label: i.label.trim(), href: i.href },
      ...window.flatten(i.subitems || [])]);
    window.book = window.ePub("/book.epub");
    window.rendition = window.book.renderTo("viewer", { width: view.width, height: view.height,
      flow: view.flow, spread: "none" });
    await window.book.ready;
    if (view.colors) window.rendition.themes.default({ body: view.colors });
    await window.rendition.display();
  }, view);
  await settle(page);
}

async function show(page, href) {
  await page.evaluate((h) => window.rendition.display(h), href);
  await settle(page);
}

async function settle(page) {
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => setTimeout(done, 300))));
}

async function shown(page) {
  return page.evaluate(() => window.rendition.currentLocation().start.href);
}

function content(page) {
  return page.frames().find((f) => f !== page.mainFrame());
}

// Where Chromium drew an element, or its ::before, in the page's coordinates.
async function drawn(page, id, pseudo) {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { root } = await cdp.send("DOM.getDocument", { depth: -1, pierce: true });
    let node = findNode(root, id);
    if (node && pseudo) node = (node.pseudoElements || []).find((p) => p.pseudoType === pseudo);
    if (!node) return null;
    const { model } = await cdp.send("DOM.getBoxModel", { nodeId: node.nodeId });
    const q = model.border;
    return { x: q[0], y: q[1], width: q[2] - q[0], height: q[5] - q[1] };
  } finally {
    await cdp.detach();
  }
}

function findNode(node, id) {
  const attrs = node.attributes || [];
  for (let i = 0; i < attrs.length; i += 2) if (attrs[i] === "id" && attrs[i + 1] === id) return node;
  for (const child of [...(node.children || []), ...(node.contentDocument ? [node.contentDocument] : [])]) {
    const found = findNode(child, id);
    if (found) return found;
  }
  return null;
}

// The page number of a page-break marker (its ::before): the text it shows, how it is painted, where.
async function pageNumber(page, id) {
  const style = await content(page).evaluate((i) => {
    const el = document.getElementById(i);
    if (!el) return null;
    const s = getComputedStyle(el, "::before");
    // A break inside a word: where the letters on either side of it are drawn.
    const letter = (node, at) => {
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + 1);
      const r = range.getBoundingClientRect();
      return { left: r.left, right: r.right, top: r.top };
    };
    // The colour the number is drawn on: the first ancestor with a background, else the page's white.
    const ground = (node) => {
      for (let n = node; n && n.nodeType === Node.ELEMENT_NODE; n = n.parentNode) {
        const c = getComputedStyle(n).backgroundColor;
        if (c !== "rgba(0, 0, 0, 0)" && c !== "transparent") return c;
      }
      return "rgb(255, 255, 255)";
    };
    const before = el.previousSibling;
    const after = el.nextSibling;
    const inWord = before?.nodeType === Node.TEXT_NODE && after?.nodeType === Node.TEXT_NODE
      && /\w$/.test(before.data) && /^\w/.test(after.data);
    return { content: s.content, display: s.display, visibility: s.visibility, opacity: s.opacity,
      fontSize: s.fontSize, color: s.color, ground: ground(el),
      word: inWord ? { before: letter(before, before.data.length - 1), after: letter(after, 0) } : null };
  }, id);
  return style && { ...style, box: await drawn(page, id, "before") };
}

// Go to a note reference and click it. The click is the DOM event epub.js listens for: a pointer
// at a reference drawn on the last line of a column misses it in headless Chromium.
async function followNote(page, target) {
  await show(page, target);
  const id = target.split("#").pop();
  const ref = await content(page).$(`[id='${id}']`);
  const href = await ref.getAttribute("href");
  const from = await shown(page);
  await ref.dispatchEvent("click");
  await settle(page);
  const note = href.split("#").pop();
  return { href, from, to: await shown(page),
    role: await content(page).evaluate((i) => document.getElementById(i)?.getAttribute("role"), note),
    box: await drawn(page, note) };
}

// The most characters drawn on one line by any paragraph of the shown document (a line is the
// characters whose boxes share a top).
async function longestLine(page) {
  return content(page).evaluate(() => {
    let most = 0;
    for (const p of document.querySelectorAll("p")) {
      const lines = new Map();
      const walker = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (let i = 0; i < node.data.length; i++) {
          const range = document.createRange();
          range.setStart(node, i);
          range.setEnd(node, i + 1);
          const r = range.getBoundingClientRect();
          if (r.width === 0 && r.height === 0) continue;
          const top = Math.round(r.top);
          lines.set(top, (lines.get(top) || 0) + 1);
        }
      }
      most = Math.max(most, ...lines.values());
    }
    return most;
  });
}

// How the shown document's first paragraph of text is set: whether Chromium hyphenates (as CSS asks),
// the paragraph's computed alignment and hyphenation, and the document's language.
async function setting(page) {
  return content(page).evaluate(() => {
    const p = [...document.querySelectorAll("p")].find((e) => !e.className && !e.closest("aside, div, nav"));
    const style = getComputedStyle(p);
    return { hyphenates: CSS.supports("hyphens", "auto") || CSS.supports("-webkit-hyphens", "auto"),
      align: style.textAlign, hyphens: style.hyphens || style.webkitHyphens, lang: document.documentElement.lang };
  });
}

// Page on from a document's start until the text is on screen: {page, shown, sideways, down, scrollbar,
// vscrollbar}, or {page: null} when the document ends first. A text in a box that scrolls counts as
// shown once the box is scrolled to it (`sideways`, `down`: the box had to be); `scrollbar` is then the
// height of the box's sideways scrollbar, `vscrollbar` the width of its upright one (0: no cue); `drawn`
// is a PNG (base64) of the screen where the text is, as Chromium painted it.
async function locate(page, href, text) {
  await show(page, href);
  for (let turn = 0; turn < 400; turn++) {
    const seen = await content(page).evaluate((t) => {
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      let node = walker.nextNode();
      while (node && !node.data.includes(t)) node = walker.nextNode();
      if (!node) return null;
      const range = document.createRange();
      range.setStart(node, node.data.indexOf(t));
      range.setEnd(node, node.data.indexOf(t) + t.length);
      let box = null;
      for (let el = node.parentElement; el && el !== document.body; el = el.parentElement) {
        const style = getComputedStyle(el);
        if ((style.overflowX !== "visible" && el.scrollWidth > el.clientWidth)
          || (style.overflowY !== "visible" && el.scrollHeight > el.clientHeight)) { box = el; break; }
      }
      if (box) {
        const r = range.getBoundingClientRect();
        const b = box.getBoundingClientRect();
        if (r.right > b.left + box.clientWidth || r.left < b.left) {
          box.scrollLeft += r.right - (b.left + box.clientWidth);
        }
        if (r.bottom > b.top + box.clientHeight || r.top < b.top) {
          box.scrollTop += r.bottom - (b.top + box.clientHeight);
        }
      }
      const frame = window.frameElement.getBoundingClientRect();
      const viewer = window.parent.document.getElementById("viewer").getBoundingClientRect();
      const r = range.getBoundingClientRect();
      const clip = box ? box.getBoundingClientRect() : null;
      const x = frame.x + r.left;
      const middle = frame.y + r.top + r.height / 2;
      const inView = viewer.left <= x && x + r.width <= viewer.right + 0.5 && viewer.top <= middle
        && middle <= viewer.bottom && (!clip || (clip.left <= r.left && r.right <= clip.left + box.clientWidth + 0.5
        && clip.top <= r.top && r.bottom <= clip.top + box.clientHeight + 0.5));
      return { inView, sideways: box?.scrollLeft > 0, down: box?.scrollTop > 0,
        rect: { x: x, y: frame.y + r.top, width: r.width, height: r.height },
        scrollbar: box ? box.offsetHeight - box.clientHeight : 0, vscrollbar: box ? box.offsetWidth - box.clientWidth : 0 };
    }, text);
    if (seen?.inView) {
      return { page: turn, shown: await shown(page), sideways: seen.sideways, scrollbar: seen.scrollbar,
        down: seen.down, vscrollbar: seen.vscrollbar,
        drawn: (await page.screenshot({ clip: seen.rect })).toString("base64") };
    }
    // Paginated, the reader turns the page; scrolled, epub.js's "next" is the next document, so the
    // reader scrolls on by a screen.
    const moved = await page.evaluate(async () => {
      const at = () => JSON.stringify([window.rendition.currentLocation().start.cfi, box.scrollTop]);
      const box = window.rendition.manager.container;
      const before = at();
      if (window.rendition.settings.flow === "paginated") await window.rendition.next();
      else box.scrollTop += box.clientHeight;
      return at() !== before;
    });
    await settle(page);
    if (!moved || (await shown(page)) !== href) return { page: null };
  }
  return { page: null };
}
