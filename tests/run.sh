#!/usr/bin/env bash
# The test command (README, "Set-up"): installs what the tests need, then runs them.
# - a virtual environment in .venv with the package and its test extras (installed again only when
#   pyproject.toml or the interpreter changed), by uv, or by pip where uv cannot be had;
# - as root with apt-get: Debian's chromium (browser tests) and fonts-noto-cjk (CJK text
#   in screenshots and static pictures), and virtuoso-opensource (a real SPARQL store the remote
#   tests start on a free loopback port) and nodejs/npm, if missing;
# - with npm: Comunica in tests/clients (`npm ci`, again only when package-lock.json changed).
# Extra arguments go to pytest, e.g. `bash tests/run.sh -k build`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    need=()
    command -v chromium >/dev/null 2>&1 || need+=(chromium)
    fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
    command -v virtuoso-t >/dev/null 2>&1 || need+=(virtuoso-opensource)  # the second real store (test_remote)
    command -v npm >/dev/null 2>&1 || need+=(nodejs npm)  # Comunica (tests/clients, test_comunica)
    ldconfig -p 2>/dev/null | grep -q "libseccomp.so.2" || need+=(libseccomp2)  # query workers: no network
    if [ ${#need[@]} -gt 0 ]; then
        echo "installing Debian packages: ${need[*]}" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
    fi
fi

# Comunica (tests/test_comunica.py), a SPARQL client nobody here wrote: npm ci only when missing or when
# the lock file changed since (a stamp of its hash), beside pip (the two are independent: ~20 s saved);
# skipped by the test where node/npm are missing
npm_job=
if command -v npm >/dev/null 2>&1; then
    lock=$(sha256sum tests/clients/package-lock.json | cut -d' ' -f1)
    if [ "$(cat tests/clients/node_modules/.chuzhi-graph-installed 2>/dev/null)" != "$lock" ]; then
        (cd tests/clients && npm ci --no-audit --no-fund --loglevel=error >&2 &&
            echo "$lock" > node_modules/.chuzhi-graph-installed) &
        npm_job=$!
    fi
fi

uv_install() {
    .venv/bin/python -m pip install -q --disable-pip-version-check uv >&2 || return 1
    local config
    config=$(.venv/bin/python -m pip config list 2>/dev/null)
    pip_setting() { printf '%s\n' "$config" | sed -n "s/^[a-z]*\.$1='\(.*\)'$/\1/p" | tail -n 1; }
    local links extra index constraint
    links=${PIP_FIND_LINKS:-$(pip_setting find-links)}
    extra=${PIP_EXTRA_INDEX_URL:-$(pip_setting extra-index-url)}
    index=${PIP_INDEX_URL:-$(pip_setting index-url)}
    constraint=${PIP_CONSTRAINT:-$(pip_setting constraint)}
    env ${links:+UV_FIND_LINKS="$links"} ${extra:+UV_EXTRA_INDEX_URL="$extra"} ${index:+UV_INDEX_URL="$index"} \
        ${constraint:+UV_CONSTRAINT="$constraint"} UV_INDEX_STRATEGY=unsafe-best-match \
        .venv/bin/uv pip install -q --python .venv/bin/python -e '.[test]' >&2
}

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# pip only when the venv was not yet installed from this pyproject.toml by this interpreter (a stamp of
# their hash in the venv): a second run skips resolving ~60 packages; --no-compile: no .pyc for the
# ~800 MB of dependencies up front (Python compiles the modules it imports, when it imports them)
stamp=.venv/.chuzhi-graph-installed
want=$( { cat pyproject.toml; .venv/bin/python -VV; } | sha256sum | cut -d' ' -f1)
# uv installs what pip would (the same indexes, read from pip's configuration, and pip's best-match
# strategy: the same ~90 versions here) in ~15 s instead of ~60 s; pip itself if uv cannot be had or fails
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || ! .venv/bin/python -c 'import chuzhi_graph' 2>/dev/null; then
    if ! uv_install; then
        echo "uv did not install the packages: installing them with pip" >&2
        .venv/bin/python -m pip install -q --disable-pip-version-check --no-compile -e '.[test]'
    fi
    echo "$want" > "$stamp"
fi

[ -z "$npm_job" ] || wait "$npm_job"  # a failed npm ci fails the run (set -e)

.venv/bin/ruff check src tests bench tools
# mypy (files and settings: pyproject.toml [tool.mypy]) beside the tests, its report after theirs; it
# fails the run as before
mypy_log=$(mktemp)
.venv/bin/python -m mypy >"$mypy_log" 2>&1 &
mypy_job=$!
set +e
# two workers (the CI machine has 2 cores); worksteal: a worker left with slow tests hands some to the idle one
.venv/bin/python -m pytest -p no:cacheprovider -n 2 --dist worksteal "$@"
status=$?
wait "$mypy_job"
mypy_status=$?
set -e
echo "mypy: $(tail -n 1 "$mypy_log")" >&2
if [ "$mypy_status" -ne 0 ]; then
    cat "$mypy_log" >&2
    rm -f "$mypy_log"
    exit "$mypy_status"
fi
rm -f "$mypy_log"
if [ "$status" -eq 5 ]; then
    echo "no tests were collected: failing" >&2
    exit 1
fi
exit "$status"
