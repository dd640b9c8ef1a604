#!/usr/bin/env bash
# Every error and warning a DBA can meet is in docs/troubleshooting.md
# (issue 18): the messages of errmsg(...) in src/*.c (but those of
# ereport(LOG / INFO / DEBUGn, ...): server log lines that report, not
# errors) and of RAISE EXCEPTION /
# RAISE WARNING in sql/**/*.sql, with their format placeholders (%s, %d,
# %lld, ... in C; % in PL/pgSQL) written `%`, must each appear in the page:
# whole; or, without the name before its first colon ("bind_loans: ", "%: ",
# "pals_privacy: "), within one `snippet` (where a row lists several messages
# of one call, or names the call); or begun by a `snippet …` ending in "…".  Messages nobody
# but a developer can meet are listed below, each with the reason.
# Prints what is missing (file:line and the normalised message) and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 - "$@" <<'PY'
import glob, re, sys

# Internal-only messages: not in the page, and why.  Exact normalised text.
EXCLUDED = {
    # a PL/pgSQL exception the purge raises and catches itself to roll back
    # a dry run; never reaches a client
    'dry run',
    # protocol checks of functions only PostgreSQL calls (an event trigger
    # function, a trigger function attached by bind_patrons): met only by
    # calling or attaching them by hand
    'pals_privacy_drop_guard: not called by an event trigger',
    'pals_privacy_placeholder_guard() must be a BEFORE UPDATE OR DELETE row trigger',
}

def c_messages(path):
    text = open(path, encoding='utf-8').read()
    for m in re.finditer(r'\berrmsg\s*\(', text):
        # the level of the ereport() around it: LOG, DEBUG and INFO lines are
        # not errors (NOTICE, WARNING, ERROR and a level held in a variable are)
        call = text.rfind('ereport(', 0, m.start())
        level = re.match(r'ereport\(\s*(\w+)', text[call:]) if call >= 0 else None
        if level and re.fullmatch(r'LOG|COMMERROR|INFO|DEBUG\d', level.group(1)):
            continue
        pos, parts = m.end(), []
        while True:
            s = re.match(r'\s*"((?:[^"\\]|\\.)*)"', text[pos:])
            if not s:
                break
            parts.append(s.group(1))
            pos += s.end()
        if not parts:
            yield text.count('\n', 0, m.start()) + 1, None
            continue
        msg = ''.join(parts).replace('\\"', '"').replace('\\\\', '\\')
        msg = re.sub(r'%%', '\0', msg)
        msg = re.sub(r'%[-+ #0]*(\*|\d+)?(\.(\*|\d+))?(hh|h|ll|l|z|j|t|L)?[diouxXeEfgGcspm]', '%', msg)
        yield text.count('\n', 0, m.start()) + 1, msg.replace('\0', '%')

def sql_messages(path):
    text = open(path, encoding='utf-8').read()
    for m in re.finditer(r"\bRAISE\s+(EXCEPTION|WARNING)\s+(E?)'((?:[^']|'')*)'", text, re.I):
        msg = m.group(3).replace("''", "'")
        if m.group(2):
            msg = msg.replace('\\n', '\n').replace("\\'", "'")
        msg = msg.replace('%%', '\0').replace('\0', '%')
        yield text.count('\n', 0, m.start()) + 1, msg
    for m in re.finditer(r"\bRAISE\s+(EXCEPTION|WARNING)\s+USING\b[^;]*?\bMESSAGE\s*=\s*'((?:[^']|'')*)'", text, re.I):
        yield text.count('\n', 0, m.start()) + 1, m.group(2).replace("''", "'")

doc = open('docs/troubleshooting.md', encoding='utf-8').read()
snippets = set(re.findall(r'`([^`\n]+)`', doc))
prefixes = [p[:-1].rstrip() for p in snippets if p.endswith('…')]

def documented(msg):
    # the message as the page writes it: whole, anywhere; or, without the
    # name before its first colon ("bind_loans: ", "%: ", "pals_privacy: "),
    # within one `snippet` (a row lists several messages of one call, or names
    # the call); or begun by a snippet that ends in "…"
    short = re.sub(r'^(%|[a-z_]+): ', '', msg)
    return (msg in doc or any(short in s for s in snippets)
            or any(p and (msg.startswith(p) or short.startswith(p)) for p in prefixes))

found = []
for path in sorted(glob.glob('src/*.c')):
    found += [(path, line, msg) for line, msg in c_messages(path)]
for path in sorted(glob.glob('sql/**/*.sql', recursive=True)):
    if re.match(r'sql/pals_privacy--', path) or path.startswith('sql/updates/pals_privacy--'):
        continue    # built or frozen scripts: the sources are checked
    found += [(path, line, msg) for line, msg in sql_messages(path)]

missing = []
for path, line, msg in found:
    if msg is None:
        missing.append(f'{path}:{line}: errmsg() without a string literal: the check cannot read it')
    elif msg not in EXCLUDED and not documented(msg):
        missing.append(f'{path}:{line}: {msg}')
verbose = '-v' in sys.argv
if verbose:
    for path, line, msg in found:
        print(f'{path}:{line}: {msg}')
if missing:
    print(f'{len(missing)} of {len(found)} messages are not in docs/troubleshooting.md:')
    print('\n'.join(missing))
    sys.exit(1)
print(f'all {len(found)} messages are in docs/troubleshooting.md')
PY
