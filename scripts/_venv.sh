# Sourced by scripts/run and scripts/test: make .venv with Python >= 3.11 and install $1 into it.
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
# Install only when the requirements changed since the last install (a second start takes
# seconds): the stamp is the hash of the file and of the files it includes with -r.
stamp=".venv/.installed-$(basename "$1").sha256"
wanted=$(cat "$1" $(sed -n 's/^-r[[:space:]]*//p' "$1") | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$1"
    echo "$wanted" > "$stamp"
fi
