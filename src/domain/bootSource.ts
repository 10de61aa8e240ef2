/**
 * What a Machine boots from (ADR 0010): an image imported into the boot disk (`spec.os.imageID`), an installer ISO
 * on a CD-ROM behind the boot disk (`spec.os.isoUri`, or the Go operator's `kubevirt.io/boot-source: datavolume`
 * annotations with `spec.os.imageID`), or the network (neither). Domain layer: pure; it reads the Machine only.
 */
import { type Diagnostic, error } from "./Diagnostic.ts"
import type { Machine } from "./Machine.ts"
import { parseQuantity } from "./Quantity.ts"
import { redactUrl } from "./redactUrl.ts"

/** Go operator parity (reference F17): with `spec.os.imageID`, that image is an installer ISO. */
export const BOOT_SOURCE_ANNOTATION = "kubevirt.io/boot-source"
/** `http` (default), `https` or `registry`: how the Go operator's ISO is fetched. */
export const BOOT_SOURCE_TYPE_ANNOTATION = "kubevirt.io/boot-source-type"
/** The ISO DataVolume's size (a quantity); default 8Gi. */
export const ISO_SIZE_ANNOTATION = "vitistack.io/iso-size"
/** Either set to "true" removes the CD-ROM and its DataVolume (reference F31). */
export const OS_INSTALLED_ANNOTATION = "vitistack.io/os-installed"
export const CDROM_EJECTED_ANNOTATION = "vitistack.io/cdrom-ejected"
/** Written once the ISO is gone, for tools that read it (reference F31). */
export const ISO_CLEANED_UP_ANNOTATION = "vitistack.io/iso-cleaned-up"

export const DEFAULT_ISO_SIZE = "8Gi"

/** Where CDI imports from. */
export type ImageSource =
  | { readonly _tag: "Http"; readonly url: string }
  | { readonly _tag: "Registry"; readonly url: string }
  | { readonly _tag: "DataSource"; readonly namespace: string; readonly name: string }

export interface IsoMedia {
  readonly source: ImageSource
  /** The DataVolume's size from `vitistack.io/iso-size`, a quantity; absent: probed, or 8Gi. */
  readonly size: string | undefined
  /** The Machine asks for the CD-ROM to go (os-installed / cdrom-ejected). */
  readonly ejected: boolean
}

export interface BootSource {
  /** The boot disk's image; undefined: a blank boot disk. */
  readonly root: ImageSource | undefined
  readonly iso: IsoMedia | undefined
  /** Neither image nor ISO: the first NIC boots from the network after the disk (reference F27). */
  readonly networkBoot: boolean
  readonly diagnostics: ReadonlyArray<Diagnostic>
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

/**
 * The image reference as shown: a URL in its display form, credentials masked (`redactUrl.ts`, ADR 0018). `plan`,
 * Events and status show it; the DataVolume records it (`vitistack.io/image-source`) to notice a later change.
 */
export const describeSource = (s: ImageSource): string =>
  s._tag === "DataSource" ? `datasource:${s.namespace}/${s.name}` : redactUrl(s.url)

const parseUrl = (text: string): URL | undefined => {
  try {
    return new URL(text)
  } catch {
    return undefined
  }
}

/** `imageID`: `http(s)://...`, `docker://...` or `datasource:NAMESPACE/NAME`. */
const parseImage = (text: string, field: string, diags: Array<Diagnostic>): ImageSource | undefined => {
  const trimmed = text.trim()
  if (trimmed.startsWith("datasource:")) {
    const [namespace, name, ...rest] = trimmed.slice("datasource:".length).split("/")
    const ok = (s: string | undefined): s is string => s !== undefined && DNS_LABEL.test(s) && s.length <= 63
    if (ok(namespace) && ok(name) && rest.length === 0) return { _tag: "DataSource", namespace, name }
    diags.push(error("InvalidImage", "a DataSource image is written datasource:NAMESPACE/NAME", field))
    return undefined
  }
  const url = parseUrl(trimmed)
  if (url !== undefined && (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "")
    return { _tag: "Http", url: trimmed }
  if (url !== undefined && url.protocol === "docker:" && trimmed.length > "docker://".length)
    return { _tag: "Registry", url: trimmed }
  diags.push(
    error("InvalidImage", "the image must be an http(s):// URL, a docker:// image or datasource:NAMESPACE/NAME", field)
  )
  return undefined
}

/** An installer ISO: http(s) (or, with the Go annotation `registry`, a container image holding the ISO). */
const parseIso = (text: string, type: string, field: string, diags: Array<Diagnostic>): ImageSource | undefined => {
  const trimmed = text.trim()
  if (type === "registry") {
    const url = trimmed.includes("://") ? trimmed : `docker://${trimmed}`
    if (url.startsWith("docker://") && url.length > "docker://".length) return { _tag: "Registry", url }
    diags.push(error("InvalidIso", "a registry ISO is a docker:// image", field))
    return undefined
  }
  const url = parseUrl(trimmed)
  if (url !== undefined && (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "")
    return { _tag: "Http", url: trimmed }
  diags.push(error("InvalidIso", "an installer ISO is an http(s):// URL", field))
  return undefined
}

const isoSize = (machine: Machine, diags: Array<Diagnostic>): string | undefined => {
  const given = machine.metadata.annotations?.[ISO_SIZE_ANNOTATION]
  if (given === undefined) return undefined
  const bytes = parseQuantity(given)
  if (bytes === undefined || !Number.isFinite(bytes) || bytes < 2 ** 20) {
    diags.push(
      error(
        "InvalidIsoSize",
        `annotation ${ISO_SIZE_ANNOTATION} must be a quantity of at least 1Mi`,
        `metadata.annotations[${ISO_SIZE_ANNOTATION}]`
      )
    )
    return undefined
  }
  return given.trim()
}

/**
 * The boot source of a Machine. With the Go operator's annotation `kubevirt.io/boot-source: datavolume`,
 * `spec.os.imageID` is the ISO (its type from `kubevirt.io/boot-source-type`); otherwise it is the boot disk's
 * image, and `spec.os.isoUri` is the ISO. Total: bad values are Error diagnostics naming the field.
 */
export const bootSourceOf = (machine: Machine): BootSource => {
  const diags: Array<Diagnostic> = []
  const annotations = machine.metadata.annotations ?? {}
  const imageID = machine.spec.os?.imageID?.trim() ?? ""
  const isoUri = machine.spec.os?.isoUri?.trim() ?? ""
  const goIso = annotations[BOOT_SOURCE_ANNOTATION] === "datavolume" && imageID !== ""
  const type = (annotations[BOOT_SOURCE_TYPE_ANNOTATION] ?? "http").trim().toLowerCase()
  if (goIso && !["http", "https", "registry"].includes(type))
    diags.push(
      error(
        "InvalidIso",
        `annotation ${BOOT_SOURCE_TYPE_ANNOTATION} must be http, https or registry`,
        `metadata.annotations[${BOOT_SOURCE_TYPE_ANNOTATION}]`
      )
    )
  if (goIso && isoUri !== "")
    diags.push(
      error(
        "InvalidIso",
        `both spec.os.isoUri and the ${BOOT_SOURCE_ANNOTATION} annotation name an ISO; keep one`,
        "spec.os.isoUri"
      )
    )
  const root = goIso || imageID === "" ? undefined : parseImage(imageID, "spec.os.imageID", diags)
  const isoText = goIso ? imageID : isoUri
  const isoSource =
    isoText === ""
      ? undefined
      : parseIso(isoText, goIso ? type : "http", goIso ? "spec.os.imageID" : "spec.os.isoUri", diags)
  const iso =
    isoSource === undefined
      ? undefined
      : {
          source: isoSource,
          size: isoSize(machine, diags),
          ejected: annotations[OS_INSTALLED_ANNOTATION] === "true" || annotations[CDROM_EJECTED_ANNOTATION] === "true"
        }
  return { root, iso, networkBoot: imageID === "" && isoUri === "", diagnostics: diags }
}
