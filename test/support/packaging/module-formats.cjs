'use strict';
// Run by the packaging suite inside an app that installed the tarball: loads every subpath with
// require() and with import(), and prints, as one JSON line, which file each took and which
// exports differ between the two (none when Node hands both the same module).
const { relative } = require('node:path');

const SUBPATHS = ['nestjs-azure-auth', 'nestjs-azure-auth/testing', 'nestjs-azure-auth/swagger', 'nestjs-azure-auth/health'];

async function main() {
  const packageDir = relative(process.cwd(), require.resolve('nestjs-azure-auth/package.json')).replace(/package\.json$/, '');
  const report = { version: require('nestjs-azure-auth/package.json').version, subpaths: {} };
  for (const subpath of SUBPATHS) {
    const required = require(subpath);
    const imported = await import(subpath);
    const exports = Object.keys(required).sort();
    report.subpaths[subpath] = {
      file: relative(packageDir, relative(process.cwd(), require.resolve(subpath))),
      exports,
      imported: Object.keys(imported).filter((name) => name !== 'default' && name !== 'module.exports').sort(),
      differing: exports.filter((name) => required[name] !== imported[name]),
    };
  }
  console.log(JSON.stringify(report));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
