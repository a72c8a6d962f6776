#!/usr/bin/env bash
# Offline test of scripts/vectors.sh: builds throwaway git repositories that reproduce the
# upstream paths of scripts/vectors.lock from an existing vectors root, serves them as a
# file:// mirror, and checks what the script does with them:
#   - a clean fetch lays out exactly the files of the vectors root (byte for byte);
#   - a second run with an unreachable mirror succeeds without fetching (complete, verified cache);
#   - a cache file modified afterwards is noticed and fetched again;
#   - a tampered upstream file fails, naming the file and both hashes, and writes no cache;
#   - a file missing upstream fails, naming it;
#   - the pinned commit is enforced (without FEDKIT_VECTORS_ANY_COMMIT the mirror's made-up
#     commits are refused), and FEDKIT_VECTORS_ANY_COMMIT=1 is refused with a non-file:// base.
# The GitHub path itself (real upstream commits over https) cannot be exercised offline.
#
#   bash scripts/vectors-selftest.sh VECTORS_ROOT
#
# Run by fedkit-conformance's `vectors_script_against_local_mirrors` test with the vectors root it
# found. Needs bash, git, sha256sum; writes only under a fresh temporary directory (kept for
# inspection when KEEP_TMP=1).
set -euo pipefail

src=${1:?usage: bash scripts/vectors-selftest.sh VECTORS_ROOT (a directory with the shared/vectors layout)}
src=$(cd "$src" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
lock="$root/scripts/vectors.lock"
script="$root/scripts/vectors.sh"
tmp=$(mktemp -d)
trap '[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"' EXIT

failures=0
pass() { echo "ok: $*"; }
fail() {
  echo "FAILED: $*" >&2
  failures=$((failures + 1))
}

# Runs vectors.sh with the given environment assignments; output in $tmp/out, $tmp/err.
run() {
  env -u FEDKIT_VECTORS_GIT -u FEDKIT_VECTORS_CACHE -u FEDKIT_VECTORS_ANY_COMMIT \
    FEDKIT_VECTORS_META="$src" GIT_CONFIG_NOSYSTEM=1 "$@" bash "$script" >"$tmp/out" 2>"$tmp/err"
}

git_q() { git -c user.name=selftest -c user.email=selftest@invalid -c init.defaultBranch=main "$@"; }

# --- mirrors: one repository per `repo` line, holding the listed files at their upstream paths ----
mirrors="$tmp/mirrors"
while read -r a b c _; do
  [ "$a" = repo ] || continue
  work="$tmp/build/$b"
  git_q init -q "$work"
  while read -r sha dest r path; do
    [[ "$sha" =~ ^[0-9a-f]{64}$ ]] && [ "$r" = "$b" ] || continue
    mkdir -p "$(dirname "$work/$path")"
    case "$path" in
      # upstream keeps these four as symlinks to the oktaenc_sp_* files
      providertests/testdata/adfs_sp_*.pem)
        ln -s "$(basename "${path/adfs_sp_/oktaenc_sp_}")" "$work/$path"
        ;;
      *) cp "$src/$dest" "$work/$path" ;;
    esac
  done <"$lock"
  echo "not a vector; must not be copied" >"$work/UNRELATED.txt"
  git_q -C "$work" add -A
  git_q -C "$work" commit -q -m "mirror of $b for the vectors.sh self-test (stands for $c)"
  git_q clone -q --bare "$work" "$mirrors/$b.git"
  git -C "$mirrors/$b.git" config uploadpack.allowFilter true
  git -C "$mirrors/$b.git" config uploadpack.allowAnySHA1InWant true
done <"$lock"

# Compares a cache with the vectors root: same files, same bytes.
same_as_src() {
  diff -r --exclude=.fedkit-vectors-verified "$src" "$1" >"$tmp/diff" 2>&1
}

# 1. clean fetch
cache="$tmp/cache"
if run FEDKIT_VECTORS_GIT="file://$mirrors" FEDKIT_VECTORS_ANY_COMMIT=1 FEDKIT_VECTORS_CACHE="$cache"; then
  if same_as_src "$cache"; then
    pass "a clean fetch from the mirror lays out exactly the vectors root"
  else
    fail "the fetched cache differs from $src: $(head -5 "$tmp/diff")"
  fi
  [ -L "$cache/gosaml2/adfs_sp_encryption_key.pem" ] && fail "an upstream symlink was copied as a symlink"
  [ -f "$cache/.fedkit-vectors-verified" ] || fail "no .fedkit-vectors-verified after a clean fetch"
else
  fail "clean fetch failed: $(cat "$tmp/err")"
fi

# 2. idempotent: a verified cache is not fetched again (the mirror URL does not even exist)
if run FEDKIT_VECTORS_GIT="file://$tmp/nowhere" FEDKIT_VECTORS_CACHE="$cache" &&
  grep -q "nothing to fetch" "$tmp/out"; then
  pass "a complete, verified cache is not fetched again"
else
  fail "second run on a verified cache: $(cat "$tmp/out" "$tmp/err")"
fi

# 3. a cache file modified after verification is noticed and fetched again
printf 'x' >>"$cache/gosaml2/okta_response.xml"
if run FEDKIT_VECTORS_GIT="file://$mirrors" FEDKIT_VECTORS_ANY_COMMIT=1 FEDKIT_VECTORS_CACHE="$cache" &&
  grep -q "gosaml2/okta_response.xml: SHA-256 is" "$tmp/err" && same_as_src "$cache"; then
  pass "a modified cache file is noticed and fetched again"
else
  fail "modified cache: $(cat "$tmp/out" "$tmp/err")"
fi

# 4. a tampered upstream file fails, naming the file, the expected and the actual hash
tampered="$tmp/mirrors-tampered"
cp -R "$mirrors" "$tampered"
git_q clone -q "$tampered/russellhaering/gosaml2.git" "$tmp/t1"
printf ' ' >>"$tmp/t1/providertests/testdata/auth0_response.xml"
git_q -C "$tmp/t1" commit -q -am "tamper"
git_q -C "$tmp/t1" push -q origin HEAD
expected=$(awk '$2 == "gosaml2/auth0_response.xml" { print $1 }' "$lock")
actual=$(sha256sum <"$tmp/t1/providertests/testdata/auth0_response.xml" | cut -d' ' -f1)
if run FEDKIT_VECTORS_GIT="file://$tampered" FEDKIT_VECTORS_ANY_COMMIT=1 FEDKIT_VECTORS_CACHE="$tmp/cache-t"; then
  fail "a tampered upstream file was accepted"
elif grep -q "gosaml2/auth0_response.xml: SHA-256 is $actual, scripts/vectors.lock expects $expected" "$tmp/err" &&
  [ ! -e "$tmp/cache-t" ]; then
  pass "a tampered upstream file fails, naming it and both hashes, and writes no cache"
else
  fail "tampered file: wrong message or a cache was written: $(cat "$tmp/err")"
fi

# 5. a file missing upstream fails, naming it
missing="$tmp/mirrors-missing"
cp -R "$mirrors" "$missing"
git_q clone -q "$missing/SAML-Toolkits/ruby-saml.git" "$tmp/t2"
git_q -C "$tmp/t2" rm -q test/metadata/idp_descriptor.xml
git_q -C "$tmp/t2" commit -q -m "remove"
git_q -C "$tmp/t2" push -q origin HEAD
if run FEDKIT_VECTORS_GIT="file://$missing" FEDKIT_VECTORS_ANY_COMMIT=1 FEDKIT_VECTORS_CACHE="$tmp/cache-m"; then
  fail "a missing upstream file was accepted"
elif grep -q "idp-metadata/ruby-saml/test__metadata__idp_descriptor.xml: missing" "$tmp/err" &&
  [ ! -e "$tmp/cache-m" ]; then
  pass "a file missing upstream fails, naming it"
else
  fail "missing file: wrong message or a cache was written: $(cat "$tmp/err")"
fi

# 5b. a failed fetch leaves an existing cache as it was
printf 'y' >>"$cache/gosaml2/okta_cert.pem"
if run FEDKIT_VECTORS_GIT="file://$tampered" FEDKIT_VECTORS_ANY_COMMIT=1 FEDKIT_VECTORS_CACHE="$cache"; then
  fail "a modified cache with a tampered mirror was accepted"
elif grep -q "left as it was" "$tmp/err" && [ -f "$cache/.fedkit-vectors-verified" ]; then
  pass "a failed fetch does not replace the cache"
else
  fail "failed fetch over a cache: $(cat "$tmp/err")"
fi

# 6. the pinned commit is enforced: the mirror's commits are not upstream's
if run FEDKIT_VECTORS_GIT="file://$mirrors" FEDKIT_VECTORS_CACHE="$tmp/cache-p"; then
  fail "the mirror's HEAD was accepted in place of the pinned commit"
elif grep -q "could not fetch $(awk '$1 == "repo" { print $2 " at " $3; exit }' "$lock")" "$tmp/err"; then
  pass "without FEDKIT_VECTORS_ANY_COMMIT only the pinned commit is fetched"
else
  fail "pinned commit: $(cat "$tmp/err")"
fi

# 7. FEDKIT_VECTORS_ANY_COMMIT is refused unless the base is file://
if run FEDKIT_VECTORS_GIT="https://github.com" FEDKIT_VECTORS_ANY_COMMIT=1 FEDKIT_VECTORS_CACHE="$tmp/cache-h"; then
  fail "FEDKIT_VECTORS_ANY_COMMIT=1 was accepted with an https base"
elif grep -q "for tests against local file:// mirrors only" "$tmp/err"; then
  pass "FEDKIT_VECTORS_ANY_COMMIT=1 is refused with a non-file:// base"
else
  fail "ANY_COMMIT guard: $(cat "$tmp/err")"
fi

# 8. never deletes a directory it did not make
mkdir -p "$tmp/not-a-cache" && echo keep >"$tmp/not-a-cache/file"
if run FEDKIT_VECTORS_GIT="file://$mirrors" FEDKIT_VECTORS_ANY_COMMIT=1 FEDKIT_VECTORS_CACHE="$tmp/not-a-cache"; then
  fail "replaced a directory that is not a vectors cache"
elif [ -f "$tmp/not-a-cache/file" ] && grep -q "is not a vectors cache" "$tmp/err"; then
  pass "a directory that is not a vectors cache is left alone"
else
  fail "non-cache directory: $(cat "$tmp/err")"
fi

if [ "$failures" -gt 0 ]; then
  echo "vectors-selftest: $failures check(s) failed" >&2
  exit 1
fi
echo "vectors-selftest: all checks passed"
