#!/usr/bin/env bash
# Builds Hearth and installs it as a systemd service:
#   - /usr/local/bin/hearth (--prefix changes /usr/local)
#   - a `hearth` system user whose home is the data dir (--data-dir, default /var/lib/hearth);
#     the model store is <data-dir>/models, so a data disk holds the models
#   - /etc/hearth/env (kept if present) and /etc/systemd/system/hearth.service, enabled and started
# --uninstall reverses it (the data dir and the user stay unless --purge).
# --root DIR installs into DIR as if it were / and touches nothing outside it: no useradd, chown
# or systemctl; what would run is written to DIR/etc/hearth/install-plan.txt and the user's passwd
# line to DIR/etc/hearth/passwd.plan (tests and packaging use this).
set -euo pipefail

usage() {
  cat <<USAGE
Usage: scripts/install.sh [options]
  --data-dir DIR   service user's home and model store (default /var/lib/hearth)
  --prefix DIR     install prefix (default /usr/local)
  --root DIR       install into DIR instead of / (no system changes; writes a plan)
  --user NAME      service user (default hearth)
  --binary PATH    install this hearth binary instead of building one
  --build-dir DIR  build directory (default build-install)
  --no-start       enable the service but do not start it now
  --uninstall      remove the service, unit and binary (keeps data and user)
  --purge          with --uninstall: also remove the user and the data dir
USAGE
}

SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
DATA_DIR=/var/lib/hearth
DATA_DIR_GIVEN=0
PREFIX=/usr/local
ROOT=""
SVC_USER=hearth
BINARY=""
BUILD_DIR="$SRC_DIR/build-install"
START=1
UNINSTALL=0
PURGE=0

while [ $# -gt 0 ]; do
  case "$1" in
    --data-dir) DATA_DIR=$2; DATA_DIR_GIVEN=1; shift 2 ;;
    --data-dir=*) DATA_DIR=${1#*=}; DATA_DIR_GIVEN=1; shift ;;
    --prefix) PREFIX=$2; shift 2 ;;
    --prefix=*) PREFIX=${1#*=}; shift ;;
    --root) ROOT=$2; shift 2 ;;
    --root=*) ROOT=${1#*=}; shift ;;
    --user) SVC_USER=$2; shift 2 ;;
    --user=*) SVC_USER=${1#*=}; shift ;;
    --binary) BINARY=$2; shift 2 ;;
    --binary=*) BINARY=${1#*=}; shift ;;
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --build-dir=*) BUILD_DIR=${1#*=}; shift ;;
    --no-start) START=0; shift ;;
    --uninstall) UNINSTALL=1; shift ;;
    --purge) PURGE=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

die() { echo "install.sh: error: $*" >&2; exit 1; }
note() { echo "install.sh: $*"; }

case "$DATA_DIR" in /*) ;; *) die "--data-dir must be an absolute path (got '$DATA_DIR')" ;; esac
case "$PREFIX" in /*) ;; *) die "--prefix must be an absolute path (got '$PREFIX')" ;; esac
[[ "$SVC_USER" =~ ^[a-z_][a-z0-9_-]*$ ]] || die "invalid user name '$SVC_USER'"
if [ -n "$ROOT" ]; then
  mkdir -p "$ROOT"
  ROOT=$(cd "$ROOT" && pwd)
  [ "$ROOT" != / ] || ROOT=""
fi
if [ -z "$ROOT" ] && [ "$(id -u)" != 0 ]; then
  die "installing a system service needs root: run with sudo (or use --root DIR to stage)"
fi

BIN_PATH="$PREFIX/bin/hearth"
UNIT_PATH=/etc/systemd/system/hearth.service
ENV_PATH=/etc/hearth/env
PLAN="$ROOT/etc/hearth/install-plan.txt"

# In --root mode every system change is written to the plan instead of run.
run_or_plan() {
  if [ -n "$ROOT" ]; then
    mkdir -p "$(dirname "$PLAN")"
    printf '%q ' "$@" | sed 's/ $//' >> "$PLAN"
    echo >> "$PLAN"
  else
    "$@"
  fi
}

have_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

if [ "$UNINSTALL" = 1 ]; then
  # The data dir the installed unit uses, unless given.
  # (or, once the unit is gone, the service user's home).
  if [ "$DATA_DIR_GIVEN" = 0 ]; then
    if [ -f "$ROOT$UNIT_PATH" ]; then
      DATA_DIR=$(sed -n 's/^WorkingDirectory=//p' "$ROOT$UNIT_PATH" | head -1)
    elif [ -n "$ROOT" ] && [ -f "$ROOT/etc/hearth/passwd.plan" ]; then
      DATA_DIR=$(cut -d: -f6 "$ROOT/etc/hearth/passwd.plan")
    elif [ -z "$ROOT" ] && getent passwd "$SVC_USER" >/dev/null; then
      DATA_DIR=$(getent passwd "$SVC_USER" | cut -d: -f6)
    fi
  fi
  if [ -n "$ROOT" ]; then mkdir -p "$(dirname "$PLAN")"; : > "$PLAN"; fi
  if [ -n "$ROOT" ] || have_systemd; then
    run_or_plan systemctl disable --now hearth.service || true
  fi
  rm -f "$ROOT$UNIT_PATH"
  if [ -n "$ROOT" ] || have_systemd; then run_or_plan systemctl daemon-reload; fi
  rm -f "$ROOT$BIN_PATH"
  note "removed $BIN_PATH and $UNIT_PATH"
  if [ "$PURGE" = 1 ]; then
    run_or_plan userdel "$SVC_USER" || true
    case "$DATA_DIR" in /|/usr|/usr/*|/etc|/etc/*|/home|/root|/var|/var/lib) die "refusing to delete $DATA_DIR" ;; esac
    rm -rf -- "$ROOT$DATA_DIR" "$ROOT/etc/hearth"
    note "removed user $SVC_USER, $DATA_DIR and /etc/hearth"
  else
    note "kept $DATA_DIR (models) and user $SVC_USER; --purge removes them"
  fi
  exit 0
fi

# 1. The binary.
if [ -z "$BINARY" ]; then
  note "building hearth in $BUILD_DIR"
  cmake -S "$SRC_DIR" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DHEARTH_TESTS=OFF \
    -DHEARTH_BENCH=OFF >/dev/null
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target hearth
  BINARY="$BUILD_DIR/hearth"
fi
[ -x "$BINARY" ] || die "no executable at $BINARY"
install -D -m 0755 "$BINARY" "$ROOT$BIN_PATH"
note "installed $BIN_PATH"

# 2. The service user, whose home is the data dir.
if [ -n "$ROOT" ]; then mkdir -p "$(dirname "$PLAN")"; : > "$PLAN"; fi
if [ -n "$ROOT" ]; then
  printf '%s:x:999:999:Hearth LLM server:%s:/usr/sbin/nologin\n' "$SVC_USER" "$DATA_DIR" \
    > "$ROOT/etc/hearth/passwd.plan"
  run_or_plan useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home \
    --shell /usr/sbin/nologin --comment "Hearth LLM server" "$SVC_USER"
elif getent passwd "$SVC_USER" >/dev/null; then
  home=$(getent passwd "$SVC_USER" | cut -d: -f6)
  if [ "$home" != "$DATA_DIR" ]; then
    note "user $SVC_USER exists with home $home; moving its home to $DATA_DIR"
    usermod --home "$DATA_DIR" "$SVC_USER"
  fi
else
  useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home \
    --shell /usr/sbin/nologin --comment "Hearth LLM server" "$SVC_USER"
  note "created system user $SVC_USER (home $DATA_DIR)"
fi

# 3. The data dir and model store, owned by the service user.
mkdir -p "$ROOT$DATA_DIR/models"
run_or_plan chown -R "$SVC_USER:$SVC_USER" "$DATA_DIR"
chmod 0755 "$ROOT$DATA_DIR"

# Every directory above the store must be enterable (x) by the service user, or the server
# cannot open its models: the most common failure when the store sits under someone's home or on
# a disk mounted 0700.
check_traversable() {
  local p="" part
  local -a parts
  IFS=/ read -r -a parts <<< "${DATA_DIR#/}"
  for part in "" "${parts[@]}"; do
    [ -n "$part" ] && p="$p/$part"
    local d="${p:-/}"
    local ok=1
    if [ -n "$ROOT" ]; then
      # The user does not exist yet: it is "other" to every directory it does not own.
      local mode
      mode=$(stat -c %a "$ROOT$d")
      (( (8#$mode & 8#001) != 0 )) || ok=0
    else
      runuser -u "$SVC_USER" -- test -x "$d" || ok=0
    fi
    if [ "$ok" = 0 ]; then
      local owner mode
      owner=$(stat -c %U "$ROOT$d")
      mode=$(stat -c %a "$ROOT$d")
      die "the service user '$SVC_USER' cannot enter $d (owner $owner, mode $mode), so it cannot reach $DATA_DIR/models.
  Fix: chmod o+x $d   (or choose a --data-dir outside it, e.g. /data/hearth)"
    fi
  done
}
check_traversable
note "data dir $DATA_DIR (models in $DATA_DIR/models)"

# 4. The environment file (kept when present: it is the administrator's).
if [ ! -e "$ROOT$ENV_PATH" ]; then
  mkdir -p "$ROOT/etc/hearth"
  cat > "$ROOT$ENV_PATH" <<ENVFILE
# Environment of hearth.service, one NAME=value per line (see 'hearth serve --help').
# $DATA_DIR/env is read after this file and wins.
HEARTH_HOST=127.0.0.1:11434
# To serve other machines, bind every interface AND require a key (or firewall the port):
# HEARTH_HOST=0.0.0.0:11434
# HEARTH_API_KEY=change-me
# HEARTH_KEEP_ALIVE=5m
# HEARTH_NUM_PARALLEL=1
ENVFILE
  chmod 0640 "$ROOT$ENV_PATH"
  run_or_plan chgrp "$SVC_USER" "$ENV_PATH"
  note "wrote $ENV_PATH"
else
  note "kept existing $ENV_PATH"
fi

# 5. The unit.
mkdir -p "$ROOT/etc/systemd/system"
sed -e "s|@BINARY@|$BIN_PATH|g" -e "s|@USER@|$SVC_USER|g" -e "s|@DATA_DIR@|$DATA_DIR|g" \
  "$SRC_DIR/packaging/hearth.service.in" > "$ROOT$UNIT_PATH"
chmod 0644 "$ROOT$UNIT_PATH"
note "wrote $UNIT_PATH"
# Verified strictly: any complaint (even one systemd would only warn about) fails the install.
verify_unit() {
  local out
  if [ -n "$ROOT" ]; then
    # A staged root has no systemd units of its own (sysinit.target...): verify in a scratch root
    # holding the host's units, the new unit and the installed binary at their final paths.
    local vroot
    vroot=$(mktemp -d)
    mkdir -p "$vroot/lib/systemd" "$vroot/etc/systemd/system" "$vroot$(dirname "$BIN_PATH")"
    cp -a /lib/systemd/system "$vroot/lib/systemd/"
    cp "$ROOT$UNIT_PATH" "$vroot$UNIT_PATH"
    cp -l "$ROOT$BIN_PATH" "$vroot$BIN_PATH" 2>/dev/null || cp "$ROOT$BIN_PATH" "$vroot$BIN_PATH"
    out=$(systemd-analyze verify --root="$vroot" "$UNIT_PATH" 2>&1) || { rm -rf "$vroot"; echo "$out" >&2; return 1; }
    rm -rf "$vroot"
  else
    out=$(systemd-analyze verify "$UNIT_PATH" 2>&1) || { echo "$out" >&2; return 1; }
  fi
  if [ -n "$out" ]; then echo "$out" >&2; return 1; fi
}
if command -v systemd-analyze >/dev/null 2>&1; then
  verify_unit || die "systemd-analyze verify rejected $UNIT_PATH"
  note "systemd-analyze verify: $UNIT_PATH is valid"
else
  note "systemd-analyze not found: unit not verified (apt-get install systemd)"
fi

# 6. Enable and start.
if [ -n "$ROOT" ]; then
  run_or_plan systemctl daemon-reload
  if [ "$START" = 1 ]; then
    run_or_plan systemctl enable --now hearth.service
  else
    run_or_plan systemctl enable hearth.service
  fi
  note "staged into $ROOT; planned system changes: $PLAN"
elif have_systemd; then
  systemctl daemon-reload
  if [ "$START" = 1 ]; then
    systemctl enable --now hearth.service
    note "hearth.service is running: 'systemctl status hearth', logs: 'journalctl -u hearth -f'"
  else
    systemctl enable hearth.service
  fi
else
  note "systemd is not running here: start the server with 'sudo -u $SVC_USER $BIN_PATH serve'"
fi
