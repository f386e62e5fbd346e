#!/usr/bin/env bash
# Brings up a working Trainyard on this machine: PostgreSQL, the API and one local CPU runner.
#
#   ./run.sh [up] [--build]   start everything and stay in the foreground (Ctrl-C stops it)
#   ./run.sh db [NAME...]     make sure a PostgreSQL answers (start the private one if needed), create the
#                             databases NAME..., and print the server's base JDBC URL as the last line
#   ./run.sh status           what is running
#   ./run.sh stop             stop what a previous run left behind, the private PostgreSQL included
#
# Safe to rerun. Everything it creates lives under TRAINYARD_HOME (default: .trainyard in the repository).
# Settings (environment): see docs/configuration.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TRAINYARD_HOME="${TRAINYARD_HOME:-$ROOT/.trainyard}"
[[ "$TRAINYARD_HOME" == /* ]] || TRAINYARD_HOME="$PWD/$TRAINYARD_HOME"
DB_URL="${DB_URL:-jdbc:postgresql://127.0.0.1:5432/trainyard}"
DB_USER="${DB_USER:-postgres}"
PORT="${PORT:-8080}"
HOST="${HOST:-127.0.0.1}"
PRIVATE_PG_PORT="${TRAINYARD_PG_PORT:-55432}"
RUNNER_DEVICES="${TRAINYARD_RUNNER_DEVICES:-2}"
# the runner reads the same variable (it inherits the environment); the launcher waits a little longer for it
RUNNER_LEAVE_WITHIN="${TRAINYARD_RUNNER_LEAVE_WITHIN:-25}"
RUNNER_POOL="${TRAINYARD_RUNNER_POOL:-local-cpu}"
DATA_DIR="${TRAINYARD_DATA_DIR:-$TRAINYARD_HOME/data}"
[[ "$DATA_DIR" == /* ]] || DATA_DIR="$PWD/$DATA_DIR"
START_TIMEOUT="${TRAINYARD_START_TIMEOUT:-180}"

API_JAR="$ROOT/api/server/target/quarkus-app/quarkus-run.jar"
RUNNER_JAR="$ROOT/gpu-runner/target/gpu-runner.jar"
PG_DIR="$TRAINYARD_HOME/pg"
RUN_DIR="$TRAINYARD_HOME/run"
LOG_DIR="$TRAINYARD_HOME/logs"
API_URL="http://127.0.0.1:$PORT"

if [[ -n "${DB_PASSWORD:-}" ]]; then
  export PGPASSWORD="$DB_PASSWORD"
fi

# ---------------------------------------------------------------------------------------------- output

# Messages go to stderr so that `./run.sh db` can keep stdout for the URL alone.
say() { printf '[run.sh] %s\n' "$*" >&2; }
warn() { printf '[run.sh] WARNING: %s\n' "$*" >&2; }
die() {
  printf '[run.sh] ERROR: %s\n' "$*" >&2
  exit 1
}

# -------------------------------------------------------------------------------------- the database

# Splits a JDBC URL jdbc:postgresql://host[:port]/db[?params] into DB_HOST, DB_PORT, DB_NAME, DB_PARAMS.
parse_db_url() {
  local url="$1" rest hostport
  [[ "$url" == jdbc:postgresql://* ]] || die "DB_URL must look like jdbc:postgresql://host:port/database (got $url)"
  rest="${url#jdbc:postgresql://}"
  hostport="${rest%%/*}"
  DB_NAME="${rest#*/}"
  [[ "$rest" == */* ]] || DB_NAME=""
  DB_PARAMS=""
  if [[ "$DB_NAME" == *\?* ]]; then
    DB_PARAMS="?${DB_NAME#*\?}"
    DB_NAME="${DB_NAME%%\?*}"
  fi
  DB_NAME="${DB_NAME:-trainyard}"
  DB_HOST="${hostport%%:*}"
  DB_PORT=5432
  [[ "$hostport" == *:* ]] && DB_PORT="${hostport##*:}"
  DB_HOST="${DB_HOST:-127.0.0.1}"
}

db_answers() { pg_isready -q -h "$1" -p "$2" -t 3 >/dev/null 2>&1; }

pg_bin_dir() {
  local dir best=""
  for dir in /usr/lib/postgresql/*/bin; do
    [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]] && best="$dir"
  done
  [[ -n "$best" ]] && printf '%s\n' "$best"
}

as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    die "need root to run: $*"
  fi
}

install_postgresql() {
  command -v apt-get >/dev/null 2>&1 || die "no PostgreSQL binaries found and no apt-get: install PostgreSQL or set DB_URL"
  say "no PostgreSQL binaries found: installing Debian's postgresql package"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2
}

# PostgreSQL refuses to run as root: as root, its commands run as the unprivileged postgres user.
as_pg_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

ensure_postgres_user() {
  [[ $(id -u) -eq 0 ]] || return 0
  if ! id -u postgres >/dev/null 2>&1; then
    say "creating the system user 'postgres' to run the private PostgreSQL"
    useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  fi
}

# As root, the data folder must be reachable by the postgres user; when the repository sits in a folder that
# user cannot enter (a home directory of mode 700), the data goes to /var/lib/trainyard and .trainyard/pg
# links there, so later runs and `./run.sh stop` find it.
prepare_pg_dir() {
  mkdir -p "$TRAINYARD_HOME"
  if [[ -L "$PG_DIR" || -d "$PG_DIR" ]]; then
    PG_DATA="$(readlink -f "$PG_DIR")"
  else
    PG_DATA="$PG_DIR"
  fi
  if [[ $(id -u) -eq 0 ]]; then
    mkdir -p "$PG_DATA"
    chown postgres: "$PG_DATA"
    chmod 700 "$PG_DATA"
    if ! runuser -u postgres -- test -w "$PG_DATA"; then
      local fallback
      fallback="/var/lib/trainyard/pg-$(printf '%s' "$TRAINYARD_HOME" | cksum | cut -d' ' -f1)"
      warn "user postgres cannot reach $PG_DATA; keeping the database in $fallback instead"
      rmdir "$PG_DATA" 2>/dev/null || true
      mkdir -p "$fallback"
      chown postgres: "$fallback"
      chmod 700 "$fallback"
      ln -sfn "$fallback" "$PG_DIR"
      PG_DATA="$fallback"
    fi
  else
    mkdir -p "$PG_DATA"
    chmod 700 "$PG_DATA"
  fi
}

private_pg_running() {
  local bin
  [[ -e "$PG_DIR/PG_VERSION" ]] || return 1
  bin="$(pg_bin_dir)" || return 1
  as_pg_owner "$bin/pg_ctl" -D "$(readlink -f "$PG_DIR")" status >/dev/null 2>&1
}

# Starts (creating it the first time) the private PostgreSQL under TRAINYARD_HOME/pg.
start_private_pg() {
  local bin socket_opt pg_log
  bin="$(pg_bin_dir)" || true
  if [[ -z "$bin" ]]; then
    install_postgresql
    bin="$(pg_bin_dir)" || die "installed postgresql but found no /usr/lib/postgresql/<version>/bin"
  fi
  ensure_postgres_user
  prepare_pg_dir
  mkdir -p "$LOG_DIR"
  if [[ ! -e "$PG_DATA/PG_VERSION" ]]; then
    say "creating a private PostgreSQL in $PG_DATA"
    as_pg_owner "$bin/initdb" -D "$PG_DATA" -U "$DB_USER" --auth=trust -E UTF8 >"$LOG_DIR/initdb.log" 2>&1 ||
      die "initdb failed, see $LOG_DIR/initdb.log"
  fi
  # The Unix socket lives in the data folder; paths over ~100 characters do not fit in a socket address.
  socket_opt="-k $PG_DATA"
  if (( ${#PG_DATA} > 90 )); then
    socket_opt="-c unix_socket_directories="
  fi
  # The server writes its own log, so the file must be one its user can reach.
  pg_log="$LOG_DIR/postgres.log"
  [[ -L "$PG_DIR" ]] && pg_log="$PG_DATA/postgres.log"
  touch "$pg_log"
  if [[ $(id -u) -eq 0 ]]; then chown postgres: "$pg_log"; fi
  say "starting the private PostgreSQL on 127.0.0.1:$PRIVATE_PG_PORT (log: $pg_log)"
  as_pg_owner "$bin/pg_ctl" -D "$PG_DATA" -l "$pg_log" -w -t 60 \
    -o "-p $PRIVATE_PG_PORT -c listen_addresses=127.0.0.1 $socket_opt" start >/dev/null 9>&- ||
    die "the private PostgreSQL did not start, see $pg_log"
}

stop_private_pg() {
  local bin
  private_pg_running || return 0
  bin="$(pg_bin_dir)"
  say "stopping the private PostgreSQL"
  as_pg_owner "$bin/pg_ctl" -D "$(readlink -f "$PG_DIR")" -m fast -w stop >/dev/null || warn "pg_ctl stop failed"
}

# Sets DB_HOST/DB_PORT/DB_NAME to a server that answers: the one of DB_URL, else the private one
# (reused when it already runs, started otherwise). STARTED_PG=1 when this call started it.
ensure_db_server() {
  STARTED_PG=0
  parse_db_url "$DB_URL"
  command -v pg_isready >/dev/null 2>&1 || [[ -n "$(pg_bin_dir)" ]] || install_postgresql
  if ! command -v pg_isready >/dev/null 2>&1; then
    PATH="$PATH:$(pg_bin_dir)"
  fi
  if db_answers "$DB_HOST" "$DB_PORT"; then
    say "PostgreSQL answers at $DB_HOST:$DB_PORT"
    return 0
  fi
  say "nothing answers at $DB_HOST:$DB_PORT: using a private PostgreSQL"
  DB_HOST=127.0.0.1
  DB_PORT="$PRIVATE_PG_PORT"
  if private_pg_running && db_answers "$DB_HOST" "$DB_PORT"; then
    say "the private PostgreSQL already runs on port $DB_PORT"
    return 0
  fi
  if db_answers "$DB_HOST" "$DB_PORT"; then
    die "another PostgreSQL already listens on port $DB_PORT; set DB_URL to it or TRAINYARD_PG_PORT to a free port"
  fi
  start_private_pg
  STARTED_PG=1
}

create_database() {
  local name="$1" exists
  [[ "$name" =~ ^[A-Za-z0-9_]+$ ]] || die "database name must be letters, digits and '_': $name"
  exists="$(psql -X -q -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d postgres -Atc \
    "SELECT 1 FROM pg_database WHERE datname = '$name'")" || die "cannot connect to PostgreSQL at $DB_HOST:$DB_PORT as $DB_USER"
  if [[ "$exists" != 1 ]]; then
    say "creating database $name"
    psql -X -q -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d postgres -c "CREATE DATABASE \"$name\"" >/dev/null
  fi
}

# ------------------------------------------------------------------------------------------ processes

# Takes the API URL and database of the running API (they may differ from this shell's PORT and DB_URL).
load_running_where() {
  if pid_alive api && [[ -s "$RUN_DIR/api.where" ]]; then
    API_URL="$(sed -n 1p "$RUN_DIR/api.where")"
    RUNNING_DB="$(sed -n 2p "$RUN_DIR/api.where")"
  fi
}

# True when the pid file names a live process of this platform (a stale file's pid may belong to another
# program by now: that one is never signalled).
pid_alive() {
  local file="$RUN_DIR/$1.pid" pid
  [[ -f "$file" ]] || return 1
  pid="$(cat "$file")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r "/proc/$pid/cmdline" ]]; then
    [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" == *"$TRAINYARD_HOME/app/"* ]] || return 1
  fi
}

# Seconds to wait for the runner to leave: its leave window and 5 s to exit (30 for a window that is no number;
# the agent itself refuses such a window at start).
runner_stop_wait() {
  if [[ "$RUNNER_LEAVE_WITHIN" =~ ^[0-9]{1,4}$ ]]; then echo $((10#$RUNNER_LEAVE_WITHIN + 5)); else echo 30; fi
}

# Sends TERM, waits up to $2 seconds (default 30) for the process to finish its shutdown, then KILL.
stop_process() {
  local name="$1" file="$RUN_DIR/$1.pid" wait_s="${2:-30}" pid i
  [[ -f "$file" ]] || return 0
  pid="$(cat "$file")"
  if pid_alive "$name"; then
    say "stopping the $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < wait_s * 2; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      warn "the $name did not stop in $wait_s s: killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$file"
  [[ "$name" != api ]] || rm -f "$RUN_DIR/api.where"
}

# Keeps the previous run's log as NAME.log.1.
rotate_log() {
  if [[ -s "$LOG_DIR/$1.log" ]]; then mv -f "$LOG_DIR/$1.log" "$LOG_DIR/$1.log.1"; fi
}

# ---------------------------------------------------------------------------------------------- build

build_if_needed() {
  local force="$1"
  if [[ "$force" == 1 || ! -f "$API_JAR" || ! -f "$RUNNER_JAR" ]]; then
    say "building (./mvnw -q -DskipTests package); the first build downloads dependencies and takes minutes"
    if ! (cd "$ROOT" && ./mvnw -q -DskipTests package >&2 9>&-); then
      [[ -f "$API_JAR" ]] || die "the build failed and there is no API to start"
      warn "the build failed; starting what was built before"
    fi
  fi
  [[ -f "$API_JAR" ]] || die "missing $API_JAR after the build"
}

# Runs copies of the build outputs, so that rebuilding (./mvnw verify in another terminal) while the platform
# runs cannot pull jars from under the running processes. Copies again only when the build changed.
stage_app() {
  local name="$1" dest="$TRAINYARD_HOME/app/$1" stamp
  shift
  stamp="$(cd "$ROOT" && find "$@" -type f -printf '%p %s %T@\n' 2>/dev/null | sort | cksum)"
  if [[ -f "$dest/.stamp" && "$(cat "$dest/.stamp")" == "$stamp" ]]; then
    return 0
  fi
  rm -rf "$dest.new"
  mkdir -p "$dest.new"
  (cd "$ROOT" && cp -a "$@" "$dest.new/")
  printf '%s\n' "$stamp" >"$dest.new/.stamp"
  rm -rf "$dest"
  mv "$dest.new" "$dest"
}

stage_apps() {
  stage_app api api/server/target/quarkus-app
  STAGED_API_JAR="$TRAINYARD_HOME/app/api/quarkus-app/quarkus-run.jar"
  STAGED_RUNNER_JAR=""
  if [[ -f "$RUNNER_JAR" ]]; then
    stage_app runner gpu-runner/target/gpu-runner.jar gpu-runner/target/lib
    STAGED_RUNNER_JAR="$TRAINYARD_HOME/app/runner/gpu-runner.jar"
  fi
}

# ----------------------------------------------------------------------------------------- the tokens

new_secret() {
  printf 'ty_%s\n' "$(head -c 32 /dev/urandom | base64 | tr -d '\n=' | tr '+/' '-_')"
}

write_secret() {
  local file="$1" secret="$2"
  (umask 077 && printf '%s\n' "$secret" >"$file")
  chmod 600 "$file"
}

ensure_admin_token() {
  mkdir -p "$TRAINYARD_HOME"
  if [[ -n "${TRAINYARD_ADMIN_TOKEN:-}" ]]; then
    ADMIN_TOKEN="$TRAINYARD_ADMIN_TOKEN"
    return 0
  fi
  if [[ ! -s "$TRAINYARD_HOME/admin-token" ]]; then
    write_secret "$TRAINYARD_HOME/admin-token" "$(new_secret)"
  fi
  ADMIN_TOKEN="$(cat "$TRAINYARD_HOME/admin-token")"
}

# Prints "<status code> <body>" of an API call with the admin token; the body is on one line.
api_call() {
  local method="$1" path="$2" body="${3:-}" token="${4:-$ADMIN_TOKEN}" out code
  out="$(mktemp)"
  code="$(curl -sS -o "$out" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' ${body:+--data "$body"} "$API_URL$path")" || code=000
  printf '%s %s\n' "$code" "$(tr -d '\n' <"$out")"
  rm -f "$out"
}

# Creates a resource; 201 (created) and 409 (already there) are both fine.
ensure_created() {
  local what="$1" path="$2" body="$3" answer code
  answer="$(api_call POST "$path" "$body")"
  code="${answer%% *}"
  case "$code" in
    201 | 200) say "created $what" ;;
    409) ;;
    *) die "could not create $what: HTTP $answer" ;;
  esac
}

# A token is valid when the API knows it: 200, or 403 for a runner token (it may only call runner endpoints).
token_valid() {
  local token="$1" answer
  [[ -n "$token" ]] || return 1
  answer="$(api_call GET /api/v1/me "" "$token")"
  [[ "$answer" == 200* || "$answer" == 403* ]]
}

# Keeps a token's secret in a file; creates a new token when the file is missing or the token was revoked.
ensure_token_file() {
  local file="$1" body="$2" answer secret
  if [[ -s "$file" ]] && token_valid "$(cat "$file")"; then
    return 0
  fi
  answer="$(api_call POST /api/v1/tokens "$body")"
  [[ "$answer" == 201* ]] || die "could not create a token ($body): HTTP $answer"
  secret="$(printf '%s' "${answer#* }" | sed -n 's/.*"secret"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')"
  [[ -n "$secret" ]] || die "the token answer had no secret: $answer"
  write_secret "$file" "$secret"
  say "created a token, kept in ${file#"$ROOT"/}"
}

# A JSON string holding $1 (backslashes and double quotes escaped).
json_string() {
  local s="${1//\\/\\\\}"
  printf '"%s"' "${s//\"/\\\"}"
}

bootstrap() {
  ensure_created "project demo" /api/v1/projects '{"name":"demo"}'
  # Jobs of local-cpu may read files under the data folder only, and download nothing (docs/security/data.md).
  mkdir -p "$DATA_DIR"
  ensure_created "pool local-cpu (jobs may read files under ${DATA_DIR#"$ROOT"/})" /api/v1/pools \
    '{"name":"local-cpu","gpuType":"cpu","pricePerGpuHour":0,"dataAccess":{"dataRoots":['"$(json_string "$DATA_DIR")"']}}'
  ensure_token_file "$TRAINYARD_HOME/runner-token" '{"name":"local-runner","role":"RUNNER"}'
  ensure_token_file "$TRAINYARD_HOME/demo-token" '{"name":"demo-member","role":"MEMBER","project":"demo"}'
}

# ------------------------------------------------------------------------------------- API and runner

start_api() {
  local jdbc="jdbc:postgresql://$DB_HOST:$DB_PORT/$DB_NAME$DB_PARAMS" i
  mkdir -p "$LOG_DIR" "$RUN_DIR" "$TRAINYARD_HOME/checkpoints"
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    die "something already listens on port $PORT; stop it or set PORT"
  fi
  rotate_log api
  say "starting the API on port $PORT (log: ${LOG_DIR#"$ROOT"/}/api.log)"
  DB_URL="$jdbc" DB_USER="$DB_USER" PORT="$PORT" HOST="$HOST" TRAINYARD_ADMIN_TOKEN="$ADMIN_TOKEN" \
    TRAINYARD_CHECKPOINTS_DIRECTORY="$TRAINYARD_HOME/checkpoints" \
    nohup java ${TRAINYARD_API_JAVA_OPTS:-} -jar "$STAGED_API_JAR" >"$LOG_DIR/api.log" 2>&1 </dev/null 9>&- &
  API_PID=$!
  echo "$API_PID" >"$RUN_DIR/api.pid"
  # Where this run put things, for `./run.sh status` and a rerun while it is up.
  printf '%s\n%s\n' "$API_URL" "$jdbc" >"$RUN_DIR/api.where"
  for ((i = 0; i < START_TIMEOUT; i++)); do
    if curl -fsS -o /dev/null "$API_URL/q/health/ready" 2>/dev/null; then
      say "the API is ready"
      return 0
    fi
    if ! kill -0 "$API_PID" 2>/dev/null; then
      tail -n 40 "$LOG_DIR/api.log" >&2 || true
      rm -f "$RUN_DIR/api.pid"
      die "the API stopped while starting (log: $LOG_DIR/api.log)"
    fi
    sleep 1
  done
  die "the API was not ready after $START_TIMEOUT s (log: $LOG_DIR/api.log)"
}

# The runner's agent subcommand is new; without it the platform still runs, only nothing trains.
start_runner() {
  RUNNER_PID=""
  if [[ -z "$STAGED_RUNNER_JAR" ]]; then
    warn "no $RUNNER_JAR: starting without a runner (jobs stay queued); build with ./run.sh --build"
    return 0
  fi
  local help
  if ! help="$(OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 timeout 60 java -jar "$STAGED_RUNNER_JAR" agent --help 2>&1)"; then
    warn "this build of the runner has no working 'agent' subcommand yet: starting without a runner (jobs stay queued)"
    return 0
  fi
  rotate_log runner
  say "starting a runner in pool $RUNNER_POOL with $RUNNER_DEVICES devices (log: ${LOG_DIR#"$ROOT"/}/runner.log)"
  # The work folder is this platform's own: attempt numbers restart in every database, so a folder shared
  # with another platform on this machine (the agent's default is in the home directory) would mix runs.
  local extra=()
  if [[ "$help" == *--work-dir* ]]; then
    mkdir -p "$TRAINYARD_HOME/runner"
    extra+=(--work-dir "$TRAINYARD_HOME/runner")
  fi
  # The runner token never goes on the command line (every user of the machine can read it there): the agent
  # reads it from its file, or, in a build older than --token-file, from the environment.
  local token_in_env=""
  if [[ "$help" == *--token-file* ]]; then
    extra+=(--token-file "$TRAINYARD_HOME/runner-token")
  else
    token_in_env="$(cat "$TRAINYARD_HOME/runner-token")"
  fi
  TRAINYARD_RUNNER_TOKEN="$token_in_env" OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 \
    nohup java -Xss4m -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 ${TRAINYARD_RUNNER_JAVA_OPTS:-} \
    -jar "$STAGED_RUNNER_JAR" agent --api "$API_URL" \
    --pool "$RUNNER_POOL" --devices "$RUNNER_DEVICES" "${extra[@]}" ${TRAINYARD_RUNNER_ARGS:-} \
    >"$LOG_DIR/runner.log" 2>&1 </dev/null 9>&- &
  RUNNER_PID=$!
  RUNNER_STARTED=$SECONDS
  echo "$RUNNER_PID" >"$RUN_DIR/runner.pid"
}

print_welcome() {
  local demo pg_note=""
  demo="$(cat "$TRAINYARD_HOME/demo-token")"
  [[ "${STARTED_PG:-0}" == 1 ]] && pg_note=", and the private PostgreSQL this run started"
  cat <<EOF

  Trainyard is up.

  Dashboard     $API_URL/
  API base      $API_URL/api/v1
  OpenAPI       $API_URL/q/openapi
  Swagger UI    $API_URL/q/swagger-ui
  Admin token   $ADMIN_TOKEN   (${TRAINYARD_HOME#"$ROOT"/}/admin-token)
  Demo token    $demo   (member of project demo; ${TRAINYARD_HOME#"$ROOT"/}/demo-token)
  Logs          ${LOG_DIR#"$ROOT"/}/api.log, ${LOG_DIR#"$ROOT"/}/runner.log
  Data          ${DATA_DIR#"$ROOT"/}   (files jobs of local-cpu may read, as file: URIs)

  Submit a first job (2 CPU devices, a 2-stage pipeline):

    curl -s -X POST $API_URL/api/v1/jobs \\
      -H "Authorization: Bearer $demo" -H 'Content-Type: application/json' \\
      -d '{"name":"arith-gpt","project":"demo","resources":{"pool":"$RUNNER_POOL","gpus":2},
           "limits":{"maxCostUsd":1,"maxRuntimeSeconds":3600,"maxRestarts":3},
           "model":{"type":"gpt","layers":2,"dModel":64,"heads":4,"seqLen":32,"vocab":128},
           "data":{"type":"arithmetic","seed":7,"evalFraction":0.1},
           "training":{"steps":200,"batchSize":16,"learningRate":0.003,"seed":42,"evalEvery":50},
           "parallelism":{"stages":2,"microBatches":4,"schedule":"1f1b"},
           "checkpoint":{"everySteps":50,"keepLast":3}}'

  Then watch it:  curl -s -H "Authorization: Bearer $demo" $API_URL/api/v1/jobs/<id>

  Ctrl-C stops the runner (it checkpoints running jobs first; they resume without using a restart),
  then the API$pg_note. A runner that dies is started again.

EOF
}

# ---------------------------------------------------------------------------------------- subcommands

cleanup_done=0
cleanup() {
  [[ "$cleanup_done" == 1 ]] && return 0
  cleanup_done=1
  [[ -n "${TAIL_PID:-}" ]] && kill "$TAIL_PID" 2>/dev/null || true
  stop_process runner "$(runner_stop_wait)"
  stop_process api
  if [[ "${STARTED_PG:-0}" == 1 ]]; then
    stop_private_pg
  fi
}

cmd_up() {
  local force_build=0 arg
  for arg in "$@"; do
    case "$arg" in
      --build) force_build=1 ;;
      *) die "unknown option $arg (try ./run.sh --help)" ;;
    esac
  done
  mkdir -p "$TRAINYARD_HOME" "$RUN_DIR" "$LOG_DIR"
  # One launcher per TRAINYARD_HOME: the lock is held while this one runs (children do not inherit it).
  exec 9>"$RUN_DIR/up.lock"
  if ! flock -n 9 && ! pid_alive api; then
    die "another ./run.sh is starting or stopping the platform in $TRAINYARD_HOME; wait for it to finish"
  fi
  if pid_alive api; then
    load_running_where
    say "Trainyard already runs (API pid $(cat "$RUN_DIR/api.pid")); ./run.sh stop stops it"
    ensure_admin_token
    [[ -s "$TRAINYARD_HOME/demo-token" ]] && print_welcome
    return 0
  fi
  build_if_needed "$force_build"
  stage_apps
  ensure_db_server
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  trap 'exit 141' PIPE
  trap cleanup EXIT
  create_database "$DB_NAME"
  ensure_admin_token
  start_api
  bootstrap
  start_runner
  print_welcome
  if [[ "${TRAINYARD_TAIL_LOGS:-1}" == 1 ]]; then
    tail -n 0 -F "$LOG_DIR/api.log" ${RUNNER_PID:+"$LOG_DIR/runner.log"} 2>/dev/null 9>&- &
    TAIL_PID=$!
  fi
  keep_up
}

# Stays up until Ctrl-C/TERM or until the API ends on its own. A runner that dies is started again after a
# backoff (1 s, doubling up to 60 s; back to 1 s once a runner has lived for 5 minutes) while the API keeps
# serving; a runner whose token the API refused (exit status 3) is not, as another start would be refused too.
keep_up() {
  local backoff=1 status
  set +e
  while kill -0 "$API_PID" 2>/dev/null; do
    wait -n "$API_PID" ${RUNNER_PID:+"$RUNNER_PID"}
    kill -0 "$API_PID" 2>/dev/null || break
    [[ -n "${RUNNER_PID:-}" ]] && ! kill -0 "$RUNNER_PID" 2>/dev/null || continue
    wait "$RUNNER_PID"
    status=$?
    RUNNER_PID=""
    rm -f "$RUN_DIR/runner.pid"
    if [[ "$status" == 3 ]]; then
      warn "the API refused the runner's token (log: $LOG_DIR/runner.log); the API keeps running without it"
      continue
    fi
    ((SECONDS - ${RUNNER_STARTED:-0} < 300)) || backoff=1
    warn "the runner stopped with exit status $status (log: $LOG_DIR/runner.log); starting it again in ${backoff} s"
    # in the background, so that Ctrl-C/TERM interrupt the pause at once
    sleep "$backoff" &
    wait $!
    start_runner
    backoff=$((backoff * 2 > 60 ? 60 : backoff * 2))
  done
  set -e
  warn "the API stopped (log: $LOG_DIR/api.log)"
}

cmd_db() {
  local name
  ensure_db_server
  for name in "$@"; do
    create_database "$name"
  done
  printf 'jdbc:postgresql://%s:%s/\n' "$DB_HOST" "$DB_PORT"
}

cmd_stop() {
  stop_process runner "$(runner_stop_wait)"
  stop_process api
  stop_private_pg
  say "stopped"
}

cmd_status() {
  local ok
  RUNNING_DB=""
  load_running_where
  parse_db_url "${RUNNING_DB:-$DB_URL}"
  if db_answers "$DB_HOST" "$DB_PORT"; then
    echo "database   answers at $DB_HOST:$DB_PORT (${RUNNING_DB:-$DB_URL})"
  elif private_pg_running; then
    echo "database   private PostgreSQL on 127.0.0.1:$PRIVATE_PG_PORT (data: ${PG_DIR#"$ROOT"/})"
  else
    echo "database   nothing answers at $DB_HOST:$DB_PORT and the private PostgreSQL is stopped"
  fi
  if pid_alive api; then
    ok="not ready"
    curl -fsS -o /dev/null "$API_URL/q/health/ready" 2>/dev/null && ok="ready"
    echo "api        running, pid $(cat "$RUN_DIR/api.pid"), $API_URL ($ok)"
  else
    echo "api        stopped"
    rm -f "$RUN_DIR/api.where"
  fi
  if pid_alive runner; then
    echo "runner     running, pid $(cat "$RUN_DIR/runner.pid"), pool $RUNNER_POOL"
  else
    echo "runner     stopped"
  fi
  echo "data       ${TRAINYARD_HOME#"$ROOT"/} (logs in ${LOG_DIR#"$ROOT"/})"
}

usage() {
  sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

main() {
  local cmd="${1:-up}"
  if (($# > 0)); then shift; fi
  case "$cmd" in
    up) cmd_up "$@" ;;
    --build) cmd_up --build "$@" ;;
    db) cmd_db "$@" ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
