#!/usr/bin/env node
// Entry point of the `kubevirt-operator` bin: runs the TypeScript sources directly (Node >= 24 strips types); in the
// image, where the sources are JavaScript (scripts/image/stripTypes.ts), the import below reads main.js.
const { main } = await import("../src/runtime/main.ts")
process.exitCode = await main(process.argv.slice(2), process.env)
