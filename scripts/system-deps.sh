#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, and only those that are missing:
#   chromium    - the browser tests drive Debian's chromium (never `playwright install`)
#   postgresql  - the tests start throwaway servers from its initdb/pg_ctl binaries
#   python3-venv - only when python3 is Debian's own and cannot make a venv
#   golang-go   - the interoperability tests build an independent log verifier with Go
#   golang-golang-x-mod-dev - Go's golang.org/x/mod/sumdb/note and sumdb/tlog, which that verifier uses
set -euo pipefail

missing=()
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
compgen -G '/usr/lib/postgresql/*/bin/initdb' > /dev/null || missing+=(postgresql)
[[ -x /usr/lib/go/bin/go ]] || command -v go > /dev/null || missing+=(golang-go)
[[ -f /usr/share/gocode/src/golang.org/x/mod/sumdb/note/note.go ]] || missing+=(golang-golang-x-mod-dev)
if [[ "$(command -v python3 || true)" == /usr/bin/python3 ]] && ! python3 -c 'import ensurepip' 2> /dev/null; then
	missing+=(python3-venv)
fi

if [[ ${#missing[@]} -eq 0 ]]; then
	echo "system-deps: chromium, PostgreSQL, Go and golang.org/x/mod are already installed"
	exit 0
fi

sudo=()
if [[ $EUID -ne 0 ]]; then
	if command -v sudo > /dev/null; then
		sudo=(sudo)
	else
		echo "system-deps: need root (or sudo) to install: ${missing[*]}" >&2
		exit 1
	fi
fi

echo "system-deps: installing ${missing[*]}"
set -x
"${sudo[@]}" apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
