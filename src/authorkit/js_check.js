'use strict';
// Syntax-check many JavaScript/TypeScript blocks in one Node process.
// Each stdin line: JSON [{id, lang: "js"|"ts", code}]; each stdout line: JSON [{id, ok} | {id, line, col, message} | {id, skipped}].
// Nothing is executed: code is only compiled (vm.compileFunction / vm.SourceTextModule).
const vm = require('vm');
const nodeModule = require('module');

const CJS_PARAMS = ['exports', 'require', 'module', '__filename', '__dirname'];
const ESM_HINT = /^\s*(import\s*[\w{*'"]|export\s)|\bimport\.meta\b/m;

function locate(err) {
  const stack = String((err && err.stack) || '');
  const m = /^block\.js:(\d+)\n(.*)\n(\s*)\^/m.exec(stack);
  const message = String((err && err.message) || err);
  if (m) return { line: Number(m[1]), col: m[3].length + 1, message };
  const m2 = /^block\.js:(\d+)/m.exec(stack);
  return { line: m2 ? Number(m2[1]) : 0, col: 1, message };
}

function compileCjs(code) {
  vm.compileFunction(code, CJS_PARAMS, { filename: 'block.js' });
}

// Rewrite import/export so that an ES module compiles as a function body with the same lines;
// used only to find the line of an error that SourceTextModule reports without a position.
function esmToCjs(code) {
  const keepNewlines = (s) => s.replace(/[^\n]/g, ' ');
  let out = code
    .replace(/^(\s*)import\s+(?:[\s\S]*?\sfrom\s*)?(['"])[^'"\n]*\2\s*;?/gm, (s) => keepNewlines(s))
    .replace(/^(\s*)export\s+(?:\*|\{[^}]*\})(?:\s*from\s*(['"])[^'"\n]*\2)?\s*;?/gm, (s) => keepNewlines(s))
    .replace(/^(\s*)export\s+default\s+/gm, '$1void ')
    .replace(/^(\s*)export\s+/gm, '$1')
    .replace(/\bimport\.meta\b/g, '({})');
  return '(async()=>{' + out + '\n})';
}

function checkJs(code) {
  if (code.startsWith('#!')) code = '//' + code.slice(2);
  let cjsErr = null;
  try {
    compileCjs(code);
    return null;
  } catch (e) {
    cjsErr = e;
  }
  const looksEsm = ESM_HINT.test(code);
  const awaitOnly = /await is only valid/.test(String(cjsErr.message));
  if (!looksEsm && !awaitOnly) return locate(cjsErr);
  if (typeof vm.SourceTextModule === 'function') {
    try {
      new vm.SourceTextModule(code, { identifier: 'block.mjs' });
      return null;
    } catch (e) {
      try {
        compileCjs(esmToCjs(code));
      } catch (e2) {
        return locate(e2);
      }
      return { line: 0, col: 1, message: String(e.message || e) };
    }
  }
  try {
    compileCjs(esmToCjs(code));
    return null;
  } catch (e2) {
    return locate(e2);
  }
}

function check(block) {
  let code = block.code;
  if (block.lang === 'ts') {
    if (typeof nodeModule.stripTypeScriptTypes !== 'function') {
      return { id: block.id, skipped: 'TypeScript needs Node 22.13 or later (module.stripTypeScriptTypes)' };
    }
    try {
      code = nodeModule.stripTypeScriptTypes(code, { mode: 'strip' });
    } catch (e) {
      return { id: block.id, line: 0, col: 1, message: String(e.message || e) };
    }
  }
  const err = checkJs(code);
  if (!err) return { id: block.id, ok: true };
  if (shownAsData(code)) return { id: block.id, ok: true, data: true };
  return Object.assign({ id: block.id }, err);
}

// A JSON response or an object literal shown as a value (`{ "error": { … } }`), often with
// `...` for "more of the same": it parses as an expression once the elisions are dropped.
const ELISION = /(^|[\[{,:(\s])(?:\.\.\.|…)(?=\s*(?:[,\]})]|$|\/\/))/gm;
function shownAsData(code) {
  const body = code.replace(/^\s*\/\/.*$/gm, '').trim();
  if (!/^[\[{]/.test(body)) return false;
  const stripped = code.replace(ELISION, '$1').replace(/,(\s*,)+/g, ',');
  for (const text of [code, stripped]) {
    try {
      vm.compileFunction('return (\n' + text + '\n);', [], { filename: 'block.js' });
      return true;
    } catch (e) { /* not a value */ }
  }
  // Several values one after another (a request body, then the response).
  try {
    vm.compileFunction('return [\n' + stripped.replace(/\n\s*\n(?=\s*[\[{])/g, '\n,\n') + '\n];', [], { filename: 'block.js' });
    return true;
  } catch (e) {
    return false;
  }
}

// One request per line (a JSON array of blocks), one JSON line back per request, until stdin
// closes: the caller keeps one Node process for all of its batches.
const readline = require('readline');
const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  if (!line.trim()) return;
  const blocks = JSON.parse(line);
  process.stdout.write(JSON.stringify(blocks.map(check)) + '\n');
});
