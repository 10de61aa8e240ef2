/**
 * Why a kubeconfig was refused. Effects layer (cluster service). Messages name the entry (its path in the document
 * and its name) and the field, never a value: no token, key, certificate, path or URL, and never whether a file
 * exists.
 */
import { Schema } from "effect"

/** Where in the document: `users[1] ("ops").user.token-file`. */
const at = (path: string): string => `kubeconfig ${path}`

/**
 * A user runs a command (`exec`) or a plugin (`auth-provider`) to get credentials: whoever can write the
 * Secret could run code inside the operator. Allowed only with `allowExecAuth: true`.
 */
export class ExecAuthRejected extends Schema.TaggedError<ExecAuthRejected>()("ExecAuthRejected", {
  path: Schema.String,
  field: Schema.Literals(["exec", "auth-provider"])
}) {
  override get message(): string {
    return `${at(this.path)}: ${this.field} runs code inside the operator; it is refused unless the operator is started with exec auth allowed`
  }
}

/**
 * A field names a local file (`token-file`, `tokenFile`, `client-certificate`, `client-key`,
 * `certificate-authority`, an auth-provider's `tokenFile`): a kubeconfig from a Secret could make the operator read
 * its own files (its service-account token) and send them to the server it names. Never allowed from a Secret.
 */
export class FileReferenceRejected extends Schema.TaggedError<FileReferenceRejected>()("FileReferenceRejected", {
  path: Schema.String
}) {
  override get message(): string {
    return `${at(this.path)}: names a local file; a kubeconfig from a Secret must be self-contained (use the *-data fields)`
  }
}

/** A field outside the allow-list of self-contained kubeconfig fields (impersonation, unknown or misspelt keys). */
export class UnsupportedField extends Schema.TaggedError<UnsupportedField>()("UnsupportedField", {
  path: Schema.String
}) {
  override get message(): string {
    return `${at(this.path)}: field is not supported in a kubeconfig from a Secret`
  }
}

/**
 * The credentials would travel in clear (`http://`) or to whoever answers (`insecure-skip-tls-verify`). Allowed only
 * with `allowInsecure: true`.
 */
export class InsecureConnectionRejected extends Schema.TaggedError<InsecureConnectionRejected>()(
  "InsecureConnectionRejected",
  {
    path: Schema.String,
    field: Schema.Literals(["server", "insecure-skip-tls-verify"])
  }
) {
  override get message(): string {
    const why =
      this.field === "server"
        ? "a plain http:// server would receive the credentials in clear"
        : "insecure-skip-tls-verify would send the credentials to any server that answers"
    return `${at(this.path)}: ${why}; it is refused unless the operator is started with insecure remotes allowed`
  }
}

/** The document is not a usable kubeconfig (not YAML, no current context, missing cluster or user, bad data). */
export class InvalidKubeconfig extends Schema.TaggedError<InvalidKubeconfig>()("InvalidKubeconfig", {
  detail: Schema.String
}) {
  override get message(): string {
    return `invalid kubeconfig: ${this.detail}`
  }
}

export class KubeconfigError extends Schema.TaggedError<KubeconfigError>()("KubeconfigError", {
  reason: Schema.Union([
    ExecAuthRejected,
    FileReferenceRejected,
    UnsupportedField,
    InsecureConnectionRejected,
    InvalidKubeconfig
  ])
}) {
  override get message(): string {
    return this.reason.message
  }
}

export const invalidKubeconfig = (detail: string): KubeconfigError =>
  new KubeconfigError({ reason: new InvalidKubeconfig({ detail }) })
