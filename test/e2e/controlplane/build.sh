#!/usr/bin/env bash
# Builds the pinned kube-apiserver and etcd used by the e2e control plane
# harness (test/support/controlplane.ts) from the Go module proxy, using the
# wrapper modules beside this script (their go.mod/go.sum pin every dependency).
#
# Binaries go to ${KRE_CACHE_DIR:-$HOME/.cache/kube-rbac-extauthz}/bin/<name>-<version>/<name>
# and are only built when missing, so running this again is cheap (no Go call).
# Each build goes to a temporary directory that is renamed into place, so an
# interrupted build never leaves a half-written binary behind, and a lock keeps
# parallel test processes from building the same thing twice.
#
# Output (stdout), one per line, for the harness to parse:
#   kube-apiserver=/abs/path/to/kube-apiserver
#   etcd=/abs/path/to/etcd
# Progress and build logs go to stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache_dir="${KRE_CACHE_DIR:-${HOME}/.cache/kube-rbac-extauthz}"
bin_root="${cache_dir}/bin"

# The versions come from the wrapper go.mod files, so they are pinned in one place.
module_version() { # <go.mod> <module path>
  awk -v m="$2" '($1 == m) { print $2 } ($1 == "require" && $2 == m) { print $3 }' "$1" | head -n1
}
kube_version="$(module_version "${here}/kube-apiserver/go.mod" k8s.io/kubernetes)"
etcd_version="$(module_version "${here}/etcd/go.mod" go.etcd.io/etcd/server/v3)"
[[ -n "${kube_version}" && -n "${etcd_version}" ]] || {
  echo "build.sh: cannot read pinned versions from the wrapper go.mod files" >&2
  exit 1
}

kube_bin="${bin_root}/kube-apiserver-${kube_version}/kube-apiserver"
etcd_bin="${bin_root}/etcd-${etcd_version}/etcd"

# build <final binary path> <wrapper module dir> <package> [go build flags...]
build() {
  local out="$1" moddir="$2" pkg="$3"
  shift 3
  [[ -x "${out}" ]] && return 0
  local final_dir tmp_dir start
  final_dir="$(dirname "${out}")"
  tmp_dir="$(mktemp -d "${bin_root}/.tmp-$(basename "${final_dir}").XXXXXX")"
  # shellcheck disable=SC2064 # expand now: tmp_dir is local
  trap "rm -rf '${tmp_dir}'" EXIT
  chmod 755 "${tmp_dir}" # mktemp makes it 0700
  start=${SECONDS}
  echo "build.sh: building ${pkg} into ${final_dir} (this can take several minutes)" >&2
  (
    cd "${moddir}"
    # GOWORK=off: never pick up a go.work from a parent directory.
    # CGO_ENABLED=0: static binaries, no C toolchain needed (upstream does the same).
    # -mod=readonly: go.mod/go.sum are committed; fail instead of silently changing them.
    GOWORK=off CGO_ENABLED=0 go build -mod=readonly -trimpath -o "${tmp_dir}/$(basename "${out}")" "$@" "${pkg}"
  ) >&2
  # Renaming the directory is atomic. We hold the lock and the binary is missing,
  # so whatever is at final_dir is a broken leftover.
  rm -rf "${final_dir}"
  mv -T "${tmp_dir}" "${final_dir}"
  trap - EXIT
  echo "build.sh: built ${out} in $((SECONDS - start))s" >&2
}

if [[ ! -x "${kube_bin}" || ! -x "${etcd_bin}" ]]; then
  command -v go >/dev/null || {
    echo "build.sh: Go is required to build kube-apiserver and etcd" >&2
    exit 1
  }
  mkdir -p "${bin_root}"
  # Serialize builds across concurrent callers (e.g. parallel test files).
  exec 9>"${bin_root}/.build.lock"
  flock 9

  minor="${kube_version#v1.}"
  minor="${minor%%.*}"
  # Same version stamping and tags as kubernetes' hack/lib/golang.sh, so
  # /version reports the real release rather than v0.0.0-master.
  kube_ldflags="-s -w"
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    kube_ldflags+=" -X ${pkg}.gitVersion=${kube_version} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${minor}"
    kube_ldflags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=1970-01-01T00:00:00Z"
  done
  build "${kube_bin}" "${here}/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver \
    -tags=selinux,notest,grpcnotrace "-ldflags=${kube_ldflags}"
  build "${etcd_bin}" "${here}/etcd" go.etcd.io/etcd/server/v3 "-ldflags=-s -w"
fi

echo "kube-apiserver=${kube_bin}"
echo "etcd=${etcd_bin}"
