// Print the text pdf.js gives for each page of a PDF (its text layer's, what its viewer selects and copies),
// as a JSON list of strings. Usage: node pdfjs_text.mjs FILE.pdf
import * as pdfjsLib from "pdfjs-dist/legacy/build/pdf.mjs";

const pdf = await pdfjsLib.getDocument({ url: process.argv[2], verbosity: 0 }).promise;
const pages = [];
for (let n = 1; n <= pdf.numPages; n++) {
  const content = await (await pdf.getPage(n)).getTextContent();
  pages.push(content.items.map((item) => item.str + (item.hasEOL ? "\n" : "")).join(""));
}
console.log(JSON.stringify(pages));
