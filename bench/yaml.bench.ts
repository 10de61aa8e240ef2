/**
 * Untrusted YAML (`npm run bench`): the time to parse and check a 1 MiB document of 40,000 keys, as a hostile
 * KubevirtConfig Secret or a `plan -f` file would be, with the strict kubeconfig loader and the manifest parser. Prints
 * figures; asserts nothing. Not a test.
 */
import { cpus, totalmem } from "node:os"
import { manifestLimits, parseYamlDocuments } from "../src/effects/boundedYaml.ts"
import { checkSecretKubeconfig } from "../src/effects/kube/secretKubeconfig.ts"

const mib = 1024 * 1024
let doc = "clusters:\n- name: remote\n  cluster:\n    server: https://127.0.0.1:6443\n    extensions:\n"
for (let i = 0; doc.length < mib - 64; i++) doc += `      key${i}: value-${i}\n`

const time = (label: string, run: () => unknown) => {
  run()
  const samples: Array<number> = []
  for (let i = 0; i < 5; i++) {
    const started = performance.now()
    run()
    samples.push(performance.now() - started)
  }
  samples.sort((a, b) => a - b)
  console.log(
    `${label.padEnd(64)} median ${samples[2]!.toFixed(0)} ms (min ${samples[0]!.toFixed(0)}, max ${samples[4]!.toFixed(0)})`
  )
}

console.log(
  `untrusted YAML, ${(doc.length / mib).toFixed(2)} MiB, ${doc.split("\n").length} lines; ${cpus()[0]?.model}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`
)
time("plan -f parser (manifest limits)", () => parseYamlDocuments(doc, manifestLimits))
time("Secret kubeconfig: parse, allow-list, refusal", () => checkSecretKubeconfig(doc))
