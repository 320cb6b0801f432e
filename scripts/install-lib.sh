# Sourced by the test scripts that install their own pieces (scripts/test-aarch64.sh,
# firmware/ci.sh): defines die, apt_install and rustup_targets, runs nothing.
# SKIP_INSTALL=1 in the environment turns every install into a failure that names what is missing.

die() { echo "FAIL: $*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi

# apt_install PACKAGE...: installs Debian packages (updating the package lists once if needed).
apt_install() {
    [ "${SKIP_INSTALL:-0}" = 1 ] && die "missing $* (SKIP_INSTALL=1)"
    $SUDO apt-get install -y --no-install-recommends "$@" \
        || { $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends "$@"; }
}

# rustup_targets TARGET...: adds the rustup targets (prebuilt core/std) not installed yet.
rustup_targets() {
    local t
    for t in "$@"; do
        if ! rustup target list --installed 2>/dev/null | grep -qx "$t"; then
            [ "${SKIP_INSTALL:-0}" = 1 ] && die "rustup target $t missing (SKIP_INSTALL=1)"
            timeout 300 rustup target add "$t" || die "rustup target add $t failed"
        fi
    done
}
