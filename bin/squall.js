#!/usr/bin/env node
'use strict';
// The CLI is compiled into dist/ by `npm ci`/`npm install` (the prepare script).
const path = require('node:path');
const fs = require('node:fs');
const main = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
if (!fs.existsSync(main)) {
  process.stderr.write('squall: not built yet; run `npm install` (or `npm run build`) in ' + path.join(__dirname, '..') + '\n');
  process.exit(1);
}
require(main).main();
