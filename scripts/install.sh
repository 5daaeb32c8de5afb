#!/usr/bin/env bash
# Builds a release balance-report and installs it, with its man page and shell completions.
#
#   scripts/install.sh                          # into /usr/local (through sudo when that is not writable)
#   PREFIX="$HOME/.local" scripts/install.sh    # into ~/.local/bin, ~/.local/share/…
#   scripts/install.sh --uninstall              # removes exactly the files it installs
#
# Installs:
#   PREFIX/bin/balance-report                                   the binary: templates built in, the Swift runtime linked in
#                                                               statically: it runs copied anywhere that has libxml2 and zlib
#   PREFIX/share/man/man1/balance-report.1                      the man page (swift-argument-parser's GenerateManual plugin)
#   PREFIX/share/bash-completion/completions/balance-report     bash completion
#   PREFIX/share/zsh/site-functions/_balance-report             zsh completion
#   PREFIX/share/fish/vendor_completions.d/balance-report.fish  fish completion
# Needs Swift 6, libxml2-dev, zlib1g-dev and pkg-config (as `swift build` does).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${PREFIX:-/usr/local}

files=(
    "bin/balance-report"
    "share/man/man1/balance-report.1"
    "share/bash-completion/completions/balance-report"
    "share/zsh/site-functions/_balance-report"
    "share/fish/vendor_completions.d/balance-report.fish"
)

# The install steps run through sudo only when PREFIX is not writable by this user.
as_owner=()
probe=$prefix
while [ ! -e "$probe" ]; do probe=$(dirname "$probe"); done
if [ ! -w "$probe" ] && [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "install.sh: $prefix is not writable; run as root or set PREFIX" >&2; exit 1; }
    as_owner=(sudo)
fi

if [ "${1:-}" = "--uninstall" ]; then
    for file in "${files[@]}"; do
        if [ -e "$prefix/$file" ]; then "${as_owner[@]}" rm -f "$prefix/$file" && echo "removed $prefix/$file"; fi
    done
    exit 0
elif [ $# -gt 0 ]; then
    echo "usage: [PREFIX=DIR] scripts/install.sh [--uninstall]" >&2
    exit 2
fi

# The Swift runtime and Foundation linked in: the binary needs no Swift installation where it runs.
swift build -c release --static-swift-stdlib --product balance-report
bin="$(swift build -c release --static-swift-stdlib --show-bin-path)/balance-report"

# The man page: swift-argument-parser's GenerateManual plugin builds the package and writes
# balance-report.1 from the binary's own help, which is the same in every build configuration.
# Debug, because the plugin's release build would rebuild the whole package without
# --static-swift-stdlib, while the debug one is the build `swift test` uses. Dated by the last
# commit, so reinstalling one commit gives the same page.
date=$(git log -1 --format=%cs 2>/dev/null || date -u +%Y-%m-%d)
manual=.build/plugins/GenerateManual/outputs/balance-report/balance-report.1
rm -f "$manual"
swift package generate-manual --configuration debug --date "$date" >&2
[ -s "$manual" ] || { echo "install.sh: GenerateManual wrote no $manual" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" --generate-completion-script bash > "$work/bash"
"$bin" --generate-completion-script zsh > "$work/zsh"
"$bin" --generate-completion-script fish > "$work/fish"

"${as_owner[@]}" install -d "$prefix/bin" "$prefix/share/man/man1" "$prefix/share/bash-completion/completions" \
    "$prefix/share/zsh/site-functions" "$prefix/share/fish/vendor_completions.d"
"${as_owner[@]}" install -m 755 "$bin" "$prefix/bin/balance-report"
"${as_owner[@]}" install -m 644 "$manual" "$prefix/share/man/man1/balance-report.1"
"${as_owner[@]}" install -m 644 "$work/bash" "$prefix/share/bash-completion/completions/balance-report"
"${as_owner[@]}" install -m 644 "$work/zsh" "$prefix/share/zsh/site-functions/_balance-report"
"${as_owner[@]}" install -m 644 "$work/fish" "$prefix/share/fish/vendor_completions.d/balance-report.fish"
for file in "${files[@]}"; do echo "installed $prefix/$file"; done
"$prefix/bin/balance-report" --version >/dev/null
case ":$PATH:" in
    *":$prefix/bin:"*) ;;
    *) echo "note: $prefix/bin is not on PATH; add it to run balance-report by name" >&2 ;;
esac
