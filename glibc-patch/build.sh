#!/usr/bin/env bash
# Builds Debian's glibc 2.36 with glibc-patch/usm-vmcall.patch (every system-call site makes the
# call with vmcall at CPL0, syscall otherwise) and prints the absolute path of the patched
# libc.so.6 as the last line of standard output. Progress and errors go to standard error.
#
# The result is cached outside the git tree, keyed by the installed libc6 version and the hash of
# the patch with the configure options: a second call prints the path at once. Environment:
#   USMJIT_GLIBC_CACHE  cache directory (default: ${XDG_CACHE_HOME:-$HOME/.cache}/usmjit/glibc)
#   USMJIT_GLIBC_JOBS   make -j (default: the number of CPUs)
#   USMJIT_GLIBC_KEEP=1 keep the source and build trees (default: only libc.so.6 and the log)
#
# Steps (each fails loudly): deb-src entry and build tools via apt-get (root needed only when
# something is missing), `apt-get source glibc=<the installed libc6 version>` (Debian's patch
# series is applied by dpkg-source, including local-remove-manual.diff: the orig tarball has no
# manual/), our patch, configure and `make lib` out of tree.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
patch_file=$here/usm-vmcall.patch
cache_root=${USMJIT_GLIBC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/usmjit/glibc}
jobs=${USMJIT_GLIBC_JOBS:-$(nproc)}

say() { echo "glibc-patch: $*" >&2; }
die() { echo "glibc-patch: error: $*" >&2; exit 1; }

[ -f "$patch_file" ] || die "missing $patch_file"
[ "$(uname -m)" = x86_64 ] || die "x86-64 only (this is $(uname -m))"
command -v dpkg-query >/dev/null && command -v apt-get >/dev/null || die "needs a Debian system (dpkg-query, apt-get)"

# The patched libc.so.6 is preloaded under the host's ld.so, with which it shares GLIBC_PRIVATE
# interfaces: build the very version of the installed libc6 when the mirror still has it.
libc6_version=$(dpkg-query -W -f='${Version}' libc6 2>/dev/null) || die "libc6 is not installed?"
case "$libc6_version" in 2.36-*) ;; *) die "the patch is for glibc 2.36; the installed libc6 is $libc6_version" ;; esac

# Debian's options where they matter for the library (multi-arch string functions, stack
# protector); no SELinux (nscd only), no crypt (libcrypt comes from libxcrypt), no -Werror (a
# newer compiler's warnings must not stop us).
configure_opts=(--prefix=/usr --enable-multi-arch --enable-stack-protector=strong
  --enable-stackguard-randomization --without-selinux --disable-crypt --disable-werror
  --disable-nscd "--with-pkgversion=Debian GLIBC $libc6_version + usmjit vmcall" "CFLAGS=-O2 -pipe")
make_target=lib

# The cache key: the patch, and what else decides the result (the options and the make target).
key=$( { cat "$patch_file"; printf '%s\n' "${configure_opts[@]}" "$make_target"; } | sha256sum | cut -c1-16)
out=$cache_root/$libc6_version-$key
if [ -f "$out/done" ] && [ -f "$out/libc.so.6" ]; then
  echo "$out/libc.so.6"
  exit 0
fi

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
  else die "need root for: $* (run once as root, or install it yourself)"; fi
}

# ---- build tools ----
need=()
for p in gcc make gawk bison python3 dpkg-dev xz-utils patch; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq >&2 || die "apt-get update failed"
  as_root apt-get install -y -qq "${need[@]}" >/dev/null || die "apt-get install ${need[*]} failed"
fi

# ---- a deb-src entry (Debian's images ship only `Types: deb`) ----
if ! apt-get source --print-uris -qq glibc >/dev/null 2>&1; then
  src=/etc/apt/sources.list.d/debian.sources
  [ -f "$src" ] || die "no deb-src entry for glibc and no $src to derive one from"
  say "adding deb-src entries (/etc/apt/sources.list.d/usmjit-deb-src.sources)"
  sed -n 's/^Types: deb$/Types: deb-src/; /^Types:\|^URIs:\|^Suites:\|^Components:\|^Signed-By:\|^$/p' "$src" \
    | as_root tee /etc/apt/sources.list.d/usmjit-deb-src.sources >/dev/null
  as_root apt-get update -qq >&2 || die "apt-get update failed"
  apt-get source --print-uris -qq glibc >/dev/null 2>&1 || die "apt-get still finds no glibc source package"
fi

# ---- source ----
work=$cache_root/work-$key
rm -rf "$work"
mkdir -p "$work"
log=$work/build.log
cd "$work"
say "fetching glibc $libc6_version source with apt-get (log: $log)"
if ! apt-get source -qq "glibc=$libc6_version" >>"$log" 2>&1; then
  # The mirror keeps only the newest upload; another 2.36 upload keeps the private ABI in practice.
  say "warning: glibc=$libc6_version is not on the mirror; using the newest 2.36 source instead"
  apt-get source -qq glibc >>"$log" 2>&1 || { tail -20 "$log" >&2; die "apt-get source glibc failed"; }
fi
srcdir=$(find "$work" -maxdepth 1 -type d -name 'glibc-2.36*' | head -1)
[ -n "$srcdir" ] && [ -f "$srcdir/configure" ] || die "no unpacked glibc-2.36 tree in $work"
[ -d "$srcdir/debian/patches" ] || die "Debian's patch series was not applied (no debian/patches in $srcdir)"
# dpkg-source applied the series; local-remove-manual.diff must be among them or the build stops at
# manual/subdir_lib
[ -f "$srcdir/.pc/applied-patches" ] && ! grep -q 'local-remove-manual.diff' "$srcdir/.pc/applied-patches" &&
  die "Debian's local-remove-manual.diff was not applied"

say "applying $(basename "$patch_file")"
patch -d "$srcdir" -p1 --forward --batch <"$patch_file" >>"$log" 2>&1 || { tail -20 "$log" >&2; die "the patch does not apply to $srcdir"; }

# ---- configure and build out of tree ----
mkdir -p "$work/build"
cd "$work/build"
say "configuring"
"$srcdir/configure" "${configure_opts[@]}" >>"$log" 2>&1 || { tail -30 "$log" >&2; die "configure failed (log: $log)"; }
say "building with make -j$jobs $make_target (about 7 minutes on 2 idle cores)"
start=$(date +%s)
make -j"$jobs" "$make_target" >>"$log" 2>&1 || { grep -n 'Error\|error:' "$log" | tail -20 >&2; die "make failed (log: $log)"; }
say "built in $(( $(date +%s) - start )) s"
echo "make $make_target: $(( $(date +%s) - start )) s on $(nproc) CPUs" >>"$log"
[ -f "$work/build/libc.so" ] || die "make succeeded but there is no libc.so in $work/build"

# ---- the result ----
# (count, not grep -q: an early grep exit would make objdump die of SIGPIPE and fail the pipeline)
nvmcall=$(objdump -d "$work/build/libc.so" | grep -c vmcall || true)
[ "${nvmcall:-0}" -gt 0 ] || die "the built libc.so has no vmcall: patch not effective"
say "libc.so: $nvmcall vmcall sites"
mkdir -p "$out"
cp "$work/build/libc.so" "$out/libc.so.6"
cp "$log" "$out/build.log"
if [ "${USMJIT_GLIBC_KEEP:-0}" != 1 ]; then rm -rf "$work"; fi
touch "$out/done"
echo "$out/libc.so.6"
