#!/usr/bin/env node
// What scripts/test prints about its runners, read from their result files and logs. The runners' own
// banners ("Tests: 3 passed, 3 total", "==== 3 warnings in 83.35s ====") never reach the output: CI
// reads the last closing line, which must be ours alone ("tests: N passed, N failed, N skipped").
//
//   test-report --log-tail LOG                               the end of a failed step's log
//   test-report --suite NAME RESULT.json LOG EXIT SECONDS    one suite's counts and failures
//   test-report --summary RESULTS_DIR                        the closing line; exits 1 on any failure
// A step or runner that failed outside any test leaves NAME.failed-run in RESULTS_DIR; each counts as one failure.
'use strict';
const fs = require('fs');
const path = require('path');

const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;
const BANNER = [
  /^\s*={3,}.*={3,}\s*$/, // pytest-style banners
  /^\s*(Test Suites|Tests|Snapshots|Time):/, // jest's summary block
  /^\s*Ran all test suites/,
  /^\s*Test results written to/,
  /^\s*tests: \d+ passed/,
];
const clean = (text) =>
  text
    .replace(ANSI, '')
    .split('\n')
    .filter((l) => !BANNER.some((re) => re.test(l)));

function printTail(file, lines = 40) {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '(no log)';
  const tail = clean(text)
    .filter((l) => l.trim())
    .slice(-lines);
  for (const l of tail) console.log(`  | ${l}`);
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function printFailures(result) {
  let printed = 0;
  for (const file of result.testResults ?? []) {
    const rel = path.relative(process.cwd(), file.name ?? '');
    const failedTests = (file.assertionResults ?? []).filter((a) => a.status === 'failed');
    for (const a of failedTests) {
      console.log(`  ✗ ${rel} › ${a.fullName ?? a.title}`);
      for (const l of clean((a.failureMessages ?? []).join('\n')).slice(0, 20)) console.log(`    ${l}`);
      printed++;
    }
    if (failedTests.length === 0 && file.status === 'failed') {
      console.log(`  ✗ ${rel} (the file did not run)`);
      for (const l of clean(file.message ?? '').slice(0, 20)) console.log(`    ${l}`);
      printed++;
    }
  }
  return printed;
}

function suite(name, resultFile, logFile, exitCode, seconds) {
  const result = readJson(resultFile);
  const where = `${seconds} s; log: ${logFile}`;
  if (!result) {
    console.log(`[test] ${name}: FAILED, no result (exit ${exitCode}, ${where})`);
    printTail(logFile);
    fs.writeFileSync(`${resultFile}.failed-run`, 'no result\n');
    return;
  }
  const skipped = (result.numPendingTests ?? 0) + (result.numTodoTests ?? 0);
  const failed = result.numFailedTests ?? 0;
  console.log(`[test] ${name}: ${result.numPassedTests} passed, ${failed} failed, ${skipped} skipped (${where})`);
  const printed = failed > 0 || Number(exitCode) !== 0 ? printFailures(result) : 0;
  if (Number(exitCode) !== 0 && failed === 0) {
    // A runner that failed outside any test (a suite that could not start, a global set-up error).
    console.log(`[test] ${name}: the runner exited ${exitCode} with no failed test`);
    if (printed === 0) printTail(logFile);
    fs.writeFileSync(`${resultFile}.failed-run`, `exit ${exitCode}\n`);
  } else if (failed > 0 && printed === 0) {
    printTail(logFile);
  }
}

function summary(dir) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const f of fs.readdirSync(dir)) {
    const file = path.join(dir, f);
    if (f.endsWith('.failed-run')) failed++;
    if (!f.endsWith('.json')) continue;
    const r = readJson(file);
    if (!r) continue;
    passed += r.numPassedTests ?? 0;
    failed += r.numFailedTests ?? 0;
    skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  }
  console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
}

const [mode, ...args] = process.argv.slice(2);
if (mode === '--log-tail') printTail(args[0]);
else if (mode === '--suite') suite(...args);
else if (mode === '--summary') summary(...args);
else {
  console.error('usage: test-report --log-tail LOG | --suite NAME RESULT LOG EXIT SECONDS | --summary DIR');
  process.exitCode = 2;
}
