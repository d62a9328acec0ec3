#!/usr/bin/env bash
# Installs the Debian packages the project needs when they are missing: the
# speech corpus's espeak-ng and sox, and for the Python package (make
# python) NumPy, pytest and Matplotlib (its example) for Debian's Python.
# `install-deps.sh speech` installs only what the speech corpus needs (the
# speech tests call it that way). Safe to run repeatedly and concurrently
# (one apt-get at a time: a lock file serialises the runs); needs root (or
# sudo) for apt-get.
set -euo pipefail
exec 9>"${TMPDIR:-/tmp}/gle-install-deps.lock"
flock 9
missing=()
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
command -v sox >/dev/null 2>&1 || missing+=(sox)
if [ "${1:-all}" != speech ]; then
  for mod in numpy:python3-numpy pytest:python3-pytest matplotlib:python3-matplotlib; do
    /usr/bin/python3 -c "import ${mod%%:*}" >/dev/null 2>&1 || missing+=("${mod#*:}")
  done
  /usr/bin/python3 -c "import ensurepip" >/dev/null 2>&1 || missing+=(python3-venv)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
