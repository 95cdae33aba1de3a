# shellcheck shell=bash
# Helpers shared by the scripts/stack components. Sourced, not executed.

# log COMPONENT MESSAGE...
log() { local c="$1"; shift; printf '[%s] %s\n' "$c" "$*"; }
warn() { local c="$1"; shift; printf '[%s] %s\n' "$c" "$*" >&2; }

# fail COMPONENT MESSAGE LOGFILE... : say what failed, show the last 30 lines of each log, return 1
fail() {
  local c="$1" msg="$2" f; shift 2
  printf '[%s] FAILED: %s\n' "$c" "$msg" >&2
  for f in "$@"; do
    [ -s "$f" ] || continue
    printf '[%s] ---- last 30 lines of %s ----\n' "$c" "$f" >&2
    tail -n 30 "$f" | sed "s/^/[$c] | /" >&2
  done
  return 1
}

# pid_alive PID
pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]; }

# read_pid FILE -> prints pid if the file names a live process
read_pid() {
  local p
  [ -f "$1" ] || return 1
  p="$(head -n1 "$1" 2>/dev/null | tr -dc 0-9)"
  pid_alive "$p" && echo "$p"
}

# port_open PORT : something accepts TCP connections on 127.0.0.1:PORT
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# port_pid PORT : pid of the process listening on PORT (empty if unknown)
port_pid() {
  ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2
}

# cmdline PID : the process's command line, spaces between arguments
cmdline() { tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null; }

# describe_port_owner PORT : human text naming who holds PORT
describe_port_owner() {
  local p; p="$(port_pid "$1")"
  if [ -n "$p" ]; then
    printf 'pid %s: %s' "$p" "$(cmdline "$p" | cut -c1-200)"
  else
    printf 'an unknown process (ss could not tell)'
  fi
}

# owner_is_other_stack PORT COMPONENT : the listener is a logway stack process of another checkout
owner_is_other_stack() {
  local p; p="$(port_pid "$1")"
  [ -n "$p" ] && cmdline "$p" | grep -q "/.stack/$2/" && ! cmdline "$p" | grep -qF "$STACK/$2/"
}

# other_stack_dir PORT : the .stack directory of the other checkout whose process holds PORT
other_stack_dir() { cmdline "$(port_pid "$1")" | grep -o '[^ =]*/\.stack/' | head -n1; }

# wait_for SECONDS COMMAND... : poll every 0.25 s until COMMAND succeeds
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.25
  done
}

# spawn PIDFILE LOGFILE COMMAND... : start COMMAND detached (own session, no stdin, immune to
# SIGHUP), stdout+stderr appended to LOGFILE, its pid written to PIDFILE.
spawn() {
  local pidfile="$1" logfile="$2"; shift 2
  rm -f "$pidfile"
  printf '==== %s starting: %s\n' "$(date -Is)" "$*" >>"$logfile"
  # The inner shell writes its own pid and then execs, so PIDFILE holds the real process.
  setsid nohup bash -c 'echo $$ > "$0"; exec "$@"' "$pidfile" "$@" </dev/null >>"$logfile" 2>&1 &
  local i
  for i in $(seq 1 40); do [ -s "$pidfile" ] && break; sleep 0.05; done
  [ -s "$pidfile" ]
}

# stop_pid COMPONENT PIDFILE TIMEOUT [SIGNAL] : SIGNAL (TERM), wait up to TIMEOUT s, then SIGKILL
stop_pid() {
  local c="$1" pidfile="$2" timeout="$3" sig="${4:-TERM}" p
  p="$(read_pid "$pidfile")" || { rm -f "$pidfile"; return 0; }
  log "$c" "stopping (pid $p)"
  kill -"$sig" "$p" 2>/dev/null
  if ! wait_for "$timeout" eval "! pid_alive $p"; then
    warn "$c" "still running after ${timeout}s, sending SIGKILL"
    kill -KILL "$p" 2>/dev/null
    wait_for 10 eval "! pid_alive $p"
  fi
  rm -f "$pidfile"
  log "$c" "stopped"
}

# down_other COMPONENT PORT TIMEOUT [SIGNAL] : when PORT is held by this component of another
# checkout's stack, stop that process (so `down X` then `up X` works from any clone); else say
# what holds the port. Always returns 0.
down_other() {
  local c="$1" port="$2" timeout="$3" sig="${4:-TERM}" p tmp
  if ! port_open "$port"; then log "$c" "not running"; return 0; fi
  if owner_is_other_stack "$port" "$c"; then
    p="$(port_pid "$port")"
    log "$c" "127.0.0.1:$port is served by another checkout's stack ($(other_stack_dir "$port"), pid $p); stopping it"
    tmp="$(mktemp)"; echo "$p" > "$tmp"
    stop_pid "$c" "$tmp" "$timeout" "$sig"
    rm -f "$tmp"
  else
    warn "$c" "not running from this stack, and 127.0.0.1:$port is held by $(describe_port_owner "$port") (left alone)"
  fi
  return 0
}

# apt_install PACKAGE... : install Debian packages non-interactively
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "${_STACK_APT_UPDATED:-}" ]; then
    apt-get update -q >/dev/null || return 1
    _STACK_APT_UPDATED=1
  fi
  apt-get install -y -q --no-install-recommends "$@" >/dev/null
}
