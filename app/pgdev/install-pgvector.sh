#!/usr/bin/env bash
# Installs pgvector for PostgreSQL major version $1.
# Prefers the distribution's binary package; where there is none (Debian 12), builds it from the
# source package of the next Debian release, fetched from the mirror apt is already configured with.
set -euo pipefail
major="${1:?usage: install-pgvector.sh PG_MAJOR}"
sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive

if apt-cache show "postgresql-${major}-pgvector" >/dev/null 2>&1; then
  $sudo apt-get install -y -qq "postgresql-${major}-pgvector"
  exit 0
fi

# The mirror URI for Debian's main archive, read from apt's own configuration (deb822 or one-line).
uri=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v -- '-security' | head -n 1 || true)
if [ -z "$uri" ]; then
  uri=$(grep -hsE '^deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
        | awk '{for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' | grep -v -- '-security' | head -n 1 || true)
fi
[ -n "$uri" ] || { echo "install-pgvector: no Debian mirror found in apt's configuration" >&2; exit 1; }

list=/etc/apt/sources.list.d/masteria-pgvector-src.list
echo "deb-src ${uri} trixie main" | $sudo tee "$list" >/dev/null
$sudo apt-get update -qq -o Dir::Etc::sourcelist="$list" -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0
$sudo apt-get install -y -qq build-essential "postgresql-server-dev-${major}" dpkg-dev

work=$(mktemp -d)
chmod 755 "$work" # apt downloads as its own _apt user
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get source -qq --download-only pgvector
dpkg-source -x --no-check ./pgvector_*.dsc src >/dev/null
cd src
pg_config="/usr/lib/postgresql/${major}/bin/pg_config"
make -s PG_CONFIG="$pg_config" OPTFLAGS=""
$sudo make -s install PG_CONFIG="$pg_config"
echo "install-pgvector: built and installed pgvector $(grep default_version vector.control | cut -d"'" -f2) for PostgreSQL ${major}"
