// Search a PDF as pdf.js's viewer does (Firefox's, and pdf.js in web pages): its own find controller,
// over the text it extracts. Usage: node pdfjs_find.mjs FILE.pdf WORD...; prints {word: matches}.
import * as pdfjsLib from "pdfjs-dist/legacy/build/pdf.mjs";

// pdf_viewer.mjs touches a page and a window once as it loads; its find controller needs neither.
globalThis.pdfjsLib = pdfjsLib;
globalThis.document ??= { documentElement: { style: {} }, createElement: () => ({ style: {} }) };
globalThis.window ??= { requestAnimationFrame: (callback) => setTimeout(callback, 0) };
const { EventBus, PDFFindController } = await import("pdfjs-dist/legacy/web/pdf_viewer.mjs");

const [path, ...words] = process.argv.slice(2);
const pdf = await pdfjsLib.getDocument({ url: path, verbosity: 0 }).promise;
const eventBus = new EventBus();
const finder = new PDFFindController({ linkService: { pagesCount: pdf.numPages, page: 1, rotation: 0 }, eventBus });
finder.setDocument(pdf);
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const found = {};
for (const query of words) {
  eventBus.dispatch("find", { source: null, type: "highlightallchange", query, caseSensitive: true,
                              entireWord: false, highlightAll: true, findPrevious: false, matchDiacritics: false });
  await pause(10);
  await Promise.all(finder._extractTextPromises);
  // Every page is searched once its text is in; a page not yet searched has no entry.
  for (let i = 0; i < 500 && finder.pageMatches.filter(Boolean).length < pdf.numPages; i++) await pause(20);
  if (finder.pageMatches.filter(Boolean).length < pdf.numPages) throw new Error(`pdf.js did not search every page for ${query}`);
  found[query] = finder.pageMatches.reduce((count, matches) => count + matches.length, 0);
}
console.log(JSON.stringify(found));
