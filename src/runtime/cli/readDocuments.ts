/**
 * Reads YAML or JSON files (or every .yaml/.yml/.json file of a directory, sorted) into source documents.
 * Runtime layer: file I/O. A file that cannot be read or parsed is reported by name, document and line, not thrown;
 * files are untrusted input, parsed within limits (size, depth, aliases, values).
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { Result } from "effect"
import type { SourceDocument } from "../../domain/documents.ts"
import { manifestLimits, parseYamlDocuments } from "../../effects/boundedYaml.ts"
import { messageOf } from "./CliError.ts"

export interface ReadResult {
  readonly documents: ReadonlyArray<SourceDocument>
  readonly problems: ReadonlyArray<string>
}

const INPUT = /\.(ya?ml|json)$/i

const expandPaths = (path: string): Array<string> => {
  const st = statSync(path)
  if (!st.isDirectory()) return [path]
  return readdirSync(path)
    .filter((f) => INPUT.test(f))
    .sort()
    .map((f) => join(path, f))
}

export const readDocuments = (paths: ReadonlyArray<string>): ReadResult => {
  const documents: Array<SourceDocument> = []
  const problems: Array<string> = []
  for (const given of paths) {
    let files: Array<string>
    try {
      files = expandPaths(given)
    } catch (e) {
      problems.push(`${given}: cannot read: ${messageOf(e)}`)
      continue
    }
    for (const file of files) {
      let text: string
      try {
        text = readFileSync(file, "utf8")
      } catch (e) {
        problems.push(`${file}: cannot read: ${messageOf(e)}`)
        continue
      }
      const parsed = parseYamlDocuments(text, manifestLimits)
      if (Result.isFailure(parsed)) {
        const e = parsed.failure
        problems.push(`${file}${e.document === undefined ? "" : `#${e.document}`}: not valid YAML/JSON: ${e.message}`)
      } else for (const [index, value] of parsed.success.entries()) documents.push({ source: file, index, value })
    }
  }
  return { documents, problems }
}
