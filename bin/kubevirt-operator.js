#!/usr/bin/env node
// Entry point of the `kubevirt-operator` bin: runs the TypeScript sources directly (Node >= 24 strips types).
const { main } = await import("../src/runtime/main.ts")
process.exitCode = await main(process.argv.slice(2), process.env)
