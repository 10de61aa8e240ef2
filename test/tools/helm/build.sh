#!/usr/bin/env bash
# Builds `helm` (helm.sh/helm/v4, the version pinned in go.mod) from its Go module and caches it by content hash
# outside the repo, like test/cluster/build.sh does for kcluster. No prebuilt binary is downloaded: the Go module
# proxy serves the source, checked against the committed go.sum.
# The last line on stdout is the directory holding `helm`.
#   HELM_TOOL_CACHE  cache root (default: $HOME/.cache/kubevirt-operator/helm)
#   HELM_TOOL_FORCE=1 rebuild even on a cache hit
set -euo pipefail
cd "$(dirname "$0")"

GO_BIN="${GO:-}"
if [ -z "$GO_BIN" ]; then
  if command -v go >/dev/null 2>&1; then GO_BIN=$(command -v go)
  elif [ -x /usr/local/go/bin/go ]; then GO_BIN=/usr/local/go/bin/go
  else echo "build.sh: no Go toolchain found (set GO=/path/to/go)" >&2; exit 1; fi
fi
export GOTOOLCHAIN=local CGO_ENABLED=0
# Build against the committed go.sum; never let a build rewrite go.mod.
export GOFLAGS="-mod=readonly ${GOFLAGS:-}"

VERSION=$(awk '$1 == "helm.sh/helm/v4" { print $2 }' go.mod)
if [ -z "$VERSION" ]; then echo "build.sh: go.mod does not require helm.sh/helm/v4" >&2; exit 1; fi
# As helm's own Makefile sets them, so `helm version` names the release.
LD="-s -w -X helm.sh/helm/v4/internal/version.version=$VERSION -X helm.sh/helm/v4/internal/version.gitTreeState=clean"

KEY=$( ("$GO_BIN" version; echo "$LD"; cat build.sh go.mod go.sum) | sha256sum | cut -c1-16)
ROOT="${HELM_TOOL_CACHE:-$HOME/.cache/kubevirt-operator/helm}"
OUT="$ROOT/$KEY"

if [ -x "$OUT/helm" ] && [ "${HELM_TOOL_FORCE:-0}" != 1 ]; then
  echo "$OUT"
  exit 0
fi

mkdir -p "$ROOT"
# Serialise concurrent builds (CI and a test run, say).
exec 9>"$ROOT/.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if [ -x "$OUT/helm" ] && [ "${HELM_TOOL_FORCE:-0}" != 1 ]; then
  echo "$OUT"
  exit 0
fi

echo "build.sh: building helm $VERSION into $OUT (a cold build takes a few minutes)" >&2
TMP="$ROOT/.tmp-$KEY-$$"
rm -rf "$TMP"; mkdir -p "$TMP"
trap 'rm -rf "$TMP"' EXIT
"$GO_BIN" mod download >&2
# -p 2: two parallel compiles keep peak memory moderate on 2-core machines.
"$GO_BIN" build -p "${HELM_TOOL_BUILD_PARALLEL:-2}" -trimpath -ldflags "$LD" -o "$TMP/helm" helm.sh/helm/v4/cmd/helm >&2
rm -rf "$OUT"
mv "$TMP" "$OUT"
trap - EXIT
# keep only the 3 newest builds
ls -1dt "$ROOT"/*/ 2>/dev/null | tail -n +4 | xargs -r rm -rf
echo "$OUT"
