#!/usr/bin/env bash
# A real S3 API for tests and development: OpenStack Swift with its s3api middleware, from Debian's packages,
# on one folder with 1-replica rings. Not a fake: it checks SigV4 signatures (headers and presigned URLs).
#
#   scripts/s3-swift.sh start   # installs the packages if missing, configures, starts, creates the bucket
#   scripts/s3-swift.sh env     # prints the variables to export (eval "$(scripts/s3-swift.sh env)")
#   scripts/s3-swift.sh stop
#   scripts/s3-swift.sh status
#
# Everything lives under $DREAMLAKE_SWIFT_DIR (default /var/tmp/dreamlake-swift); fixed ports below the
# ephemeral range: proxy 18080, object 16200, container 16201, account 16202, memcached 16211.
# S3 credentials are tempauth's user test:tester with key "testing"; the bucket is "dreamlake-test".
set -euo pipefail

DIR="${DREAMLAKE_SWIFT_DIR:-/var/tmp/dreamlake-swift}"
PROXY_PORT="${DREAMLAKE_SWIFT_PORT:-18080}"
OBJECT_PORT=16200
CONTAINER_PORT=16201
ACCOUNT_PORT=16202
MEMCACHED_PORT=16211
BUCKET="${DREAMLAKE_SWIFT_BUCKET:-dreamlake-test}"
ACCESS_KEY="test:tester"
SECRET_KEY="testing"
ENDPOINT="http://127.0.0.1:${PROXY_PORT}"
SERVERS=(object container account proxy)
PY=/usr/bin/python3

print_env() {
  cat <<EOF
export DREAMLAKE_TEST_S3_ENDPOINT=${ENDPOINT}
export DREAMLAKE_TEST_S3_REGION=us-east-1
export DREAMLAKE_TEST_S3_BUCKET=${BUCKET}
export DREAMLAKE_TEST_S3_ACCESS_KEY_ID=${ACCESS_KEY}
export DREAMLAKE_TEST_S3_SECRET_ACCESS_KEY=${SECRET_KEY}
EOF
}

install_packages() {
  if [ -x /usr/bin/swift-proxy-server ] && [ -x /usr/bin/swift-object-server ] && [ -x /usr/bin/swift-container-server ] \
    && [ -x /usr/bin/swift-account-server ] && [ -x /usr/bin/memcached ] && [ -x /usr/bin/swift-ring-builder ] \
    && command -v curl >/dev/null; then
    return
  fi
  echo "s3-swift: installing Swift from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends swift swift-proxy swift-object swift-container swift-account \
    python3-swiftclient memcached curl >&2
  # The packages start their own services on the default ports on some systems: we run ours.
  if command -v service >/dev/null; then
    for s in memcached swift-proxy swift-object swift-container swift-account; do service "$s" stop >/dev/null 2>&1 || true; done
  fi
}

write_config() {
  mkdir -p "$DIR/etc" "$DIR/node/sdb1" "$DIR/run" "$DIR/log" "$DIR/cache"
  local etc="$DIR/etc"
  cat >"$etc/swift.conf" <<EOF
[swift-hash]
swift_hash_path_suffix = dreamlake-test
swift_hash_path_prefix = dreamlake-test

[storage-policy:0]
name = Policy-0
default = yes

[swift-constraints]
EOF
  local common="[DEFAULT]
devices = $DIR/node
mount_check = false
swift_dir = $etc
bind_ip = 127.0.0.1
user = $(id -un)
workers = 1
log_facility = LOG_LOCAL2
log_level = WARNING
"
  cat >"$etc/object-server.conf" <<EOF
$common
bind_port = $OBJECT_PORT

[pipeline:main]
pipeline = object-server

[app:object-server]
use = egg:swift#object

[object-replicator]
[object-reconstructor]
[object-updater]
[object-auditor]
EOF
  cat >"$etc/container-server.conf" <<EOF
$common
bind_port = $CONTAINER_PORT

[pipeline:main]
pipeline = container-server

[app:container-server]
use = egg:swift#container

[container-replicator]
[container-updater]
[container-auditor]
[container-sync]
[container-sharder]
EOF
  cat >"$etc/account-server.conf" <<EOF
$common
bind_port = $ACCOUNT_PORT

[pipeline:main]
pipeline = account-server

[app:account-server]
use = egg:swift#account

[account-replicator]
[account-auditor]
[account-reaper]
EOF
  cat >"$etc/proxy-server.conf" <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $PROXY_PORT
swift_dir = $etc
user = $(id -un)
workers = 2
log_facility = LOG_LOCAL2
log_level = WARNING

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = $SECRET_KEY .admin
user_admin_admin = admin .admin .reseller_admin

[filter:s3api]
use = egg:swift#s3api
location = us-east-1
s3_acl = false
allow_multipart_uploads = true
max_upload_part_num = 10000
check_bucket_owner = false

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$MEMCACHED_PORT

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:tempurl]
use = egg:swift#tempurl
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
EOF
  # Swift's own tools read /etc/swift/swift.conf before they see swift_dir: keep a hash configuration there too.
  if [ ! -f /etc/swift/swift.conf ]; then
    mkdir -p /etc/swift
    cp "$etc/swift.conf" /etc/swift/swift.conf
  fi
  if [ ! -f "$etc/object.ring.gz" ]; then
    (
      cd "$etc"
      for ring in object:$OBJECT_PORT container:$CONTAINER_PORT account:$ACCOUNT_PORT; do
        name="${ring%%:*}"
        port="${ring##*:}"
        swift-ring-builder "$name.builder" create 10 1 1 >/dev/null
        swift-ring-builder "$name.builder" add r1z1-127.0.0.1:"$port"/sdb1 100 >/dev/null
        swift-ring-builder "$name.builder" rebalance >/dev/null || true
      done
    )
  fi
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

proxy_up() { curl -sf -o /dev/null "$ENDPOINT/healthcheck"; }

start() {
  install_packages
  write_config
  if ! pid_alive "$DIR/run/memcached.pid"; then
    memcached -d -u root -l 127.0.0.1 -p "$MEMCACHED_PORT" -m 64 -P "$DIR/run/memcached.pid"
  fi
  for s in "${SERVERS[@]}"; do
    if ! pid_alive "$DIR/run/$s.pid"; then
      nohup "$PY" "/usr/bin/swift-$s-server" "$DIR/etc/$s-server.conf" -v >"$DIR/log/$s.log" 2>&1 &
      echo $! >"$DIR/run/$s.pid"
    fi
  done
  for _ in $(seq 1 120); do
    proxy_up && break
    sleep 0.5
  done
  if ! proxy_up; then
    echo "s3-swift: the proxy did not come up on $ENDPOINT; logs in $DIR/log" >&2
    tail -n 20 "$DIR"/log/*.log >&2 || true
    exit 1
  fi
  create_bucket
  echo "s3-swift: S3 API on $ENDPOINT (bucket $BUCKET, key $ACCESS_KEY)" >&2
  print_env
}

# The bucket is a Swift container of the account AUTH_test: made with tempauth over the Swift API (a PUT of
# an existing container is a no-op, so this is idempotent).
create_bucket() {
  local headers token url
  for _ in $(seq 1 30); do
    headers="$(curl -s -D - -o /dev/null -H "X-Auth-User: $ACCESS_KEY" -H "X-Auth-Key: $SECRET_KEY" "$ENDPOINT/auth/v1.0" || true)"
    token="$(printf '%s' "$headers" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-auth-token"{print $2}')"
    url="$(printf '%s' "$headers" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-storage-url"{print $2}')"
    if [ -n "$token" ] && [ -n "$url" ]; then
      local code
      code="$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "X-Auth-Token: $token" "$url/$BUCKET" || true)"
      case "$code" in 201 | 202) return ;; esac
    fi
    sleep 1
  done
  echo "s3-swift: could not create the bucket $BUCKET" >&2
  exit 1
}

stop() {
  for s in proxy object container account memcached; do
    local f="$DIR/run/$s.pid"
    if pid_alive "$f"; then
      kill "$(cat "$f")" 2>/dev/null || true
    fi
    rm -f "$f"
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) print_env ;;
  status)
    if proxy_up; then echo "running on $ENDPOINT"; else echo "not running"; exit 1; fi
    ;;
  *)
    echo "usage: $0 start|stop|env|status" >&2
    exit 2
    ;;
esac
