/**
 * What an apiserver serves, as API discovery reports it: the versions of an API group and the resources in each.
 * Domain layer: pure data. The cluster service answers it (`KubeApi.discover`); the health of a remote cluster (the
 * served versions of the VirtualMachine and DataVolume CRDs) and the supervisor's CRD check read it.
 */

/** One resource served in a group version (discovery's APIResource; subresources such as `x/status` left out). */
export interface ServedResource {
  /** The plural, as in URLs: `virtualmachines`. */
  readonly name: string
  readonly kind: string
  readonly namespaced: boolean
}

/** One served version of an API group and its resources. */
export interface ServedVersion {
  readonly version: string
  readonly resources: ReadonlyArray<ServedResource>
}

/** The versions of `group` that serve `resource`, in the server's order (its preferred version first). */
export const versionsServing = (served: ReadonlyArray<ServedVersion>, resource: string): ReadonlyArray<string> =>
  served.filter((v) => v.resources.some((r) => r.name === resource)).map((v) => v.version)

/** Resources a program needs served at one group version. */
export interface RequiredResources {
  readonly group: string
  readonly version: string
  readonly resources: ReadonlyArray<string>
}

/**
 * Which of `required` the server does not serve, as `plural.group/version` (`machines.vitistack.io/v1alpha1`), given
 * what discovery found for the group (undefined: the group is not served at all).
 */
export const missingResources = (
  required: RequiredResources,
  served: ReadonlyArray<ServedVersion> | undefined
): ReadonlyArray<string> => {
  const version = served?.find((v) => v.version === required.version)
  return required.resources
    .filter((r) => version === undefined || !version.resources.some((x) => x.name === r))
    .map((r) => `${r}.${required.group}/${required.version}`)
}
