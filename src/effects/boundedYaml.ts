/**
 * YAML (and JSON) from sources the operator does not trust (a KubevirtConfig's Secret, a file handed to `plan -f`),
 * parsed in linear time and within limits: bytes, nesting depth, aliases, and nodes counted with aliases expanded (so
 * an alias bomb is refused, not expanded). js-yaml 5 with its core schema: no custom tags, no code. Errors name the
 * document and line, never the text. Effects layer (parsing is pure, but `yaml` parsers stay out of src/domain).
 */

import { Result, Schema } from "effect"
import { load, loadAll, YAMLException } from "js-yaml"

export interface YamlLimits {
  /** Refuse a source longer than this many UTF-16 code units (about bytes for the ASCII of YAML). */
  readonly maxBytes: number
  /** Collections nested deeper than this are refused. */
  readonly maxDepth: number
  /** `*alias` nodes per document. */
  readonly maxAliases: number
  /** Nodes (scalars, sequences, mappings, map keys not counted) per document, aliases expanded. */
  readonly maxNodes: number
}

/** Kubeconfigs from Secrets: a Secret holds at most 1 MiB; real kubeconfigs have tens of nodes. */
export const kubeconfigLimits: YamlLimits = { maxBytes: 1024 * 1024, maxDepth: 20, maxAliases: 32, maxNodes: 20_000 }

/** Manifest files for `plan -f`: many documents, each a Machine, MachineClass or snapshot object. */
export const manifestLimits: YamlLimits = {
  maxBytes: 32 * 1024 * 1024,
  maxDepth: 64,
  maxAliases: 1_000,
  maxNodes: 1_000_000
}

/** Why a YAML source was refused. `line` and `document` are 0-based positions, never content. */
export class YamlError extends Schema.TaggedError<YamlError>()("YamlError", {
  problem: Schema.Literals(["TooLarge", "TooDeep", "TooManyAliases", "TooManyNodes", "Syntax"]),
  /** The parser's reason (a fixed phrase such as "bad indentation of a mapping entry"); never source text. */
  detail: Schema.String,
  document: Schema.optional(Schema.Number),
  line: Schema.optional(Schema.Number)
}) {
  override get message(): string {
    const where = [
      this.document === undefined ? undefined : `document ${this.document}`,
      this.line === undefined ? undefined : `line ${this.line + 1}`
    ].filter((w) => w !== undefined)
    return `${this.detail}${where.length === 0 ? "" : ` (${where.join(", ")})`}`
  }
}

/** js-yaml reasons that quote the source (an unknown tag's name) are cut to their fixed prefix. */
const safeReason = (reason: string): string => {
  const quoted = reason.search(/[!'"`]/)
  return (quoted < 0 ? reason : reason.slice(0, quoted)).trim().slice(0, 120) || "syntax error"
}

/** The 0-based index of the document that holds `line`: `---` markers after content start a new one. */
const documentAt = (text: string, line: number): number => {
  const lines = text.split("\n", line + 1)
  let index = 0
  let content = false
  for (const l of lines.slice(0, line)) {
    if (/^---(\s|$)/.test(l)) {
      if (content) index++
      content = /^---\s+\S/.test(l) && !/^---\s+#/.test(l)
    } else if (!/^\s*(#.*)?$/.test(l) && !l.startsWith("%")) content = true
  }
  return index
}

const classify = (e: unknown, text: string): YamlError => {
  if (e instanceof YAMLException) {
    const line = e.mark?.line
    const problem = e.reason.includes("maxDepth")
      ? "TooDeep"
      : e.reason.includes("maxAliases")
        ? "TooManyAliases"
        : e.reason.includes("merge keys")
          ? "TooManyNodes"
          : "Syntax"
    return new YamlError({
      problem,
      detail: safeReason(e.reason),
      ...(line === undefined ? {} : { line, document: documentAt(text, line) })
    })
  }
  // Anything else a parser throws (a RangeError from the stack) is a refusal too, never a crash.
  return new YamlError({ problem: "Syntax", detail: "cannot parse" })
}

/** Counts nodes with aliases expanded (a shared value counts each time it is reached), stopping at the limit. */
const withinNodes = (root: unknown, limits: YamlLimits): "TooManyNodes" | "TooDeep" | undefined => {
  let nodes = 0
  const stack: Array<readonly [unknown, number]> = [[root, 0]]
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!
    if (++nodes > limits.maxNodes) return "TooManyNodes"
    if (depth > limits.maxDepth) return "TooDeep"
    if (Array.isArray(value)) for (const v of value) stack.push([v, depth + 1])
    else if (value !== null && typeof value === "object")
      for (const v of Object.values(value as Record<string, unknown>)) stack.push([v, depth + 1])
  }
  return undefined
}

const checked = (documents: ReadonlyArray<unknown>, limits: YamlLimits): Result.Result<Array<unknown>, YamlError> => {
  for (const [document, value] of documents.entries()) {
    const problem = withinNodes(value, limits)
    if (problem !== undefined)
      return Result.fail(
        new YamlError({
          problem,
          detail:
            problem === "TooManyNodes"
              ? `more than ${limits.maxNodes} values (aliases expanded)`
              : `nested deeper than ${limits.maxDepth}`,
          document
        })
      )
  }
  return Result.succeed([...documents])
}

const tooLarge = (text: string, limits: YamlLimits): YamlError | undefined =>
  text.length > limits.maxBytes
    ? new YamlError({ problem: "TooLarge", detail: `larger than ${limits.maxBytes} bytes` })
    : undefined

/** Every document of a multi-document source (an empty source has none). */
export const parseYamlDocuments = (text: string, limits: YamlLimits): Result.Result<Array<unknown>, YamlError> => {
  const large = tooLarge(text, limits)
  if (large !== undefined) return Result.fail(large)
  try {
    return checked(loadAll(text, { maxDepth: limits.maxDepth, maxAliases: limits.maxAliases }), limits)
  } catch (e) {
    return Result.fail(classify(e, text))
  }
}

/** Exactly one document (an empty source is `undefined`). */
export const parseYamlDocument = (text: string, limits: YamlLimits): Result.Result<unknown, YamlError> => {
  const large = tooLarge(text, limits)
  if (large !== undefined) return Result.fail(large)
  try {
    const value =
      text.trim() === "" ? undefined : load(text, { maxDepth: limits.maxDepth, maxAliases: limits.maxAliases })
    return Result.map(checked([value], limits), ([v]) => v)
  } catch (e) {
    return Result.fail(classify(e, text))
  }
}
