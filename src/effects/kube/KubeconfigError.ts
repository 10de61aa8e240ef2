/**
 * Why a kubeconfig was refused. Effects layer (cluster service). Messages name the user or cluster entry
 * and the field, never a token, key, certificate or any other line of the document.
 */
import { Schema } from "effect"

/**
 * A user runs a command (`exec`) or a plugin (`auth-provider`) to get credentials: whoever can write the
 * Secret could run code inside the operator. Allowed only with `allowExecAuth: true`.
 */
export class ExecAuthRejected extends Schema.TaggedError<ExecAuthRejected>()("ExecAuthRejected", {
  user: Schema.String,
  field: Schema.Literals(["exec", "auth-provider"])
}) {
  override get message(): string {
    return `kubeconfig user "${this.user}" uses ${this.field}, which runs code inside the operator; it is refused unless the operator is started with exec auth allowed`
  }
}

/**
 * An entry points at a local file (`tokenFile`, `client-certificate`, `client-key`, `certificate-authority`):
 * a kubeconfig from a Secret could make the operator send its own service-account token or read its files.
 * Allowed only with `allowFileReferences: true`.
 */
export class FileReferenceRejected extends Schema.TaggedError<FileReferenceRejected>()("FileReferenceRejected", {
  entry: Schema.Literals(["user", "cluster"]),
  name: Schema.String,
  field: Schema.String
}) {
  override get message(): string {
    return `kubeconfig ${this.entry} "${this.name}" references a local file (${this.field}); it is refused unless file references are allowed`
  }
}

/** The document is not a usable kubeconfig (not YAML, no current context, missing cluster or user). */
export class InvalidKubeconfig extends Schema.TaggedError<InvalidKubeconfig>()("InvalidKubeconfig", {
  detail: Schema.String
}) {
  override get message(): string {
    return `invalid kubeconfig: ${this.detail}`
  }
}

export class KubeconfigError extends Schema.TaggedError<KubeconfigError>()("KubeconfigError", {
  reason: Schema.Union([ExecAuthRejected, FileReferenceRejected, InvalidKubeconfig])
}) {
  override get message(): string {
    return this.reason.message
  }
}
