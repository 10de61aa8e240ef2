/**
 * The DNS-1123 name rules the apiserver applies to object names, in one place for the planner (which reports a bad
 * name as a diagnostic) and the in-memory cluster (which refuses it as the apiserver would). Domain layer: pure.
 */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

/** A DNS-1123 label (namespaces, most names inside a VM): the pattern, at most 63 characters. */
export const isDnsLabel = (s: string): boolean => DNS_LABEL.test(s) && s.length <= 63

/** A DNS-1123 subdomain as the apiserver checks object names: the pattern, at most 253 characters. */
export const isDnsSubdomain = (s: string): boolean => DNS_SUBDOMAIN.test(s) && s.length <= 253
