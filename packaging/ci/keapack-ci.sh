#!/bin/sh
# keapack in CI: what the GitHub Actions workflow and the GitLab CI pipeline in this directory
# run in their jobs. One job per build environment (a release on one machine architecture, from
# `keapack targets --json`) builds that environment's targets in a container of the release; a
# last job checks every job's SHA256SUMS and build record and publishes all packages.
#
#   keapack-ci.sh setup                 install what a job needs first, and keapack
#   keapack-ci.sh matrix                the build environments, one compact JSON array
#   keapack-ci.sh gitlab-pipeline       a GitLab child pipeline: one build job per environment
#   keapack-ci.sh build ENV "TARGETS"   build TARGETS into $KEAPACK_CI_OUT/ENV
#   keapack-ci.sh verify DIR...         check each build's SHA256SUMS and build record, then load
#                                       every package into the Kea it is for (keapack verify)
#   keapack-ci.sh publish DIR...        publish the packages into $KEAPACK_REPO with keapack publish
#
# Variables: KEAPACK_KEA, KEAPACK_PREMIUM (the Kea source and the overlay: tarballs or
# directories in the checkout), KEAPACK_MANIFEST (optional), KEAPACK_CONFIGURE (configure
# options, split on spaces), KEAPACK_CI_OUT (default ci-out), KEAPACK (a keapack binary to use
# instead of installing one), KEAPACK_CARGO_INSTALL (what `cargo install --locked` installs
# keapack from; default: --path . — this repository), KEAPACK_REPO (default repo),
# KEAPACK_REPO_URL, KEAPACK_SIGNING_KEY_FILE with KEAPACK_SIGNING_PASSPHRASE (or
# KEAPACK_GPG_KEY, a fingerprint in the job's keyring), KEAPACK_VERIFY_LOAD (0: skip the load
# check, e.g. on a runner that cannot be root). XDG_CACHE_HOME (default ./.cache)
# holds keapack's build cache and ccache: the CI caches it between runs.
set -eu

OUT=${KEAPACK_CI_OUT:-ci-out}
export XDG_CACHE_HOME="${XDG_CACHE_HOME:-$PWD/.cache}"

die() {
    echo "keapack-ci: $*" >&2
    exit 1
}

# The keapack to run: $KEAPACK, else the one setup installed, else the one on PATH.
keapack_bin() {
    if [ -n "${KEAPACK:-}" ]; then
        echo "$KEAPACK"
    elif [ -x "$PWD/.keapack-bin/bin/keapack" ]; then
        echo "$PWD/.keapack-bin/bin/keapack"
    elif command -v keapack >/dev/null 2>&1; then
        command -v keapack
    else
        die "no keapack: run '$0 setup' first, or set KEAPACK to a keapack binary"
    fi
}

# Install the missing ones of the given commands' packages with apt-get or dnf.
need() {
    missing=""
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
    done
    [ -n "$missing" ] || return 0
    if command -v apt-get >/dev/null 2>&1; then
        pkgs=""
        for c in $missing; do
            case $c in
                cc) pkgs="$pkgs gcc libc6-dev" ;;
                sha256sum) pkgs="$pkgs coreutils" ;;
                bwrap) pkgs="$pkgs bubblewrap" ;;
                unshare) pkgs="$pkgs util-linux" ;;
                *) pkgs="$pkgs $c" ;;
            esac
        done
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends ca-certificates $pkgs
    elif command -v dnf >/dev/null 2>&1; then
        pkgs=""
        for c in $missing; do
            case $c in
                cc) pkgs="$pkgs gcc" ;;
                sha256sum) pkgs="$pkgs coreutils" ;;
                *) pkgs="$pkgs $c" ;;
            esac
        done
        # shellcheck disable=SC2086
        dnf install -y -q $pkgs
    else
        die "cannot install$missing: neither apt-get nor dnf"
    fi
}

setup() {
    need jq sha256sum
    if [ -n "${KEAPACK:-}" ]; then
        "$KEAPACK" --version
        return
    fi
    # keapack from source with a stable Rust toolchain (rustup: the releases' own Rust is too old
    # for edition 2024 on some of them).
    need curl cc
    cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
    if ! command -v cargo >/dev/null 2>&1 && [ ! -x "$cargo_bin/cargo" ]; then
        curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
    fi
    PATH="$cargo_bin:$PATH"
    # shellcheck disable=SC2086
    cargo install --locked --root "$PWD/.keapack-bin" ${KEAPACK_CARGO_INSTALL:---path .}
    "$PWD/.keapack-bin/bin/keapack" --version
}

# The targets listing: the manifest's targets when a manifest is given, else every profile's.
targets_json() {
    if [ -n "${KEAPACK_MANIFEST:-}" ]; then
        "$(keapack_bin)" targets --json --manifest "$KEAPACK_MANIFEST"
    else
        "$(keapack_bin)" targets --json
    fi
}

matrix() {
    targets_json | jq -c '.environments'
}

# A child pipeline (JSON, which GitLab reads as YAML): the job templates, one build job per
# environment on a runner of its architecture in a container of its release, and the publish job.
gitlab_pipeline() {
    targets_json | jq '
        def runner: if .machine == "aarch64" then "saas-linux-small-arm64" else "saas-linux-small-amd64" end;
        {include: [{local: "packaging/ci/gitlab-jobs.yml"}]}
        + ([.environments[] | {key: ("build " + .name), value: {
              extends: ".keapack-build",
              image: .["container-image"],
              tags: [runner],
              variables: {KEAPACK_ENV: .name, KEAPACK_TARGETS: .targets}}}] | from_entries)
        + {publish: {extends: ".keapack-publish", needs: [.environments[] | {job: ("build " + .name), artifacts: true}]}}'
}

build() {
    [ $# -eq 2 ] || die "usage: $0 build ENVIRONMENT \"TARGETS\""
    env_name=$1
    targets=$2
    [ -n "${KEAPACK_KEA:-}" ] || die "set KEAPACK_KEA to the Kea source (kea-X.Y.Z.tar.gz or its directory)"
    [ -n "${KEAPACK_PREMIUM:-}" ] || die "set KEAPACK_PREMIUM to the premium overlay (kea-premium-X.Y.Z.tar.gz or its directory)"
    [ -n "$targets" ] || die "environment $env_name has no targets"
    bin=$(keapack_bin)
    set --
    for t in $targets; do
        set -- "$@" --target "$t"
    done
    if [ -n "${KEAPACK_MANIFEST:-}" ]; then
        set -- "$@" --manifest "$KEAPACK_MANIFEST"
    fi
    mkdir -p "$OUT"
    # Each environment's outputs in their own directory (its own SHA256SUMS and build record),
    # its events beside it. A failed build leaves its events (with the failed step's log tail).
    # shellcheck disable=SC2086
    "$bin" build --message-format json --install-deps --kea "$KEAPACK_KEA" --premium "$KEAPACK_PREMIUM" --out "$OUT/$env_name" --work "$PWD/.keapack-work/$env_name" "$@" -- ${KEAPACK_CONFIGURE:-} >"$OUT/$env_name.events.jsonl"
    tail -n 1 "$OUT/$env_name.events.jsonl"
}

verify() {
    [ $# -gt 0 ] || die "usage: $0 verify DIR..."
    inputs=""
    for d in "$@"; do
        d=${d%/}
        [ -f "$d/SHA256SUMS" ] || die "$d has no SHA256SUMS: not a keapack output directory"
        (cd "$d" && sha256sum --strict --quiet -c SHA256SUMS) || die "$d: a file does not match its SHA256SUMS"
        set -- "$d"/*.keapack-buildinfo.json
        [ -f "$1" ] || die "$d has no build record (*.keapack-buildinfo.json)"
        for record in "$@"; do
            grep -q "  ${record##*/}\$" "$d/SHA256SUMS" || die "$record is not in $d/SHA256SUMS"
            # Every output the record lists is there, with its digest and size.
            jq -r '.outputs[] | "\(.sha256)  \(.file)"' "$record" | (cd "$d" && sha256sum --strict --quiet -c -) ||
                die "$d: a package differs from its build record $record"
            jq -r '.outputs[] | "\(.size) \(.file)"' "$record" | while read -r size file; do
                [ "$(wc -c <"$d/$file")" -eq "$size" ] || die "$d/$file: size differs from its build record"
            done
            # One set of inputs for every job: the repository holds one build of one Kea.
            these=$(jq -c '[.inputs[] | {role, sha256}]' "$record")
            [ -z "$inputs" ] || [ "$inputs" = "$these" ] || die "$record was built from other inputs than the other jobs' ($these, not $inputs)"
            inputs=$these
        done
        # Every package in the directory is one a record lists.
        for p in "$d"/*.deb "$d"/*.rpm; do
            [ -e "$p" ] || continue
            name=${p##*/}
            jq -s -e --arg f "$name" 'any(.[].outputs[]; .file == $f)' "$d"/*.keapack-buildinfo.json >/dev/null ||
                die "$p is in no build record"
        done
        echo "keapack-ci: $d verified"
    done
}

# Before anything is signed: each package of the directories installed in a root of its
# release (made with debootstrap, cached in $XDG_CACHE_HOME) and loaded by the Kea it is for.
# It needs root. (A function of its own: verify's `set --` replaced its arguments.)
load_check() {
    [ "${KEAPACK_VERIFY_LOAD:-1}" != 0 ] || return 0
    need debootstrap bwrap unshare
    bin=$(keapack_bin)
    as_root=""
    [ "$(id -u)" -eq 0 ] || as_root="sudo -E"
    $as_root "$bin" verify --message-format json --work "$PWD/.keapack-work/verify" "$@" >"$OUT/verify.events.jsonl" ||
        { tail -n 3 "$OUT/verify.events.jsonl" >&2; die "a package did not load into its Kea (keapack verify; events in $OUT/verify.events.jsonl)"; }
    jq -r 'select(.event == "load-verified") | "keapack-ci: \(.target): " + (if .verified then "loaded by " + ([.daemons[] | .daemon + " " + .version] | join(", ")) else "not verified: " + ."not-verified" end)' "$OUT/verify.events.jsonl"
}

publish() {
    [ $# -gt 0 ] || die "usage: $0 publish DIR..."
    set -- --repo "${KEAPACK_REPO:-repo}" "$@"
    if [ -n "${KEAPACK_REPO_URL:-}" ]; then
        set -- --url "$KEAPACK_REPO_URL" "$@"
    fi
    if [ -n "${KEAPACK_GPG_KEY:-}" ]; then
        set -- --gpg-key "$KEAPACK_GPG_KEY" "$@"
    elif [ -n "${KEAPACK_SIGNING_KEY_FILE:-}" ]; then
        set -- --key-file "$KEAPACK_SIGNING_KEY_FILE" --passphrase-env KEAPACK_SIGNING_PASSPHRASE "$@"
    else
        die "set KEAPACK_SIGNING_KEY_FILE (and KEAPACK_SIGNING_PASSPHRASE) or KEAPACK_GPG_KEY: the repositories are signed"
    fi
    "$(keapack_bin)" publish --message-format json "$@"
}

[ $# -gt 0 ] || die "usage: $0 setup|matrix|gitlab-pipeline|build|verify|publish"
cmd=$1
shift
case $cmd in
    setup) setup ;;
    matrix) matrix ;;
    gitlab-pipeline) gitlab_pipeline ;;
    build) build "$@" ;;
    verify) verify "$@" && load_check "$@" ;;
    publish) publish "$@" ;;
    *) die "unknown command '$cmd': use setup, matrix, gitlab-pipeline, build, verify or publish" ;;
esac
