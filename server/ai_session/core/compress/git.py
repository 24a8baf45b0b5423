"""git log / show / diff / status (and the chatter of fetch/pull/push/clone).

log/show: every `commit` line (hash and refs: HEAD, branches, tags), `Merge:`, the
subject line, the diffstat summary ("N files changed, …") and the first few per-file
stat lines; dropped: Author/Date lines, message bodies, further stat lines. A diffstat
without commits (`git diff --stat`) keeps every per-file line.
diff: `diff --git`, mode/rename/binary lines, hunk headers and every +/- line (capped per
file); dropped: `index`/`---`/`+++` lines and unchanged context lines.
status: branch and tracking lines, section headers, every path (capped per section);
dropped: the `(use "git …")` hints. Transfer progress (Counting/Receiving/Resolving
objects…) is dropped everywhere.
"""

from __future__ import annotations

from ai_session.core.compress.base import Ctx, Out
from ai_session.core.compress.patterns import lazy

COMMIT_RE = lazy(r"^commit [0-9a-f]{7,64}\b")
ONELINE_RE = lazy(r"^(?:[*|\\/ ]+)?[0-9a-f]{7,40} ")
HEADER_DROP_RE = lazy(r"^(?:Author|AuthorDate|Commit|CommitDate|Date|Reflog|Signed-off-by):")
STAT_FILE_RE = lazy(r"^( \S.* \| +\d+)(?: ?[+-]*)$|^ \S.* \| +Bin .*$")
STAT_SUMMARY_RE = lazy(r"^ \d+ files? changed")
DIFF_RE = lazy(r"^diff --(?:git|cc|combined) ")
DIFF_META_KEEP_RE = lazy(r"^(?:new file mode|deleted file mode|old mode|new mode|rename from|rename to|copy from|copy to|similarity index|Binary files|Submodule )")
DIFF_META_DROP_RE = lazy(r"^(?:index [0-9a-f]|--- |\+\+\+ |\\ No newline)")
STATUS_KEEP_RE = lazy(
    r"^(?:On branch |HEAD detached|Your branch |and have \d+ and \d+|nothing to commit|nothing added to commit|no changes added"
    r"|Changes to be committed:|Changes not staged for commit:|Untracked files:|Unmerged paths:|You have unmerged paths"
    r"|You are currently|All conflicts fixed|Initial commit|No commits yet|interactive rebase|Last commands? done|Next commands? to do)"
)
HINT_RE = lazy(r'^\s+\((?:use "git|use \'git|fix conflicts|all conflicts|commit or discard)|^\s*\(use ')
SHORT_STATUS_RE = lazy(r"^(?:[ MADRCUT?!]{2}) \S|^## ")
PROGRESS_RE = lazy(
    r"^(?:remote: )?(?:Enumerating|Counting|Compressing|Writing|Receiving|Resolving|Total|Delta compression|Unpacking|Updating files|Checking out files)\b"
)
STAT_FILES_KEPT = 2
DIFF_LINES_PER_FILE = 150
STATUS_PER_SECTION = 100


def reduce_git(lines: list[str], ctx: Ctx) -> Out:
    out = Out(lines, facts=ctx.facts)
    in_message = False
    subject_done = False
    stat_files = 0
    diff_lines = 0
    in_diff = False
    section_items = 0
    commits = 0
    for i, line in enumerate(lines):
        s = line.strip()
        if not s:
            continue
        if COMMIT_RE.match(line):
            commits += 1
            out.keep(i)
            in_message, subject_done, in_diff = True, False, False
            stat_files = 0
            continue
        if DIFF_RE.match(line):
            out.keep(i)
            in_diff, in_message = True, False
            diff_lines = 0
            continue
        if in_diff:
            if line.startswith("@@") or DIFF_META_KEEP_RE.match(line):
                out.keep(i)
            elif DIFF_META_DROP_RE.match(line):
                continue
            elif line[0] in "+-":
                diff_lines += 1
                if diff_lines <= DIFF_LINES_PER_FILE:
                    out.keep(i)
                else:
                    out.drop("changed lines", i)
            elif line[0] == " ":
                out.drop("context lines", i)
            else:
                in_diff = False
                _other(out, i, line)
            continue
        if line.startswith("Merge: "):
            out.keep(i)
            continue
        if HEADER_DROP_RE.match(line):
            out.drop("author/date lines", i)
            continue
        if STAT_SUMMARY_RE.match(line):
            out.keep(i)
            in_message = False
            continue
        st = STAT_FILE_RE.match(line)
        if st:
            stat_files += 1
            in_message = False
            if not commits:  # `git diff --stat`: the per-file changes are what was asked for
                out.keep(i)
            elif stat_files <= STAT_FILES_KEPT:
                # "path | 12" is a prefix of the line; the +++--- bar adds nothing.
                out.keep_prefix(i, len(st.group(1)) if st.group(1) else len(line))
            else:
                out.drop("diffstat lines", i)
            continue
        if in_message and line.startswith("    "):
            if not subject_done:
                out.keep(i)
                subject_done = True
            else:
                out.drop("message body lines", i)
            continue
        in_message = False
        if STATUS_KEEP_RE.match(line):
            out.keep(i)
            section_items = 0
            continue
        if HINT_RE.match(line):
            continue
        if line.startswith("\t") or SHORT_STATUS_RE.match(line):
            section_items += 1
            if section_items <= STATUS_PER_SECTION:
                out.keep(i)
            else:
                out.drop("paths", i)
            continue
        if ONELINE_RE.match(line):
            out.keep(i)
            continue
        _other(out, i, line)
    return out


def _other(out: Out, i: int, line: str) -> None:
    if PROGRESS_RE.match(line):
        out.drop("transfer progress lines", i)
    elif out.important(i) or not line.startswith("remote:"):
        out.keep(i)
    else:
        out.drop("remote lines", i)
