# Sourced by scripts/run and scripts/test: make .venv with Python >= 3.11 and install the lock
# file of $1 into it (requirements.txt -> requirements.lock): every package, transitive ones
# too, at its locked version, and only files whose hash the lock lists (--require-hashes).
# The .txt files are the inputs people edit; ./scripts/lock makes the locks from them.
set -euo pipefail
python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)." >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
fi
lock="${1%.txt}.lock"
# Install only when the lock changed since the last install (a second start takes seconds).
stamp=".venv/.installed-$(basename "$lock").sha256"
wanted=$(sha256sum "$lock" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes \
        -r "$lock"
    echo "$wanted" > "$stamp"
fi
