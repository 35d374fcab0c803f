// Prints the closing lines of a run after jest's own summary: every failing test with its file and
// the first lines of its error (so the last lines CI shows name the failure), then one plain line,
// "N passed, N failed, N skipped".
const path = require('node:path');

const ERROR_LINES = 6;

function firstLines(message) {
  return message
    .split('\n')
    .map((l) => l.replace(/\u001b\[[0-9;]*m/g, '').trimEnd())
    .filter((l) => l.trim() !== '' && !/^\s+at /.test(l))
    .slice(0, ERROR_LINES);
}

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const out = [];
    for (const file of results.testResults) {
      const rel = path.relative(process.cwd(), file.testFilePath);
      if (file.testExecError) out.push(`FAILED ${rel}: ${firstLines(file.testExecError.message || String(file.testExecError)).join(' | ')}`);
      for (const t of file.testResults) {
        if (t.status !== 'failed') continue;
        out.push(`FAILED ${rel} › ${t.fullName}`);
        for (const l of firstLines(t.failureMessages.join('\n'))) out.push(`    ${l}`);
      }
    }
    if (out.length > 0) process.stdout.write(`\nFailing tests:\n${out.join('\n')}\n`);
    process.stdout.write(`\n${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests} skipped\n`);
  }
}
module.exports = SummaryReporter;
