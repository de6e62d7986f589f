// Checks Mermaid texts with Mermaid's own parser, for tests/_mermaid.py.
//
// Usage: node tests/mermaid_parse.mjs MERMAID_DIR
// MERMAID_DIR holds node_modules/ with `mermaid` and `jsdom` (.ci/setup-diagrams).
// Reads JSON lines {"id": ..., "text": ...} on standard input and answers each
// with one JSON line {"id": ..., "ok": true} or {"id": ..., "ok": false,
// "error": "..."}, so that one Node.js process checks a whole test session.
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";

const folder = process.argv[2];
const require = createRequire(join(resolve(folder), "resolve-from-here.js"));
const { JSDOM } = await import(pathToFileURL(require.resolve("jsdom")).href);
const dom = new JSDOM("<!DOCTYPE html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const mermaid = (await import(pathToFileURL(require.resolve("mermaid")).href)).default;
mermaid.initialize({ startOnLoad: false });

process.stdout.write(JSON.stringify({ ready: true, version: mermaid.version ?? null }) + "\n");
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  const request = JSON.parse(line);
  let answer;
  try {
    await mermaid.parse(request.text);
    answer = { id: request.id, ok: true };
  } catch (error) {
    answer = { id: request.id, ok: false, error: String(error?.message ?? error) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
