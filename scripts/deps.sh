#!/usr/bin/env bash
# deps.sh [BUILD_DIR]: install Pollux's Debian build packages and build gnu-efi (AArch64), newlib and lwIP into BUILD_DIR/deps.
set -euo pipefail

BUILD=${1:-build}
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
DEPS=$BUILD/deps
STAMPS=$DEPS/stamps
SRC=$DEPS/src
JOBS=${JOBS:-2}
mkdir -p "$STAMPS" "$SRC"

# Bump when the recipe below changes in a way the stamp keys do not capture.
RECIPE=2

PACKAGES=(ovmf qemu-efi-aarch64 gnu-efi
    gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu mtools dosfstools gdisk
    dpkg-dev newlib-source dnsmasq-base curl wrk iproute2 iputils-ping socat
    nghttp2-client  # h2load: tests/net/net.py's HTTP load
    python3-scapy hping3 nmap  # tests/net/hostile.py: malformed frames, floods, a port scan
    xz-utils bzip2 make gcc python3 patch
    gzip brotli  # scripts/site.py: the site's precompressed forms
    wget prometheus chromium nftables  # tests/net/site.py: wget --mirror, promtool, Prometheus, a
                                       # browser, and frames lost at random
    clang libclang-rt-14-dev  # make fuzz: libFuzzer, ASan, UBSan
    libc6-dev-arm64-cross) # gnu-efi's reloc_aarch64.c includes <elf.h>

log() { echo "deps: $*"; }
die() { echo "deps: error: $*" >&2; exit 1; }

# Run a command as root: directly if we are root, else through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

# A stamp holds the key of what was built; a different key means rebuild.
stamp_ok() { [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]; }
stamp_set() { printf '%s\n' "$2" >"$STAMPS/$1"; }

# On failure show the end of a step's log rather than flooding the terminal.
run_logged() {
    local logf=$1; shift
    if ! "$@" >"$logf" 2>&1; then
        tail -n 40 "$logf" >&2
        die "command failed: $* (full log: $logf)"
    fi
}

# ---------------------------------------------------------------- apt
APT_UPDATED=0
apt_update() {
    if [ "$APT_UPDATED" = 0 ]; then
        log "apt-get update"
        as_root apt-get update -qq
        APT_UPDATED=1
    fi
}

install_packages() {
    # One dpkg-query call keeps the fast path free of apt entirely.
    local missing
    missing=$(comm -23 <(printf '%s\n' "${PACKAGES[@]}" | sort) \
        <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PACKAGES[@]}" 2>/dev/null \
            | awk '$2 == "installed" { print $1 }' | sort))
    [ -z "$missing" ] && return 0
    log "installing: ${missing//$'\n'/ }"
    apt_update
    # shellcheck disable=SC2086
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends $missing
}

# The URI of the Debian archive already configured for this release (deb822 .sources or one-line
# .list files), so that what we add reuses it and no host name is written here.
debian_uri() {
    local suite=$1
    {
        awk -v s="$suite" '
            function flush() { if (u != "" && hit && bin) { print u; exit } u = ""; hit = 0; bin = 0 }
            FNR == 1 { flush() }
            /^[[:space:]]*#/ { next }
            /^[[:space:]]*$/ { flush(); next }
            tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") bin = 1 }
            tolower($1) == "uris:" { u = $2 }
            tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == s) hit = 1 }
            END { flush() }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true
        awk -v s="$suite" '$1 == "deb" {
            i = 2
            if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
            if ($(i + 1) == s) print $i }' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true
    } | awk 'NR == 1'
}

# QEMU from bookworm-backports (10.x): bookworm's 7.2 has no igb. Every QEMU run of the project
# uses this one. The suite is added with the URI of the Debian source already configured.
QEMU_PACKAGES=(qemu-system-x86 qemu-system-arm)
QEMU_MIN_MAJOR=8
qemu_major() {
    dpkg-query -W -f='${db:Status-Status} ${Version}\n' "$1" 2>/dev/null |
        awk '$1 == "installed" { v = $2; sub(/^[0-9]+:/, "", v); split(v, a, "."); print a[1] + 0; exit }'
}
qemu_ok() {
    local p m
    for p in "${QEMU_PACKAGES[@]}"; do
        m=$(qemu_major "$p")
        [ -n "$m" ] && [ "$m" -ge "$QEMU_MIN_MAJOR" ] || return 1
    done
}
install_qemu() {
    qemu_ok && return 0
    local suite uri
    # shellcheck disable=SC1091
    suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    if ! grep -qsE "^[[:space:]]*(Suites:.*[[:space:]]$suite-backports|deb[[:space:]].*[[:space:]]$suite-backports)" \
        /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; then
        uri=$(debian_uri "$suite")
        [ -n "$uri" ] || die "no Debian source for $suite configured: cannot add $suite-backports"
        log "enabling $suite-backports from the configured Debian source"
        as_root tee /etc/apt/sources.list.d/pollux-backports.sources >/dev/null <<EOF
Types: deb
URIs: $uri
Suites: $suite-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
        APT_UPDATED=0
    fi
    apt_update
    log "installing QEMU from $suite-backports"
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends -t "$suite-backports" "${QEMU_PACKAGES[@]}"
    qemu_ok || die "QEMU from $suite-backports is older than $QEMU_MIN_MAJOR.0"
}

# apt-get source needs deb-src entries and their indexes; add both only if absent.
ensure_deb_src() {
    # apt reads only *.list and *.sources files (grep -qs: a match wins even
    # if some of these files do not exist).
    if ! grep -qsE '^[[:space:]]*(Types:.*deb-src|deb-src[[:space:]])' \
        /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
        /etc/apt/sources.list.d/*.sources; then
        local suite
        # shellcheck disable=SC1091
        suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
        local uri
        uri=$(debian_uri "$suite")
        [ -n "$uri" ] || die "no Debian source for $suite configured: cannot add deb-src"
        log "enabling deb-src for $suite"
        as_root tee /etc/apt/sources.list.d/pollux-src.sources >/dev/null <<EOF
Types: deb-src
URIs: $uri
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
        APT_UPDATED=0
        apt_update
    fi
    # apt-cache showsrc exits 0 even when nothing is found, so look at its
    # output (not via grep -q, which would break the pipe under pipefail).
    # shellcheck disable=SC2143
    if [ -z "$(apt-cache showsrc gnu-efi 2>/dev/null | grep '^Package:')" ]; then
        apt_update
    fi
}

# Download a Debian source package (optionally pinned) and unpack it at $dest.
fetch_source() {
    local pkg=$1 version=$2 dest=$3 tmp
    ensure_deb_src
    tmp=$(mktemp -d "$SRC/.$pkg.XXXXXX")
    # As root, apt's _apt sandbox user cannot write into our tree; skip it.
    local aptopt=()
    [ "$(id -u)" -eq 0 ] && aptopt=(-o APT::Sandbox::User=root)
    if [ -n "$version" ] && ! (cd "$tmp" && apt-get "${aptopt[@]}" source -qq --download-only "$pkg=$version" >/dev/null 2>&1); then
        log "source $pkg=$version not available, taking the current one"
        version=
    fi
    if [ -z "$version" ]; then
        (cd "$tmp" && apt-get "${aptopt[@]}" source -qq --download-only "$pkg" >/dev/null)
    fi
    local dsc
    dsc=$(ls "$tmp"/*.dsc)
    # dpkg-source -x is Debian's normal unpack (applies Debian's own patches only).
    run_logged "$tmp/unpack.log" dpkg-source -x "$dsc" "$tmp/tree"
    rm -rf "$dest"
    mv "$tmp/tree" "$dest"
    basename "$dsc" .dsc >"$dest/.debian-source"
    mkdir -p "$SRC/dl"
    mv "$tmp"/*.dsc "$tmp"/*.tar.* "$SRC/dl/"
    rm -rf "$tmp"
}

# ---------------------------------------------------------------- gnu-efi
build_gnu_efi_aarch64() {
    local ver key out=$DEPS/aarch64/gnu-efi tree=$SRC/gnu-efi
    # Match the installed x86_64 gnu-efi so both arches share one API version.
    ver=$(dpkg-query -W -f='${source:Version}' gnu-efi)
    key="gnu-efi $ver $(aarch64-linux-gnu-gcc -dumpversion) r$RECIPE"
    if stamp_ok gnu-efi-aarch64 "$key" && [ -f "$out/lib/libefi.a" ]; then
        return 0
    fi
    log "building gnu-efi $ver for aarch64"
    fetch_source gnu-efi "$ver" "$tree"
    # Only lib (libefi.a) and gnuefi (crt0, libgnuefi.a) are needed; apps and
    # inc have nothing to compile for us.
    run_logged "$tree/build-aarch64.log" make -C "$tree" -j"$JOBS" \
        ARCH=aarch64 CROSS_COMPILE=aarch64-linux-gnu- lib gnuefi
    rm -rf "$out"
    mkdir -p "$out/lib" "$out/inc"
    install -m 644 "$tree/aarch64/gnuefi/crt0-efi-aarch64.o" \
        "$tree/aarch64/gnuefi/libgnuefi.a" "$tree/aarch64/lib/libefi.a" \
        "$tree/gnuefi/elf_aarch64_efi.lds" "$out/lib/"
    # Same layout as /usr/include/efi: efi.h, protocol/, and the arch subdir.
    mkdir -p "$out/inc/protocol" "$out/inc/aarch64"
    install -m 644 "$tree"/inc/*.h "$out/inc/"
    install -m 644 "$tree"/inc/protocol/*.h "$out/inc/protocol/"
    install -m 644 "$tree"/inc/aarch64/*.h "$out/inc/aarch64/"
    stamp_set gnu-efi-aarch64 "$key"
}

# x86_64 uses the system gnu-efi; symlinks give it the same layout as aarch64.
link_gnu_efi_x86_64() {
    local out=$DEPS/x86_64/gnu-efi f
    mkdir -p "$out/lib"
    for f in crt0-efi-x86_64.o elf_x86_64_efi.lds libgnuefi.a libefi.a; do
        [ -e "/usr/lib/$f" ] || die "/usr/lib/$f missing (gnu-efi package)"
        ln -sfn "/usr/lib/$f" "$out/lib/$f"
    done
    ln -sfn /usr/include/efi "$out/inc"
}

# ---------------------------------------------------------------- newlib
# Compiler wrapper for newlib: every file is first compiled general-regs-only
# (no SSE/x87 on x86, no FP/SIMD on AArch64). Only files that genuinely use
# floating point (libm, strtod, ...) fail that way; those are rebuilt with FP
# allowed and listed in fp-objects.log so the kernel knows which ones need FP.
write_cc_wrapper() {
    local wrapper=$1 cc=$2 fplog=$3; shift 3
    # remaining args: FP-mode extra flags
    {
        echo '#!/usr/bin/env bash'
        echo '# Generated by scripts/deps.sh: newlib compiler, general-regs-only unless the file needs FP.'
        printf 'CC=%q\nFPLOG=%q\nFPFLAGS=(' "$cc" "$fplog"
        local f
        for f in "$@"; do printf '%q ' "$f"; done
        echo ')'
        cat <<'EOF'
err=$(mktemp)
trap 'rm -f "$err"' EXIT
if "$CC" "$@" -mgeneral-regs-only 2>"$err"; then
    cat "$err" >&2
    exit 0
fi
if ! grep -qE 'SSE (register (return|argument) with SSE|disabled)|x87 register .* x87 disabled|incompatible with the use of (floating-point|vector) types' "$err"; then
    cat "$err" >&2
    exit 1
fi
out=
prev=
for a in "$@"; do
    [ "$prev" = -o ] && out=$a
    prev=$a
done
case "$out" in
    ''|conftest*) ;;
    *) echo "$PWD/$out" >>"$FPLOG" ;;
esac
exec "$CC" "$@" "${FPFLAGS[@]}"
EOF
    } >"$wrapper"
    chmod +x "$wrapper"
}

# Print libc.a members whose code touches FP/SIMD registers (x87 included).
fp_members() {
    local arch=$1 lib=$2 objdump re
    if [ "$arch" = x86_64 ]; then
        objdump=objdump re='%([xyz]mm|mm|st)'
    else
        objdump=aarch64-linux-gnu-objdump
        re='(^|[^a-z0-9_])[qdsbhv][0-9][0-9]?([^a-z0-9_]|$)'
    fi
    # Disassembly lines are "addr:<TAB>mnemonic<TAB>operands"; look at the
    # operands (and, on x86, at x87 mnemonics, which start with f), minus
    # branch targets like "d8 <sym>" and comments, which look like registers.
    "$objdump" -d --no-show-raw-insn "$lib" | awk -F'\t' -v re="$re" -v x86="$([ "$arch" = x86_64 ] && echo 1)" '
        /file format/ { m = $0; sub(/:.*/, "", m); next }
        NF >= 2 && $1 ~ /^ *[0-9a-f]+:$/ {
            ops = $3; sub(/[0-9a-f]* *<.*/, "", ops); sub(/\/\/.*/, "", ops); sub(/#.*/, "", ops)
            if (ops ~ re || (x86 && $2 ~ /^f/)) seen[m] = 1
        }
        END { for (k in seen) print k }' | sort
}

build_newlib() {
    local arch=$1 tarball target cc prefix gccinc key
    local -a arch_cflags fp_extra
    tarball=$(printf '%s\n' /usr/src/newlib/newlib-*.tar.xz | sort -V | tail -n 1)
    [ -f "$tarball" ] || die "no /usr/src/newlib/newlib-*.tar.xz (newlib-source package)"
    if [ "$arch" = x86_64 ]; then
        target=x86_64-elf prefix=
        # Kernel code must not rely on the red zone (interrupts would clobber it).
        arch_cflags=(-mno-red-zone)
        fp_extra=(-mno-mmx -mno-avx)
    else
        target=aarch64-elf prefix=aarch64-linux-gnu-
        arch_cflags=()
        fp_extra=()
    fi
    cc=${prefix}gcc
    # -nostdinc keeps glibc headers out; gcc's own (stddef.h, stdarg.h...) stay.
    gccinc=$("$cc" -print-file-name=include)
    local cflags=(-O2 -g -ffreestanding -fno-stack-protector -fpic
        -ffunction-sections -fdata-sections "${arch_cflags[@]}"
        -nostdinc -isystem "$gccinc")
    local confargs=(--target="$target" --disable-multilib --disable-nls
        --disable-newlib-supplied-syscalls --disable-newlib-io-float
        --enable-newlib-io-long-long --enable-newlib-io-c99-formats)
    key="newlib $(basename "$tarball") $(stat -c %s "$tarball") $("$cc" -dumpfullversion) [${cflags[*]}] [${confargs[*]}] [${fp_extra[*]}] r$RECIPE"
    local out=$DEPS/$arch/newlib
    if stamp_ok "newlib-$arch" "$key" && [ -f "$out/lib/libc.a" ]; then
        return 0
    fi

    local nlsrc=$SRC/newlib
    if ! [ -f "$nlsrc/.tarball" ] || [ "$(cat "$nlsrc/.tarball")" != "$(basename "$tarball") $(stat -c %s "$tarball")" ]; then
        log "unpacking $(basename "$tarball")"
        rm -rf "$nlsrc" "$nlsrc.tmp"
        mkdir -p "$nlsrc.tmp"
        # Debian's tarball has an arbitrary top directory (newlib-salsa/).
        tar -xJf "$tarball" -C "$nlsrc.tmp" --strip-components=1
        echo "$(basename "$tarball") $(stat -c %s "$tarball")" >"$nlsrc.tmp/.tarball"
        mv "$nlsrc.tmp" "$nlsrc"
    fi

    log "building newlib for $arch"
    local t0=$SECONDS bld=$DEPS/build/newlib-$arch stage=$DEPS/build/newlib-$arch-stage
    rm -rf "$bld" "$stage"
    mkdir -p "$bld"
    write_cc_wrapper "$bld/kcc" "$cc" "$bld/fp-objects.log" "${fp_extra[@]}"
    : >"$bld/fp-objects.log"
    # Newlib's top-level configure; the *_FOR_TARGET tools make a Linux
    # (cross-)gcc act as a bare-metal ELF compiler.
    (cd "$bld" && run_logged "$bld/configure.log" env \
        CC_FOR_TARGET="$bld/kcc" \
        AR_FOR_TARGET="${prefix}ar" AS_FOR_TARGET="${prefix}as" \
        LD_FOR_TARGET="${prefix}ld" NM_FOR_TARGET="${prefix}nm" \
        RANLIB_FOR_TARGET="${prefix}ranlib" OBJDUMP_FOR_TARGET="${prefix}objdump" \
        READELF_FOR_TARGET="${prefix}readelf" STRIP_FOR_TARGET="${prefix}strip" \
        CFLAGS_FOR_TARGET="${cflags[*]}" \
        "$nlsrc/configure" --prefix="$stage" "${confargs[@]}")
    # MAKEINFO=true: the docs are not wanted and makeinfo is not installed.
    run_logged "$bld/make.log" make -C "$bld" -j"$JOBS" MAKEINFO=true all-target-newlib
    run_logged "$bld/install.log" make -C "$bld" MAKEINFO=true install-target-newlib

    local lib=$stage/$target/lib/libc.a
    # Some AArch64 assembly string routines use SIMD registers; swap them for
    # newlib's generic C versions compiled general-regs-only.
    local m name
    for m in $(fp_members "$arch" "$lib"); do
        name=${m#lib_a-}; name=${name%.o}
        grep -q "/$m\$" "$bld/fp-objects.log" && continue
        [ "$name" = setjmp ] && continue
        [ -f "$nlsrc/newlib/libc/string/$name.c" ] || die "$arch libc.a: $m uses FP/SIMD registers and has no generic C version"
        "$cc" "${cflags[@]}" -mgeneral-regs-only -fno-builtin -D_COMPILING_NEWLIB \
            -isystem "$stage/$target/include" -I "$nlsrc/newlib/libc/string" \
            -c "$nlsrc/newlib/libc/string/$name.c" -o "$bld/$m"
        "${prefix}ar" d "$lib" "lib_a-$name-stub.o" 2>/dev/null || true
        "${prefix}ar" r "$lib" "$bld/$m"
        echo "$m: replaced SIMD assembly with generic C" >>"$bld/replaced.log"
    done

    # Record which libc.a members use FP: those compiled with FP allowed
    # (newlib also copies a few libm objects such as frexp into libc.a), plus
    # setjmp/longjmp, which save the callee-saved FP registers.
    local fpm bad
    fpm=$(fp_members "$arch" "$lib")
    {
        sed 's|.*/||' "$bld/fp-objects.log"
        grep -x 'lib_a-setjmp.o' <<<"$fpm" || true
    } | sort -u | comm -12 - <("${prefix}ar" t "$lib" | sort -u) \
        >"$stage/$target/lib/libc-fp-objects.txt"
    bad=$(comm -23 <(echo "$fpm") "$stage/$target/lib/libc-fp-objects.txt")
    [ -z "$bad" ] || die "$arch libc.a members unexpectedly use FP/SIMD registers: $bad"

    local sym syms
    syms=$("${prefix}nm" -g --defined-only "$lib" 2>/dev/null)
    for sym in memcpy memset memmove memcmp strlen strtoul qsort snprintf; do
        grep -qE " T $sym\$" <<<"$syms" || die "$arch libc.a lacks $sym"
    done

    rm -rf "$out"
    mkdir -p "$out"
    mv "$stage/$target/include" "$stage/$target/lib" "$out/"
    rm -rf "$stage"
    stamp_set "newlib-$arch" "$key"
    log "newlib for $arch built in $((SECONDS - t0))s ($(wc -l <"$out/lib/libc-fp-objects.txt") libc members use FP)"
}

# ---------------------------------------------------------------- lwIP
# Debian's lwIP, unpacked as Debian does, then Pollux's patch series (net/port/patches/series,
# each patch with its reason in a DEP-3 header) applied in order. A change to the series unpacks
# the kept source package again, so the tree is always Debian's plus exactly the series.
fetch_lwip() {
    local patches key dsc p
    patches=$(cd "$(dirname "$0")/../net/port/patches" && pwd)
    key="lwip r$RECIPE $(cd "$patches" && cat series $(cat series) | sha256sum | cut -c1-16)"
    if stamp_ok lwip "$key" && [ -f "$DEPS/lwip/src/Filelists.mk" ]; then
        return 0
    fi
    dsc=$(ls "$SRC"/dl/lwip_*.dsc 2>/dev/null | tail -n1 || true)
    if [ -n "$dsc" ]; then
        log "unpacking $(basename "$dsc" .dsc) again"
        rm -rf "$DEPS/lwip" "$SRC/.lwip-tree"
        run_logged "$SRC/lwip-unpack.log" dpkg-source -x "$dsc" "$SRC/.lwip-tree"
        mv "$SRC/.lwip-tree" "$DEPS/lwip"
        basename "$dsc" .dsc >"$DEPS/lwip/.debian-source"
    else
        log "fetching lwip source"
        fetch_source lwip "" "$DEPS/lwip"
    fi
    if ! [ -f "$DEPS/lwip/src/Filelists.mk" ] || ! [ -d "$DEPS/lwip/src/include/lwip" ]; then
        die "unexpected lwip source layout"
    fi
    while read -r p; do
        [ -n "$p" ] || continue
        log "lwip: applying $p"
        patch -d "$DEPS/lwip" -p1 --forward --quiet <"$patches/$p" ||
            die "lwip: $p does not apply to $(cat "$DEPS/lwip/.debian-source" 2>/dev/null || echo this lwip)"
    done <"$patches/series"
    stamp_set lwip "$key"
}

install_packages
install_qemu
link_gnu_efi_x86_64
build_gnu_efi_aarch64
build_newlib x86_64
build_newlib aarch64
fetch_lwip
log "ready"
