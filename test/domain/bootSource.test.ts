/**
 * What a Machine boots from: image URLs, container images and DataSources for the boot disk; installer ISOs from
 * `spec.os.isoUri` or the Go operator's annotations; network boot otherwise; bad values name the field.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  BOOT_SOURCE_ANNOTATION,
  BOOT_SOURCE_TYPE_ANNOTATION,
  bootSourceOf,
  ISO_SIZE_ANNOTATION,
  OS_INSTALLED_ANNOTATION
} from "../../src/domain/bootSource.ts"
import { aMachine } from "../fixtures/aMachine.ts"

const os = (o: { imageID?: string; isoUri?: string }) => aMachine().withSpec({ os: o })

describe("bootSourceOf", () => {
  const cases = [
    {
      name: "NeitherImageNorIsoBootsFromTheNetwork",
      machine: aMachine(),
      want: { root: undefined, iso: undefined, networkBoot: true, errors: [] }
    },
    {
      name: "HttpImageIsTheBootDisk",
      machine: os({ imageID: "https://images.example/noble.qcow2.xz" }),
      want: {
        root: { _tag: "Http", url: "https://images.example/noble.qcow2.xz" },
        iso: undefined,
        networkBoot: false,
        errors: []
      }
    },
    {
      name: "DockerImageIsImportedFromTheRegistry",
      machine: os({ imageID: "docker://quay.io/containerdisks/fedora:41" }),
      want: {
        root: { _tag: "Registry", url: "docker://quay.io/containerdisks/fedora:41" },
        iso: undefined,
        networkBoot: false,
        errors: []
      }
    },
    {
      name: "DataSourceIsCloned",
      machine: os({ imageID: "datasource:golden-images/ubuntu-2404" }),
      want: {
        root: { _tag: "DataSource", namespace: "golden-images", name: "ubuntu-2404" },
        iso: undefined,
        networkBoot: false,
        errors: []
      }
    },
    {
      name: "IsoUriAddsACdromBehindABlankDisk",
      machine: os({ isoUri: "https://cdimage.example/debian.iso" }),
      want: {
        root: undefined,
        iso: { source: { _tag: "Http", url: "https://cdimage.example/debian.iso" }, size: undefined, ejected: false },
        networkBoot: false,
        errors: []
      }
    },
    {
      name: "GoAnnotationsMakeImageIdTheIso",
      machine: os({ imageID: "registry.example/isos/talos:1.11" })
        .annotated(BOOT_SOURCE_ANNOTATION, "datavolume")
        .annotated(BOOT_SOURCE_TYPE_ANNOTATION, "registry")
        .annotated(ISO_SIZE_ANNOTATION, "2Gi")
        .annotated(OS_INSTALLED_ANNOTATION, "true"),
      want: {
        root: undefined,
        iso: {
          source: { _tag: "Registry", url: "docker://registry.example/isos/talos:1.11" },
          size: "2Gi",
          ejected: true
        },
        networkBoot: false,
        errors: []
      }
    },
    {
      name: "UnsupportedImageSchemeIsAnError",
      machine: os({ imageID: "ftp://old.example/img" }),
      want: { root: undefined, iso: undefined, networkBoot: false, errors: ["InvalidImage spec.os.imageID"] }
    },
    {
      name: "MalformedDataSourceIsAnError",
      machine: os({ imageID: "datasource:Golden/Ubuntu/x" }),
      want: { root: undefined, iso: undefined, networkBoot: false, errors: ["InvalidImage spec.os.imageID"] }
    },
    {
      name: "BadIsoSizeIsAnError",
      machine: os({ isoUri: "https://cdimage.example/debian.iso" }).annotated(ISO_SIZE_ANNOTATION, "-2Gi"),
      want: {
        root: undefined,
        iso: { source: { _tag: "Http", url: "https://cdimage.example/debian.iso" }, size: undefined, ejected: false },
        networkBoot: false,
        errors: [`InvalidIsoSize metadata.annotations[${ISO_SIZE_ANNOTATION}]`]
      }
    },
    {
      name: "IsoUriAndGoAnnotationTogetherIsAnError",
      machine: os({ imageID: "https://a.example/x.iso", isoUri: "https://b.example/y.iso" }).annotated(
        BOOT_SOURCE_ANNOTATION,
        "datavolume"
      ),
      want: {
        root: undefined,
        iso: { source: { _tag: "Http", url: "https://a.example/x.iso" }, size: undefined, ejected: false },
        networkBoot: false,
        errors: ["InvalidIso spec.os.isoUri"]
      }
    }
  ] as const

  it.each(cases)("$name", ({ machine, want }) => {
    const got = bootSourceOf(machine.build())
    assert.deepStrictEqual(
      {
        root: got.root,
        iso: got.iso,
        networkBoot: got.networkBoot,
        errors: got.diagnostics.filter((d) => d.severity === "Error").map((d) => `${d.reason} ${d.field}`)
      } as unknown,
      want
    )
  })
})
