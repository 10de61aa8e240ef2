/**
 * Reads YAML or JSON files (or every .yaml/.yml/.json file of a directory, sorted) into source documents.
 * Runtime layer: file I/O. A file that cannot be read or parsed is reported by name and position, not thrown.
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { parseAllDocuments } from "yaml"
import type { SourceDocument } from "../../domain/documents.ts"
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
      parseAllDocuments(text).forEach((doc, index) => {
        if (doc.errors.length > 0)
          problems.push(`${file}#${index}: not valid YAML/JSON: ${doc.errors[0]!.message.split("\n")[0]}`)
        else documents.push({ source: file, index, value: doc.toJS({ maxAliasCount: 100 }) })
      })
    }
  }
  return { documents, problems }
}
