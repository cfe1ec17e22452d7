#!/usr/bin/env bash
# The install test of the Debian package (`make test-deb`, docs/packaging.md): on this machine,
# as root, it checks what the package holds, installs it with apt-get, runs the server as its
# systemd unit says, talks to it with the stock socket.io-client, stops it with SIGTERM and
# purges the package, checking each step. Any earlier `parley` package is purged first.
#
#   tests/package/install-test.sh BUILD_DIR      (the build `make deb` made the package in)
#
# Without systemd as PID 1 (containers, and CI's machines) there is no `systemctl start`: the
# test reads ExecStart, User, Group, WorkingDirectory, UMask, LimitNOFILE and NoNewPrivileges
# from the installed unit and runs that command line as that user, with systemd's clean
# environment. The sandboxing directives (ProtectSystem=, ...) are then not applied; they are
# checked by `systemd-analyze verify` and `systemd-analyze security --offline` instead.
#
# On failure it prints the server's log and stops the server; the package stays installed, for
# a look, until the next run purges it.
set -euo pipefail

fail() {
  echo "install-test: FAILED: $*" >&2
  exit 1
}
step() { echo "=== install-test: $*"; }

[[ $(id -u) -eq 0 ]] || fail "needs root: it installs and purges the parley package and runs it as the parley user (run: sudo make test-deb)"
[[ $# -eq 1 ]] || fail "usage: $0 BUILD_DIR"

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$build/package-test
unit=/lib/systemd/system/parley.service
conf=/etc/parley/parley.toml
state=/var/lib/parley
log=$work/server.log
pidfile=$work/server.pid
# Where systemd runs the server, the port reaches it through this runtime drop-in.
dropin=/run/systemd/system/parley.service.d/install-test.conf
# apt and dpkg wait for the lock rather than fail while another apt-get runs on the machine.
apt=(apt-get -y -q -o DPkg::Lock::Timeout=300)
export DEBIAN_FRONTEND=noninteractive

server_pid=
server_started=false
via_systemd=false
[[ -d /run/systemd/system ]] && via_systemd=true

server_log() {
  if $via_systemd; then
    journalctl -u parley --no-pager -n 200 || true
  elif [[ -f $log ]]; then
    cat "$log"
  fi
}

stop_server() {
  if $via_systemd; then
    systemctl stop parley.service >/dev/null 2>&1 || true
    if [[ -e $dropin ]]; then
      rm -f "$dropin"
      systemctl daemon-reload || true
    fi
  elif [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=
  rm -f "$pidfile"
}

on_exit() {
  local rc=$?
  if ((rc != 0)) && $server_started; then
    echo "--- install-test: the server's log" >&2
    server_log >&2
    echo "--- install-test: end of the server's log (the package stays installed; the next run purges it)" >&2
  fi
  stop_server
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# A server left by a run that was killed before its cleanup: the one its pid file names, if
# that is still the installed binary.
if [[ -f $pidfile ]]; then
  old=$(cat "$pidfile")
  if [[ $(readlink "/proc/$old/exe" 2>/dev/null) == /usr/bin/parley ]]; then
    step "stopping the server a previous run left (pid $old)"
    kill -KILL "$old" || true
  fi
fi
rm -rf "$work"
mkdir -p "$work"

# ---------------------------------------------------------------------------------------------
step "purging any installed parley package"
if dpkg-query -W -f='${Status}' parley 2>/dev/null | grep -qv 'not-installed'; then
  "${apt[@]}" purge parley >"$work/purge-before.log" 2>&1 || { cat "$work/purge-before.log"; fail "could not purge the installed parley package"; }
fi
! getent passwd parley >/dev/null || fail "a user parley exists without the package: remove it (deluser --system parley) and run again"

# ---------------------------------------------------------------------------------------------
step "the package's contents"
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
[[ -n $version ]] || fail "no CMAKE_PROJECT_VERSION in $build/CMakeCache.txt"
deb=$build/parley_${version}_amd64.deb
[[ -f $deb ]] || fail "no package $deb (make deb makes it)"
echo "install-test: $deb"
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's#^\./#/#' >"$work/contents"
for path in /usr/bin/parley $unit $conf /usr/share/parley/web/index.html /usr/share/parley/web/app.js \
  /usr/share/parley/web/style.css /usr/share/parley/web/vendor/socket.io.min.js \
  /usr/share/parley/web/vendor/admin/index.html; do
  grep -qx -- "$path" "$work/contents" || fail "the package has no $path"
done
binaries=$(grep '^/usr/bin/.' "$work/contents" || true)
[[ $binaries == /usr/bin/parley ]] || fail "/usr/bin/ should hold parley alone, it holds: $binaries"
if grep -Ei 'bench|test|floor|loadgen|fuzz|node_modules|package(-lock)?\.json' "$work/contents"; then
  fail "the package holds files of the tests, the benchmarks or npm (above)"
fi
dpkg-deb -f "$deb" Depends | grep -qw adduser || fail "Depends has no adduser: $(dpkg-deb -f "$deb" Depends)"

# ---------------------------------------------------------------------------------------------
step "installing with apt-get"
"${apt[@]}" install "$deb" >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "apt-get install $deb failed"; }
dpkg-query -W -f='${Status} ${Version}\n' parley | grep -q "install ok installed $version" \
  || fail "parley $version is not installed: $(dpkg-query -W -f='${Status} ${Version}' parley)"
for path in /usr/bin/parley $unit $conf /usr/share/parley/web/index.html; do
  [[ -e $path ]] || fail "$path is not installed"
done
getent passwd parley >/dev/null || fail "postinst made no user parley"
getent group parley >/dev/null || fail "postinst made no group parley"
[[ $(id -gn parley) == parley ]] || fail "the user parley's group is $(id -gn parley), not parley"
[[ -d $state ]] || fail "postinst made no $state"
[[ $(stat -c '%U:%G %a' "$state") == 'parley:parley 750' ]] \
  || fail "$state is $(stat -c '%U:%G %a' "$state"), not parley:parley 750"
dpkg-query -W -f='${Conffiles}\n' parley | grep -q "^ $conf " || fail "$conf is not a conffile: $(dpkg-query -W -f='${Conffiles}' parley)"

# The installed binary finds the installed web client without being told, even here, where the
# source tree it was built from still has its web/.
web_root=$(cd / && env -i /usr/bin/parley config | sed -n 's/^web-root = //p')
[[ $web_root == '"/usr/share/parley/web"' ]] || fail "/usr/bin/parley without --web-root serves $web_root, not /usr/share/parley/web"

# ---------------------------------------------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
  step "systemd-analyze verify and security of the installed unit"
  # verify exits 0 on unknown keys and bad values too, only saying so: any output fails.
  if ! out=$(systemd-analyze verify "$unit" 2>&1) || [[ -n $out ]]; then
    fail "systemd-analyze verify $unit: $out"
  fi
  # The exposure score of the sandboxing (0 to 10, lower is safer; the unit has 3.4): above 4.0
  # some of the hardening went.
  out=$(systemd-analyze security --offline=yes --threshold=40 "$unit" 2>&1) \
    || fail "systemd-analyze security: $(echo "$out" | tail -n 30)"
  echo "install-test: $(echo "$out" | grep 'Overall exposure level')"
else
  # systemd-analyze comes with the systemd package: where that is not installed there is
  # nothing to check the unit with (the install itself still runs).
  step "skipping systemd-analyze: not installed"
fi

# ---------------------------------------------------------------------------------------------
port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')
url=http://127.0.0.1:$port

# The value of the unit's KEY= ("" when absent), from the installed unit file.
unit_value() { sed -n "s/^$1=//p" "$unit" | tail -n 1; }
user=$(unit_value User)
group=$(unit_value Group)
[[ $user == parley && $group == parley ]] || fail "the unit runs as $user:$group, not parley:parley"

# Runs a command as the unit's user, in the unit's working directory with its umask, limits and
# clean environment (PATH as systemd sets it, plus the NAME=VALUE arguments before the command).
# It ends in exec: call it in a subshell.
as_unit() {
  local dir umask nofile nnp=()
  dir=$(unit_value WorkingDirectory)
  umask=$(unit_value UMask)
  nofile=$(unit_value LimitNOFILE)
  [[ $(unit_value NoNewPrivileges) == yes ]] && nnp=(--no-new-privs)
  local env=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin USER="$user" LOGNAME="$user"
    HOME="$(getent passwd "$user" | cut -d: -f6)")
  while [[ $1 == *=* ]]; do env+=("$1"); shift; done
  cd "${dir:-/}"
  [[ -n $umask ]] && umask "$umask"
  # A container may hold the hard limit below LimitNOFILE even for root: then as high as it goes.
  [[ -n $nofile ]] && { ulimit -n "$nofile" 2>/dev/null || ulimit -n "$(ulimit -Hn)"; }
  exec env -i "${env[@]}" setpriv --reuid="$user" --regid="$group" --init-groups "${nnp[@]}" -- "$@"
}

if $via_systemd; then
  step "starting parley.service with systemd on port $port"
  mkdir -p "$(dirname "$dropin")"
  printf '[Service]\nEnvironment=PARLEY_PORT=%s\n' "$port" >"$dropin"
  systemctl daemon-reload
  server_started=true
  systemctl restart parley.service || fail "systemctl restart parley failed"
else
  read -r -a exec_start <<<"$(unit_value ExecStart)"
  ((${#exec_start[@]})) || fail "the unit has no ExecStart"
  step "no systemd here: running the unit's ExecStart as $user on port $port: ${exec_start[*]}"
  nofile=$(unit_value LimitNOFILE)
  if [[ -n $nofile ]] && ! (ulimit -n "$nofile") 2>/dev/null; then
    echo "install-test: LimitNOFILE=$nofile is above this machine's hard limit, $(ulimit -Hn): the server runs with that"
  fi
  (as_unit PARLEY_PORT="$port" "${exec_start[@]}") >"$log" 2>&1 &
  server_pid=$!
  server_started=true
  echo "$server_pid" >"$pidfile"
fi

server_alive() {
  if $via_systemd; then systemctl is-active --quiet parley.service; else kill -0 "$server_pid" 2>/dev/null; fi
}

step "waiting for $url/healthz"
deadline=$((SECONDS + 30))
until curl -fsS -o /dev/null --max-time 2 "$url/healthz" 2>/dev/null; do
  server_alive || fail "the server exited before answering /healthz"
  ((SECONDS < deadline)) || fail "no answer from $url/healthz within 30 s"
  sleep 0.2
done
health=$(curl -fsS --max-time 5 "$url/healthz")
[[ $health == *'"ok":true'* ]] || fail "/healthz answered $health"

step "the web client from /usr/share/parley/web"
config=$(as_unit /usr/bin/parley config --config "$conf")
grep -qx 'web-root = "/usr/share/parley/web"' <<<"$config" || fail "the service's web-root is not /usr/share/parley/web: $(grep web-root <<<"$config")"
grep -qx "data-dir = \"$state\"" <<<"$config" || fail "the service's data-dir is not $state: $(grep data-dir <<<"$config")"
curl -fsS --max-time 5 "$url/" -o "$work/index.html" || fail "GET / failed"
cmp -s "$work/index.html" /usr/share/parley/web/index.html || fail "GET / is not /usr/share/parley/web/index.html"
curl -fsS --max-time 5 "$url/socket.io/socket.io.min.js" -o "$work/socket.io.min.js" || fail "GET /socket.io/socket.io.min.js failed"
cmp -s "$work/socket.io.min.js" /usr/share/parley/web/vendor/socket.io.min.js \
  || fail "GET /socket.io/socket.io.min.js is not /usr/share/parley/web/vendor/socket.io.min.js"

step "parley user add, as $user with --config $conf"
email="package-test-$port@example.org"
password="package-test-$RANDOM$RANDOM"
added=$(as_unit /usr/bin/parley user add --email "$email" --password "$password" --name "Package Test" --config "$conf" 2>&1) \
  || fail "parley user add failed: $added"
[[ $added == *"\"email\":\"$email\""* ]] || fail "parley user add answered: $added"

step "login, socket.io-client, message:send"
node "$here/chat-check.mjs" "$url" "$email" "$password" || fail "the chat check against the installed server failed (above)"

step "the database under $state"
[[ -f $state/parley.db ]] || fail "no $state/parley.db: $(ls -la "$state")"
[[ $(stat -c %U:%G "$state/parley.db") == parley:parley ]] || fail "$state/parley.db is owned by $(stat -c %U:%G "$state/parley.db")"
others=$(find "$state" -perm /o=rwx)
[[ -z $others ]] || fail "files under $state that others may use (UMask=0027): $others"
notours=$(find "$state" ! -user parley)
[[ -z $notours ]] || fail "files under $state not owned by parley: $notours"

# ---------------------------------------------------------------------------------------------
step "stopping with SIGTERM"
if $via_systemd; then
  systemctl stop parley.service
  status=$(systemctl show parley.service -p ExecMainCode -p ExecMainStatus --value | paste -sd' ')
  # ExecMainCode 1 is CLD_EXITED: an exit, not a signal.
  [[ $status == '1 0' ]] || fail "parley.service did not exit 0 on SIGTERM (code, status: $status)"
  rm -f "$dropin"
  systemctl daemon-reload
else
  kill -TERM "$server_pid"
  deadline=$((SECONDS + 30))
  while kill -0 "$server_pid" 2>/dev/null; do
    ((SECONDS < deadline)) || fail "the server still runs 30 s after SIGTERM (the unit's TimeoutStopSec)"
    sleep 0.1
  done
  rc=0
  wait "$server_pid" || rc=$?
  server_pid=
  rm -f "$pidfile"
  ((rc == 0)) || fail "the server exited $rc on SIGTERM, not 0"
fi

# ---------------------------------------------------------------------------------------------
step "installing the package again over itself, as an upgrade does"
uid=$(id -u parley)
echo "# a local change, kept across upgrades" >>"$conf"
"${apt[@]}" install --reinstall "$deb" >"$work/reinstall.log" 2>&1 || { cat "$work/reinstall.log"; fail "apt-get install --reinstall $deb failed"; }
[[ $(id -u parley) == "$uid" ]] || fail "the user parley was made again: uid $(id -u parley), was $uid"
grep -qx "# a local change, kept across upgrades" "$conf" || fail "the upgrade lost the local change to $conf"
[[ -f $state/parley.db ]] || fail "the upgrade lost $state/parley.db"
[[ $(stat -c '%U:%G %a' "$state") == 'parley:parley 750' ]] || fail "after the upgrade $state is $(stat -c '%U:%G %a' "$state")"

step "removing the package (not purging): the data, the config and the user stay"
"${apt[@]}" remove parley >"$work/remove.log" 2>&1 || { cat "$work/remove.log"; fail "apt-get remove parley failed"; }
dpkg-query -W -f='${Status}' parley | grep -q 'config-files' || fail "after remove parley is $(dpkg-query -W -f='${Status}' parley)"
for path in /usr/bin/parley $unit /usr/share/parley; do
  [[ ! -e $path ]] || fail "$path is still there after remove"
done
for path in $conf $state/parley.db $state/jwt-secret; do
  [[ -e $path ]] || fail "remove took $path (only purge should)"
done
getent passwd parley >/dev/null || fail "remove took the user parley (only purge should)"

# ---------------------------------------------------------------------------------------------
step "purging the package"
"${apt[@]}" purge parley >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "apt-get purge parley failed"; }
! dpkg-query -W -f='${Status}' parley 2>/dev/null | grep -qv 'not-installed' \
  || fail "parley is still known to dpkg: $(dpkg-query -W -f='${Status}' parley)"
for path in /usr/bin/parley $unit /etc/parley $state /usr/share/parley /etc/systemd/system/multi-user.target.wants/parley.service \
  /etc/systemd/system/parley.service; do
  [[ ! -e $path && ! -L $path ]] || fail "$path is still there after the purge"
done
! getent passwd parley >/dev/null || fail "the user parley is still there after the purge"
! getent group parley >/dev/null || fail "the group parley is still there after the purge"

step "passed"
