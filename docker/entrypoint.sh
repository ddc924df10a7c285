#!/bin/sh
# Huoban container entrypoint: the first argument picks the role, the rest go to the command.
#
#   web [args]       huoban serve [args]        gunicorn on 0.0.0.0:8000; migrates first unless --no-migrate;
#                                               WEB_CONCURRENCY, when set, becomes --workers
#   worker [args]    huoban worker [args]       Celery worker
#   beat [args]      huoban beat [args]         Celery beat (run exactly one)
#   migrate [args]   huoban hubs migrate [args] public schema, hub template and every hub
#   demo [args]      huoban demo [args]         seeds demo data
#   sh|bash|python|python3|django-admin|celery|gunicorn [args]   run that program as it is (debugging)
#   <anything else>  huoban <anything else>     e.g. `hubs list`, `--help`
#
# With no argument the role is "web".
set -eu

role="${1:-web}"
if [ "$#" -gt 0 ]; then
    shift
fi

# The image's HEALTHCHECK reads the role to know whether there is an HTTP server to probe.
printf '%s\n' "$role" > "${TMPDIR:-/tmp}/huoban-role" 2>/dev/null || true

if [ -n "${HUOBAN_HOME:-}" ]; then
    mkdir -p "$HUOBAN_HOME" 2>/dev/null || true
fi

case "$role" in
    web | serve)
        set -- huoban serve "$@"
        # `huoban serve` hands gunicorn an explicit --workers (which beats gunicorn's own WEB_CONCURRENCY), so
        # turn WEB_CONCURRENCY into that flag unless the command line already has one.
        if [ -n "${WEB_CONCURRENCY:-}" ]; then
            case " $* " in
                *" --workers "* | *" --workers="*) ;;
                *) set -- "$@" --workers "$WEB_CONCURRENCY" ;;
            esac
        fi
        ;;
    worker)
        set -- huoban worker "$@"
        ;;
    beat)
        set -- huoban beat "$@"
        ;;
    migrate)
        set -- huoban hubs migrate "$@"
        ;;
    demo)
        set -- huoban demo "$@"
        ;;
    huoban)
        set -- huoban "$@"
        ;;
    sh | bash | python | python3 | django-admin | celery | gunicorn)
        set -- "$role" "$@"
        ;;
    *)
        set -- huoban "$role" "$@"
        ;;
esac

exec "$@"
