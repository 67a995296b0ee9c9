// Golden test of the TextMate grammar: tokenizes every examples/**/*.camp
// with vscode-textmate (the engine VS Code uses) and compares the scopes
// with the files under golden/, so highlighting cannot break unnoticed.
//
//   node golden.js            compare (exit 1 on any difference)
//   node golden.js --update   rewrite the golden files
//
// A golden file lists, for each line of the example, the line and then
// each token with its scopes (source.camp left out).
"use strict";

const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const update = process.argv.includes("--update");
const repo = path.resolve(__dirname, "..", "..", "..");
const examples = path.join(repo, "examples");
const goldenDir = path.join(__dirname, "golden");
const grammarPath = path.join(__dirname, "..", "syntaxes", "camp.tmLanguage.json");

function campFiles(dir) {
  let out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out = out.concat(campFiles(p));
    else if (e.name.endsWith(".camp")) out.push(p);
  }
  return out;
}

function goldenFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  let out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out = out.concat(goldenFiles(p));
    else out.push(p);
  }
  return out;
}

async function main() {
  const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;
  await oniguruma.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scope) =>
      scope === "source.camp" ? vsctm.parseRawGrammar(fs.readFileSync(grammarPath, "utf8"), grammarPath) : null,
  });
  const grammar = await registry.loadGrammar("source.camp");
  if (!grammar) throw new Error("the grammar did not load");

  const files = campFiles(examples);
  if (files.length === 0) throw new Error("no examples found under " + examples);
  let passed = 0;
  let failed = 0;
  const expected = new Set();
  for (const file of files) {
    const rel = path.relative(examples, file);
    const goldenPath = path.join(goldenDir, rel + ".scopes");
    expected.add(goldenPath);
    const lines = fs.readFileSync(file, "utf8").split(/\r?\n/);
    let stack = vsctm.INITIAL;
    const out = [];
    lines.forEach((line, i) => {
      const r = grammar.tokenizeLine(line, stack);
      stack = r.ruleStack;
      out.push(`${i + 1}: ${line}`);
      for (const t of r.tokens) {
        const text = line.substring(t.startIndex, t.endIndex);
        if (text.trim() === "") continue;
        const scopes = t.scopes.filter((s) => s !== "source.camp");
        out.push(`  ${JSON.stringify(text)} ${scopes.join(" ")}`);
      }
    });
    const got = out.join("\n") + "\n";
    if (update) {
      fs.mkdirSync(path.dirname(goldenPath), { recursive: true });
      fs.writeFileSync(goldenPath, got);
      passed++;
      continue;
    }
    let want = null;
    try {
      want = fs.readFileSync(goldenPath, "utf8");
    } catch (e) {
      console.log(`FAIL ${rel}: no golden file ${path.relative(repo, goldenPath)} (run node golden.js --update)`);
      failed++;
      continue;
    }
    if (got === want) {
      passed++;
      continue;
    }
    failed++;
    const g = got.split("\n");
    const w = want.split("\n");
    let k = 0;
    while (k < g.length && k < w.length && g[k] === w[k]) k++;
    console.log(`FAIL ${rel}: scopes differ from ${path.relative(repo, goldenPath)} at its line ${k + 1}:\n  want: ${w[k]}\n  got:  ${g[k]}`);
  }
  for (const g of goldenFiles(goldenDir)) {
    if (!expected.has(g)) {
      if (update) fs.unlinkSync(g);
      else {
        console.log(`FAIL ${path.relative(repo, g)}: golden file of no example (run node golden.js --update)`);
        failed++;
      }
    }
  }
  console.log(`grammar: ${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
