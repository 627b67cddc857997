#!/usr/bin/env bash
# package_build.sh SOURCE_DIR: the Debian packages, built from a copy of the tree the documented
# way (`dpkg-buildpackage -b -us -uc`), then looked at as a user gets them:
#  - exactly the packages mqttip and mosquitto-plugin-mqttip (and their -dbgsym), at the version
#    of debian/changelog;
#  - `dpkg-deb -x` of each holds exactly the expected files (man pages: one per docs/man/*.scd),
#    and the plugin's conf.d snippet is a conffile;
#  - lintian finds no error (every tag it prints is shown);
#  - the extracted `mqttip --version` prints the changelog's version, `mqttip help up` works;
#  - `man --warnings -l` renders every extracted page without a warning;
#  - the conf.d snippet is inactive (no line but comments), and once uncommented, with the PKI of
#    the extracted `mqttip pki init` in place and server.key as root:mosquitto 0640 as the snippet
#    says, mosquitto loads the packaged plugin (its log names the version) and listens.
# Build time is printed. Cannot run (skip, 77): not root, or the packaging tools are missing
# (scripts/install-deps.sh installs them).
set -euo pipefail
SRC=$(cd "$1" && pwd)
. "$(dirname "$0")/lib/broker.sh"

for tool in dpkg-buildpackage dh lintian scdoc mosquitto; do
	command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || {
		echo "package_build: $tool not found (scripts/install-deps.sh installs it); skipped" >&2
		exit 77
	}
done
[ "$(id -u)" -eq 0 ] || {
	echo "package_build: needs root (mosquitto drops to its user); skipped" >&2
	exit 77
}

tb_init
fails=0
bad() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

# A copy of the tree without build directories: dpkg-buildpackage writes into the tree and its
# parent.
mkdir "$TB_DIR/src"
tar -C "$SRC" --exclude=./.git --exclude='./build*' --exclude=./obj-\* -cf - . | tar -C "$TB_DIR/src" -xf -
cd "$TB_DIR/src"
dpkg-checkbuilddeps || tb_fail "Build-Depends of debian/control not installed: scripts/install-deps.sh must install them"
version=$(dpkg-parsechangelog -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
start=$(date +%s%N)
if ! DEB_BUILD_OPTIONS="parallel=$(nproc)" dpkg-buildpackage -b -us -uc >"$TB_DIR/build.log" 2>&1; then
	tail -n 30 "$TB_DIR/build.log" >&2
	tb_fail "dpkg-buildpackage -b -us -uc failed (log above)"
fi
ms=$((($(date +%s%N) - start) / 1000000))
tb_ok "dpkg-buildpackage -b -us -uc: $((ms / 1000)).$((ms % 1000 / 100)) s"
cd "$TB_DIR"

debs=$(ls ./*.deb | sed 's|^\./||' | sort | tr '\n' ' ')
want="mosquitto-plugin-mqttip-dbgsym_${version}_$arch.deb mosquitto-plugin-mqttip_${version}_$arch.deb mqttip-dbgsym_${version}_$arch.deb mqttip_${version}_$arch.deb "
[ "$debs" = "$want" ] || bad "packages: got '$debs', want '$want'"
tb_ok "packages: $debs"

# files PACKAGE: the regular files and links of the extracted package, one a line, sorted.
files() {
	rm -rf "$TB_DIR/x/$1"
	mkdir -p "$TB_DIR/x/$1"
	dpkg-deb -x "$1_${version}_$arch.deb" "$TB_DIR/x/$1"
	(cd "$TB_DIR/x/$1" && find . ! -type d | sed 's|^\./||' | sort)
}

man1=$(cd "$SRC/docs/man" && ls ./*.1.scd | sed 's|^\./||; s|\.scd$|.gz|; s|^|usr/share/man/man1/|')
expect_mqttip=$(sort <<EOF
usr/bin/mqttip
usr/libexec/mqttip/mqttip-demo.sh
usr/lib/systemd/system/mqttip@.service
usr/share/bash-completion/completions/mqttip
usr/share/doc/mqttip/AGENT.md
usr/share/doc/mqttip/PKI.md
usr/share/doc/mqttip/PROTOCOL.md
usr/share/doc/mqttip/README.md
usr/share/doc/mqttip/SCALING.md
usr/share/doc/mqttip/SECURITY.md
usr/share/doc/mqttip/STATUS.md
usr/share/doc/mqttip/changelog.gz
usr/share/doc/mqttip/copyright
usr/share/doc/mqttip/examples/agent.conf
$man1
EOF
)
expect_plugin=$(sort <<EOF
etc/mosquitto/conf.d/mqttip.conf
usr/lib/$multiarch/mosquitto/mqttip_plugin.so
usr/share/doc/mosquitto-plugin-mqttip/METRICS.md
usr/share/doc/mosquitto-plugin-mqttip/README.Debian
usr/share/doc/mosquitto-plugin-mqttip/changelog.gz
usr/share/doc/mosquitto-plugin-mqttip/copyright
usr/share/doc/mosquitto-plugin-mqttip/examples/grafana-mqttip.json
usr/share/doc/mosquitto-plugin-mqttip/examples/mosquitto.conf
usr/share/man/man5/mqttip-plugin.5.gz
EOF
)
for p in mqttip mosquitto-plugin-mqttip; do
	got=$(files "$p")
	[ "$p" = mqttip ] && want=$expect_mqttip || want=$expect_plugin
	if [ "$got" = "$want" ]; then
		tb_ok "$p: $(wc -l <<<"$got") files as expected"
	else
		bad "$p: file list differs (< missing, > unexpected): $(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | tr '\n' ' ')"
	fi
done
dpkg-deb -e "mosquitto-plugin-mqttip_${version}_$arch.deb" "$TB_DIR/ctl"
grep -qx /etc/mosquitto/conf.d/mqttip.conf "$TB_DIR/ctl/conffiles" ||
	bad "/etc/mosquitto/conf.d/mqttip.conf is not a conffile: $(cat "$TB_DIR/ctl/conffiles" 2>/dev/null)"

# lintian: errors fail; every tag is shown.
lintian_rc=0
lintian --fail-on error -I --pedantic "mqttip_${version}_$arch.changes" >"$TB_DIR/lintian" 2>&1 || lintian_rc=$?
grep -v 'running with root privileges' "$TB_DIR/lintian" | sed 's/^/lintian: /' || true
if [ "$lintian_rc" != 0 ] || grep -q '^E: ' "$TB_DIR/lintian"; then
	bad "lintian reports errors (exit $lintian_rc)"
else
	tb_ok "lintian: no error ($(grep -c '^W: ' "$TB_DIR/lintian" || true) warnings)"
fi

bin=$TB_DIR/x/mqttip/usr/bin/mqttip
upstream=${version%%-*}
got=$("$bin" --version)
[ "$got" = "mqttip $upstream" ] || bad "mqttip --version says '$got', want 'mqttip $upstream'"
"$bin" help up | grep -q "Usage: mqttip up" || bad "mqttip help up does not print the usage of up"
tb_ok "extracted mqttip --version: $got"

for page in "$TB_DIR"/x/*/usr/share/man/man*/*.gz; do
	name=$(basename "$page" .gz)
	if ! man --warnings -l "$page" 2>"$TB_DIR/warn" >"$TB_DIR/page" || [ -s "$TB_DIR/warn" ]; then
		bad "man -l $name: $(head -n3 "$TB_DIR/warn")"
	elif ! grep -q '^NAME' "$TB_DIR/page"; then
		bad "man -l $name: no NAME section"
	fi
done
tb_ok "man -l: $(ls "$TB_DIR"/x/*/usr/share/man/man*/*.gz | wc -l) pages render without warnings"

# The conf.d snippet: inactive as shipped, a working broker once uncommented.
snippet=$TB_DIR/x/mosquitto-plugin-mqttip/etc/mosquitto/conf.d/mqttip.conf
active=$(grep -Ev '^[[:space:]]*(#|$)' "$snippet" || true)
[ -z "$active" ] || bad "the conf.d snippet has active lines: $active"
grep -q '^#per_listener_settings false' "$snippet" || bad "the snippet does not carry per_listener_settings false"
tb_ok "conf.d snippet: no active line"
"$bin" pki init "$TB_DIR/pki" >/dev/null
chgrp mosquitto "$TB_DIR/pki/broker/server.key"
chmod 0640 "$TB_DIR/pki/broker/server.key"
port=$(tb_free_port)
plugin_root=$TB_DIR/x/mosquitto-plugin-mqttip
{
	echo "log_dest stderr"
	echo "persistence false"
	sed -E 's/^#([a-z])/\1/' "$snippet" |
		sed -e "s|/etc/mosquitto/mqttip/|$TB_DIR/pki/broker/|" \
			-e "s|^listener 8883|listener $port 127.0.0.1|" \
			-e "s|^plugin /|plugin $plugin_root/|" \
			-e "s|^plugin_opt_prometheus_file .*|plugin_opt_prometheus_file $TB_DIR/prom/mqttip.prom|"
} >"$TB_DIR/broker.conf"
chmod -R go+rX "$TB_DIR/x" "$TB_DIR/pki"
mkdir "$TB_DIR/prom"
chown mosquitto "$TB_DIR/prom" # the Prometheus file's directory: writable by mosquitto
if broker_start "$TB_DIR/broker.conf" "$TB_DIR/broker.log" "$port"; then
	if grep -q "mqttip: plugin $upstream: prefix mqttip, policy $TB_DIR/pki/broker/policy" "$TB_DIR/broker.log"; then
		tb_ok "uncommented snippet: mosquitto loads the packaged plugin and listens on $port"
		grep -q '^# TYPE mqttip_online gauge' "$TB_DIR/prom/mqttip.prom" || bad "no Prometheus file from the plugin"
	else
		bad "the broker log does not show the plugin: $(tail -n5 "$TB_DIR/broker.log")"
	fi
	broker_stop "$TB_DIR/broker.log" || bad "broker stop: $(tail -n5 "$TB_DIR/broker.log")"
else
	bad "mosquitto with the uncommented snippet did not start: $(tail -n5 "$TB_DIR/broker.log")"
fi

echo "package_build: $fails failed"
[ "$fails" = 0 ]
