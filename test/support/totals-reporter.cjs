// Writes the run's totals for .ci/run, which reads Jest's result from this file and its exit code.
const fs = require('node:fs');
const path = require('node:path');

class TotalsReporter {
  constructor(globalConfig) {
    this.file = path.join(globalConfig.rootDir, '.tmp', 'jest-totals.json');
  }
  onRunComplete(_contexts, results) {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    fs.writeFileSync(this.file, JSON.stringify({ passed: results.numPassedTests, failed }));
  }
}
module.exports = TotalsReporter;
