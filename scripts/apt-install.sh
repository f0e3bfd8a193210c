#!/usr/bin/env bash
# Installs Debian packages the tests need (docker-compose, postgresql) when their command is missing:
#   scripts/apt-install.sh <command> <package>...
# Uses sudo when not root; --no-install-recommends keeps docker-compose from pulling in the docker.io engine.
set -euo pipefail
command="$1"; shift
if command -v "$command" >/dev/null 2>&1 || [ -x "$command" ]; then exit 0; fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "[escalator] installing Debian package(s) $* for $command" >&2
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
