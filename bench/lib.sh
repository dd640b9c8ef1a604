# bench/lib.sh: what the bench scripts share; sourced (`. "$HERE/lib.sh"`), never run.  Expects
# ROOT (the checkout) set, and PATH leading to the PostgreSQL binaries (PALS_PGBIN).
#
#   say MSG...                    MSG on stderr, after the seconds since $t0 (the caller sets t0)
#   bench_install_lock            with INSTALL=1 (and no PALS_PGBIN: a private copy needs no lock),
#                                 take the machine-wide install lock (fd 8) and run tools/setup.sh;
#                                 bench_install_unlock releases it
#   bench_cluster PREFIX          a private cluster in D=$(mktemp -d /tmp/PREFIX.XXXXXX) on a random
#                                 PORT, the socket in D, the library preloaded, fsync off; defines
#                                 pg (run as postgres) and q (psql to it), stops and removes it at
#                                 exit; bench_cluster_stop stops it (for `postgres --single`)
#   bench_callgrind_cluster NAME PREFIX
#                                 for a callgrind bench NAME: valgrind must be there; the install
#                                 lock (bench_install_lock), t0 set, bench_cluster PREFIX
#   bench_demo_template DB SCALE  DB made and filled with the demo consortium (demo/schema.sql,
#                                 generate.sql at SCALE, roles.sql), with the caller's q
#   bench_backlog_shape DB SHAPE  DB (a demo template) turned into a backlog bench shape: plain (as
#                                 generated), nullitems (one closed loan in 20 without an item),
#                                 triggers (eight row triggers of an ILS on demo.loans), with q
#   bench_cascade_patron_fks DB   the other foreign keys to demo.patrons ON DELETE CASCADE (as an
#                                 ILS that deletes patrons has them), with the caller's q
#   bench_single_count NAME DB SCRIPT OUT [postgres option...]
#                                 SCRIPT run in `postgres --single` on DB under callgrind (OUT: the
#                                 callgrind file, OUT.log the backend's output); prints the total
#                                 instructions, and the first errors on stderr

say() { printf '[%4ds] %s\n' "$(( $(date +%s) - t0 ))" "$*" >&2; }

bench_install_lock() {
    [ -n "${PALS_PGBIN:-}" ] && INSTALL=0   # a private copy (bench/private-install.sh): no lock
    if [ "$INSTALL" = 1 ]; then
        exec 8>/tmp/pals_privacy.install.lock; flock 8; bash "$ROOT/tools/setup.sh" >&2
    fi
}

bench_install_unlock() {
    if [ "$INSTALL" = 1 ]; then flock -u 8; exec 8>&-; say "released the install lock"; fi
}

bench_cluster() {
    D=$(mktemp -d "/tmp/$1.XXXXXX"); chmod 755 "$D"; chown postgres: "$D"
    PORT=$((20000 + RANDOM % 20000))
    pg() { runuser -u postgres -- "$@"; }
    q() { psql -X -q -v ON_ERROR_STOP=1 -h "$D" -p "$PORT" -U postgres "$@"; }
    trap 'pg "$(command -v pg_ctl)" -D "$D/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$D"' EXIT
    pg "$(command -v initdb)" -D "$D/data" -A trust --no-sync >/dev/null
    pg "$(command -v pg_ctl)" -D "$D/data" -l "$D/log" -w -o "-c shared_preload_libraries=pals_privacy -c port=$PORT -c listen_addresses='' -c unix_socket_directories=$D -c fsync=off -c synchronous_commit=off" start >/dev/null
}

bench_callgrind_cluster() {
    command -v valgrind >/dev/null || { echo "$1: valgrind is not installed" >&2; exit 1; }
    bench_install_lock
    t0=$(date +%s)
    bench_cluster "$2"
}

bench_cluster_stop() { pg "$(command -v pg_ctl)" -D "$D/data" -w stop >/dev/null; }

bench_demo_template() {
    q -d postgres -c "CREATE DATABASE $1" >/dev/null
    q -d "$1" -f "$ROOT/demo/schema.sql" >/dev/null
    q -d "$1" -v scale="$2" -f "$ROOT/demo/generate.sql" >/dev/null
    q -d "$1" -f "$ROOT/demo/roles.sql" >/dev/null
}

bench_backlog_shape() {
    case "$2" in
        plain) ;;
        nullitems)
            q -d "$1" -c 'ALTER TABLE demo.loans ALTER COLUMN item_id DROP NOT NULL' \
              -c 'UPDATE demo.loans SET item_id = NULL WHERE id % 20 = 0 AND returned_at IS NOT NULL' >/dev/null ;;
        triggers)
            q -d "$1" >/dev/null <<'SQL'
CREATE TABLE demo.loan_audit (loan_id bigint, changed_at timestamptz DEFAULT now(), old_patron bigint, new_patron bigint);
CREATE FUNCTION demo.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.renewal_count := NEW.renewal_count; RETURN NEW; END $$;
CREATE FUNCTION demo.noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE FUNCTION demo.audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO demo.loan_audit (loan_id, old_patron, new_patron) VALUES (NEW.id, OLD.patron_id, NEW.patron_id);
      RETURN NULL; END $$;
DO $$ BEGIN
    FOR i IN 1..4 LOOP
        EXECUTE format('CREATE TRIGGER ils_before_%s BEFORE UPDATE ON demo.loans FOR EACH ROW EXECUTE FUNCTION demo.touch()', i);
    END LOOP;
    FOR i IN 1..3 LOOP
        EXECUTE format('CREATE TRIGGER ils_after_%s AFTER UPDATE ON demo.loans FOR EACH ROW EXECUTE FUNCTION demo.noop()', i);
    END LOOP;
END $$;
CREATE TRIGGER ils_audit AFTER UPDATE OF patron_id ON demo.loans FOR EACH ROW EXECUTE FUNCTION demo.audit();
SQL
            ;;
        *) echo "unknown backlog shape $2 (plain, nullitems, triggers)" >&2; return 2 ;;
    esac
}

bench_cascade_patron_fks() {
    q -d "$1" >/dev/null <<'SQL'
DO $$ DECLARE c record; BEGIN
    FOR c IN SELECT conrelid::regclass AS rel, conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
              WHERE contype = 'f' AND confrelid = 'demo.patrons'::regclass AND conparentid = 0
                AND conrelid NOT IN ('demo.loans'::regclass, 'demo.holds'::regclass)
                AND pg_get_constraintdef(oid) NOT LIKE '%ON DELETE%' LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', c.rel, c.conname);
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s ON DELETE CASCADE', c.rel, c.conname, c.def);
    END LOOP;
END $$;
SQL
}

bench_single_count() {
    local name="$1" db="$2" script="$3" out="$4"; shift 4
    pg valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$(command -v postgres)" --single -D "$D/data" -c shared_preload_libraries=pals_privacy -c fsync=off \
        -c synchronous_commit=off -c autovacuum=off "$@" "$db" <"$script" >"$out.log" 2>&1
    if grep -q 'ERROR' "$out.log"; then echo "$name: errors in $db:" >&2; grep ERROR "$out.log" | head -3 >&2; fi
    awk '/^summary:|^totals:/ {print $2; exit}' "$out"
}
