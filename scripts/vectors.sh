#!/usr/bin/env bash
# Fetches the public conformance vectors (third-party test data the conformance tests read) from
# their upstream repositories, checks every file against scripts/vectors.lock, and lays them out
# with the layout of ../shared/vectors in a cache directory the tests find by themselves.
#
#   bash scripts/vectors.sh            fetch (or confirm an existing verified cache) and verify
#
# Needs bash, git and sha256sum. Nothing else is downloaded: each repository is fetched at the
# commit scripts/vectors.lock names, shallowly (depth 1, blobs only for the listed paths where the
# server supports partial clone), and only the listed files are kept.
#
# Environment:
#   FEDKIT_VECTORS_CACHE   where to put the vectors (default: <workspace>/target/vectors)
#   FEDKIT_VECTORS_GIT     git base URL; repositories are <base>/<owner>/<name>.git
#                          (default https://github.com; an offline mirror: file:///mirrors)
#   FEDKIT_VECTORS_ANY_COMMIT=1
#                          TEST ONLY, accepted only with a file:// base: fetch the mirror's HEAD
#                          instead of the pinned commit (throwaway test mirrors cannot recreate
#                          upstream commit ids). The SHA-256 table still decides every file.
#
#   FEDKIT_VECTORS_META    a directory with the shared/vectors layout holding the files that
#                          were written beside the upstream data, not fetched from anywhere
#                          (each folder's README.md and manifest.json with the expected verdicts,
#                          the top README.md, xmlsec-c14n's derived/ outputs); default
#                          ../shared/vectors. They are not committed here: they belong to the
#                          vectors folder they were written for. Files of the lock found there
#                          are ignored (those are always fetched).
# A complete cache is marked by .fedkit-vectors-verified (a digest of the lock and of those
# files); when it matches and every file still verifies, nothing is fetched.
# Any SHA-256 mismatch or missing file is a hard failure naming the file; the previous cache is
# then left untouched and no partial cache is ever marked verified.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
lock="$root/scripts/vectors.lock"
local_dir="${FEDKIT_VECTORS_META:-$root/../shared/vectors}"
cache="${FEDKIT_VECTORS_CACHE:-$root/target/vectors}"
base="${FEDKIT_VECTORS_GIT:-https://github.com}"
base="${base%/}"
any_commit="${FEDKIT_VECTORS_ANY_COMMIT:-}"
stamp_name=".fedkit-vectors-verified"

die() {
  echo "vectors.sh: $*" >&2
  exit 1
}

command -v git >/dev/null || die "git is not installed; it is needed to fetch the vectors"
command -v sha256sum >/dev/null || die "sha256sum is not installed (coreutils)"
[ -f "$lock" ] || die "$lock is missing"
[ -d "$local_dir" ] || die "the manifests and READMEs written beside the vectors are not in $local_dir: set FEDKIT_VECTORS_META to a directory with the shared/vectors layout that holds them (only the upstream files are fetched)"

if [ -n "$any_commit" ]; then
  [ "$any_commit" = 1 ] || die "FEDKIT_VECTORS_ANY_COMMIT must be 1 or unset (got '$any_commit')"
  case "$base" in
    file://*) ;;
    *) die "FEDKIT_VECTORS_ANY_COMMIT=1 is for tests against local file:// mirrors only; FEDKIT_VECTORS_GIT is '$base'. Unset FEDKIT_VECTORS_ANY_COMMIT to fetch the pinned commits" ;;
  esac
fi

# --- the lock: repo lines and file lines -------------------------------------------------------
declare -A commit_of=()
repos=()
files=() # "sha dest repo path" per file
while read -r a b c d extra; do
  case "$a" in
    '' | '#'*) continue ;;
    repo)
      [ -n "$b" ] && [ -n "$c" ] && [ -z "$d" ] || die "$lock: malformed repo line: repo $b $c $d"
      commit_of[$b]=$c
      repos+=("$b")
      ;;
    *)
      [[ "$a" =~ ^[0-9a-f]{64}$ ]] && [ -n "$d" ] && [ -z "$extra" ] ||
        die "$lock: malformed line: $a $b $c $d $extra"
      [ -n "${commit_of[$c]:-}" ] || die "$lock: $b comes from $c, which has no repo line above it"
      files+=("$a $b $c $d")
      ;;
  esac
done <"$lock"
[ "${#files[@]}" -gt 0 ] || die "$lock lists no files"

# The files of $local_dir that are not upstream files of the lock (nor a cache mark), relative.
declare -A locked=()
for entry in "${files[@]}"; do
  read -r _ dest _ _ <<<"$entry"
  locked[$dest]=1
done
project=()
while IFS= read -r rel; do
  rel=${rel#./}
  [ -n "${locked[$rel]:-}" ] || [ "$rel" = "$stamp_name" ] || project+=("$rel")
done < <(cd "$local_dir" && find . -type f | LC_ALL=C sort)
[ "${#project[@]}" -gt 0 ] || die "$local_dir holds no manifests or READMEs besides the upstream files"

# What a verified cache must match: the lock and the project-written files.
fingerprint() {
  {
    sha256sum "$lock" | cut -d' ' -f1
    (cd "$local_dir" && printf '%s\n' "${project[@]}" | xargs -d '\n' sha256sum)
  } | sha256sum | cut -d' ' -f1
}
want_stamp=$(fingerprint)

# Checks a laid-out directory: every locked file and every project-written file. Prints one line
# per problem; returns non-zero when there is any.
verify_dir() {
  local dir=$1 bad=0 entry sha dest repo path actual rel
  for entry in "${files[@]}"; do
    read -r sha dest repo path <<<"$entry"
    if [ ! -f "$dir/$dest" ]; then
      echo "  $dest: missing (upstream $repo $path at ${commit_of[$repo]})"
      bad=1
      continue
    fi
    actual=$(sha256sum <"$dir/$dest" | cut -d' ' -f1)
    if [ "$actual" != "$sha" ]; then
      echo "  $dest: SHA-256 is $actual, scripts/vectors.lock expects $sha (upstream $repo $path)"
      bad=1
    fi
  done
  for rel in "${project[@]}"; do
    if [ ! -f "$dir/$rel" ] ||
      [ "$(sha256sum <"$local_dir/$rel")" != "$(sha256sum <"$dir/$rel")" ]; then
      echo "  $rel: missing or different from $local_dir/$rel"
      bad=1
    fi
  done
  return $bad
}

if [ -f "$cache/$stamp_name" ] && [ "$(cat "$cache/$stamp_name")" = "$want_stamp" ]; then
  if problems=$(verify_dir "$cache"); then
    echo "vectors.sh: $cache is complete and verified (${#files[@]} upstream files); nothing to fetch"
    exit 0
  fi
  echo "vectors.sh: $cache was modified since it was verified; fetching again:" >&2
  echo "$problems" >&2
fi

# --- fetch ---------------------------------------------------------------------------------------
mkdir -p "$(dirname "$cache")"
work=$(mktemp -d "$(dirname "$cache")/.vectors-work.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage="$work/stage"
mkdir -p "$stage"

for repo in "${repos[@]}"; do
  commit=${commit_of[$repo]}
  checkout="$work/src/$repo"
  url="$base/$repo.git"
  git init -q "$checkout"
  git -C "$checkout" remote add origin "$url"
  # Check out only the listed paths (no-cone sparse patterns, anchored at the top).
  git -C "$checkout" config core.sparseCheckout true
  git -C "$checkout" config core.sparseCheckoutCone false
  for entry in "${files[@]}"; do
    read -r _ _ r path <<<"$entry"
    [ "$r" = "$repo" ] && echo "/$path"
  done >"$checkout/.git/info/sparse-checkout"
  ref=$commit
  [ -n "$any_commit" ] && ref=HEAD
  echo "vectors.sh: fetching $repo at $ref from $url"
  git -C "$checkout" fetch -q --depth 1 --filter=blob:none origin "$ref" ||
    die "could not fetch $repo at $ref from $url (is the network reachable? a mirror given as FEDKIT_VECTORS_GIT must hold <owner>/<name>.git)"
  got=$(git -C "$checkout" rev-parse FETCH_HEAD)
  if [ -z "$any_commit" ] && [ "$got" != "$commit" ]; then
    die "$url answered commit $got for $commit"
  fi
  git -C "$checkout" -c advice.detachedHead=false checkout -q FETCH_HEAD ||
    die "could not check out $repo at $got"
done

for entry in "${files[@]}"; do
  read -r _ dest repo path <<<"$entry"
  src="$work/src/$repo/$path"
  # A missing source is reported by verify_dir below, with the commit.
  [ -e "$src" ] || continue
  mkdir -p "$(dirname "$stage/$dest")"
  # -L: an upstream symlink (gosaml2's adfs_sp_*.pem) is stored as a copy of its target.
  cp -L "$src" "$stage/$dest" 2>/dev/null || true
done
for rel in "${project[@]}"; do
  mkdir -p "$(dirname "$stage/$rel")"
  cp "$local_dir/$rel" "$stage/$rel"
done
if ! problems=$(verify_dir "$stage"); then
  {
    echo "vectors.sh: the fetched vectors do not match scripts/vectors.lock; $cache was left as it was:"
    echo "$problems"
  } >&2
  exit 1
fi

echo "$want_stamp" >"$stage/$stamp_name"
# Replace the old cache only if it is one (never delete a directory this script did not make).
if [ -e "$cache" ]; then
  if [ -f "$cache/$stamp_name" ]; then
    rm -rf "$cache"
  elif [ -d "$cache" ] && [ -z "$(ls -A "$cache")" ]; then
    rmdir "$cache"
  else
    die "$cache exists and is not a vectors cache (no $stamp_name); remove it or set FEDKIT_VECTORS_CACHE elsewhere"
  fi
fi
mv "$stage" "$cache"
echo "vectors.sh: ${#files[@]} upstream files verified against scripts/vectors.lock; vectors in $cache"
