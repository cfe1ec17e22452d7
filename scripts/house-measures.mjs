#!/usr/bin/env node
// Booleans of state per class in src/: a class's state is its private data members, which the
// house names with a trailing underscore (`closed_`). A class with more than two boolean
// members of state is a state machine waiting to be written down as one enum: this exits 1 and
// names it. Plain value structs (options, headers, rows: members without the underscore) are
// data, not state, and are not counted. Function length is clang-tidy's
// readability-function-size (see .clang-tidy).
//
// Usage: node scripts/house-measures.mjs [--list]   (--list prints every class with a count)
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const kMaxBools = 2;
const files = execFileSync('git', ['ls-files', 'src/*.hpp', 'src/*.cpp', 'src/*.ipp'], { encoding: 'utf8' })
  .split('\n').filter(Boolean);

// Removes comments, string and character literals, keeping line breaks so lines still count.
function strip(text) {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
    .replace(/\/\/[^\n]*/g, '')
    .replace(/R"\(([\s\S]*?)\)"/g, (m) => m.replace(/[^\n]/g, ' '))
    .replace(/"(?:\\.|[^"\\\n])*"/g, '""')
    .replace(/'(?:\\.|[^'\\\n])*'/g, "''");
}

const boolMember = /^\s*(?:mutable\s+)?(?:bool|std::atomic<bool>)\s+([A-Za-z0-9]+_)\s*(?:\{[^}]*\}|=[^;]*)?;/;
const classHead = /\b(class|struct)\s+([A-Za-z_][A-Za-z0-9_]*)\s*(?:final\s*)?(?::[^;{]*)?$/;

const results = [];
for (const file of files) {
  const lines = strip(readFileSync(file, 'utf8')).split('\n');
  const stack = []; // { name, depth } of open class bodies
  let depth = 0;
  let pendingHead = '';
  lines.forEach((line, i) => {
    const top = stack[stack.length - 1];
    if (top && depth === top.depth) {
      const m = boolMember.exec(line);
      if (m) top.bools.push(`${m[1]} (line ${i + 1})`);
    }
    for (const ch of line) {
      if (ch === '{') {
        depth += 1;
        const head = classHead.exec(pendingHead.trim());
        if (head) stack.push({ name: head[2], depth, bools: [], file, line: i + 1 });
        pendingHead = '';
      } else if (ch === '}') {
        const open = stack[stack.length - 1];
        if (open && open.depth === depth) results.push(stack.pop());
        depth -= 1;
        pendingHead = '';
      } else if (ch === ';') {
        pendingHead = '';
      } else {
        pendingHead += ch;
      }
    }
    pendingHead += ' ';
  });
}

const list = process.argv.includes('--list');
let worst = 0;
const over = [];
for (const r of results) {
  worst = Math.max(worst, r.bools.length);
  if (r.bools.length > kMaxBools) over.push(r);
  if (list && r.bools.length) console.log(`${r.file}:${r.line} ${r.name}: ${r.bools.length} (${r.bools.join(', ')})`);
}
console.log(`house-measures: ${results.length} classes in src/; most booleans of state in one class: ${worst} (limit ${kMaxBools})`);
for (const r of over) {
  console.error(`house-measures: ${r.file}:${r.line} class ${r.name} holds ${r.bools.length} booleans of state: ${r.bools.join(', ')}`);
}
process.exit(over.length ? 1 : 0);
