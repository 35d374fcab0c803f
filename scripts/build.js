#!/usr/bin/env node
// Transpiles every TypeScript source to dist/ (CommonJS, same layout), with esbuild: ~0.3 s for
// the whole tree. Type checking is `tsc --noEmit`, run separately by the test command.
'use strict';
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
// ui/lib holds pure helpers the CLI shares with the browser code (squall logs formats lines as the UI does).
const dirs = ['topology-api', 'common', 'worker', 'supervisor', 'nimbus', 'local', 'cli', 'ui/lib', 'connectors', 'examples', 'bench'];

function walk(dir, out) {
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(p, out);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const entryPoints = dirs.flatMap((d) => walk(path.join(root, d), []));
fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
esbuild.buildSync({
  entryPoints,
  outdir: path.join(root, 'dist'),
  outbase: root,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
});
// Examples import 'squall' (as users do); inside this package that is the topology API.
fs.mkdirSync(path.join(root, 'dist', 'node_modules', 'squall'), { recursive: true });
fs.writeFileSync(path.join(root, 'dist', 'node_modules', 'squall', 'index.js'), "module.exports = require('../../topology-api/index.js');\n");
fs.writeFileSync(path.join(root, 'dist', 'node_modules', 'squall', 'local.js'), "module.exports = require('../../local/index.js');\n");
// ... and 'squall/connectors/<system>' is that connector (package.json "exports").
for (const system of fs.existsSync(path.join(root, 'connectors')) ? fs.readdirSync(path.join(root, 'connectors')) : []) {
  if (!fs.existsSync(path.join(root, 'connectors', system, 'index.ts'))) continue;
  const shim = path.join(root, 'dist', 'node_modules', 'squall', 'connectors', system);
  fs.mkdirSync(shim, { recursive: true });
  fs.writeFileSync(path.join(shim, 'index.js'), `module.exports = require('../../../../connectors/${system}/index.js');\n`);
}

// The web UI that Nimbus serves at `/` (docs/ui.md): the browser code in ui/ bundled into one
// script, plus the page and the stylesheet, into dist/ui/. Nothing is fetched at run time.
const uiDir = path.join(root, 'ui');
if (fs.existsSync(path.join(uiDir, 'main.ts'))) {
  const uiOut = path.join(root, 'dist', 'ui');
  esbuild.buildSync({
    entryPoints: [path.join(uiDir, 'main.ts')],
    outfile: path.join(uiOut, 'app.js'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome100', 'firefox100', 'safari15'],
    minify: true,
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'style.css']) fs.copyFileSync(path.join(uiDir, file), path.join(uiOut, file));
}
