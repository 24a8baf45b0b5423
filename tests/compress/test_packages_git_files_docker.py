from ai_session.core.compress import compress

from .helpers import assert_faithful

PIP_FAIL = """\
Collecting requests==2.31.0
  Downloading requests-2.31.0-py3-none-any.whl (62 kB)
     ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 62.6/62.6 kB 3.1 MB/s eta 0:00:00
Collecting numpy==1.19.5
  Downloading numpy-1.19.5.zip (7.3 MB)
  Installing build dependencies ... done
  Getting requirements to build wheel ... done
  Preparing metadata (pyproject.toml) ... error
  error: subprocess-exited-with-error

  × Preparing metadata (pyproject.toml) did not run successfully.
  │ exit code: 1
  ╰─> [4 lines of output]
      Running from numpy source directory.
      RuntimeError: Python version >= 3.7 required.
      [end of output]

  note: This error originates from a subprocess, and is likely not a problem with pip.
error: metadata-generation-failed

× Encountered error while generating package metadata.
╰─> See above for output.
"""


def test_pip_failure_keeps_the_error_chain():
    raw = PIP_FAIL
    r = compress(raw, "pip install -r requirements.txt", 1)
    assert r.tool == "packages"
    for fact in ["Preparing metadata (pyproject.toml) ... error", "× Preparing metadata (pyproject.toml) did not run successfully.",
                 "RuntimeError: Python version >= 3.7 required.", "error: metadata-generation-failed",
                 "× Encountered error while generating package metadata."]:
        assert fact in r.text, fact
    assert "Downloading requests" not in r.text and "━━━" not in r.text
    assert_faithful(raw, r)


NPM_OK = "".join(f"npm warn deprecated pkg{k}@1.0.0: no longer supported\n" for k in range(12)) + """\

added 312 packages, and audited 313 packages in 9s

48 packages are looking for funding
  run `npm fund` for details

2 moderate severity vulnerabilities

To address all issues, run:
  npm audit fix
"""


def test_npm_install_keeps_each_warning_folds_repeats_and_keeps_outcome():
    r = compress(NPM_OK, "npm install", 0)
    assert "added 312 packages, and audited 313 packages in 9s" in r.text
    assert "2 moderate severity vulnerabilities" in r.text
    # Each warning names another package (a number inside a name is the name): all are kept.
    assert all(f"npm warn deprecated pkg{k}@1.0.0: no longer supported" in r.text for k in range(12))
    retries = "".join(f"npm warn retrying fetch, attempt {k} of 12\n" for k in range(12)) + NPM_OK[-200:]
    folded = compress(retries, "npm install", 0)  # only the numbers differ: the run folds
    assert "attempt 0 of 12" in folded.text and "attempt 11 of 12" in folded.text and "attempt 5 of" not in folded.text
    assert "6 more like this (only numbers differ) until line 12" in folded.text  # the reducer showed 5
    assert "looking for funding" not in r.text


GIT_STATUS = """\
On branch feature/x
Your branch is ahead of 'origin/feature/x' by 2 commits.
  (use "git push" to publish your local commits)

Changes to be committed:
  (use "git restore --staged <file>..." to unstage)
	modified:   src/a.py
	new file:   src/b.py

Changes not staged for commit:
  (use "git add <file>..." to update what will be committed)
  (use "git restore <file>..." to discard changes in working directory)
	modified:   README.md

Untracked files:
  (use "git add <file>..." to include in what will be committed)
	notes.txt

"""


def test_git_status_drops_hints_keeps_paths():
    r = compress(GIT_STATUS, "git status", 0)
    for fact in ["On branch feature/x", "Your branch is ahead of 'origin/feature/x' by 2 commits.",
                 "modified:   src/a.py", "new file:   src/b.py", "modified:   README.md", "notes.txt",
                 "Untracked files:"]:
        assert fact in r.text, fact
    assert '(use "git' not in r.text


GIT_DIFF = """\
diff --git a/src/a.py b/src/a.py
index 3b18e51..a9c2f0d 100644
--- a/src/a.py
+++ b/src/a.py
@@ -1,7 +1,7 @@ def main():
 import os
 import sys
-x = 1
+x = 2
 def f():
     return x

diff --git a/img.png b/img.png
new file mode 100644
index 0000000..e69de29
Binary files /dev/null and b/img.png differ
"""


def test_git_diff_keeps_changes_drops_context():
    raw = GIT_DIFF * 3
    r = compress(raw, "git diff", 0)
    for fact in ["diff --git a/src/a.py b/src/a.py", "@@ -1,7 +1,7 @@ def main():", "-x = 1", "+x = 2",
                 "new file mode 100644", "Binary files /dev/null and b/img.png differ"]:
        assert fact in r.text, fact
    assert "import sys" not in r.text and "index 3b18e51" not in r.text


def test_git_log_oneline_kept_whole():
    raw = "".join(f"{k:07x}a (tag: v{k}) subject number {k}\n" for k in range(30))
    r = compress(raw, "git log --oneline", 0)
    assert all(f"subject number {k}" in r.text for k in range(30))


def test_find_folds_dependency_dirs_unless_the_listing_is_inside_one():
    raw = "".join(f"./node_modules/p{k}/index.js\n" for k in range(500)) + "./src/app.js\n./src/lib/x.js\n"
    r = compress(raw, "find . -name '*.js'", 0)
    assert "./src/app.js" in r.text and "./src/lib/x.js" in r.text
    assert "500 entries under ./node_modules/ not shown" in r.text
    only = "".join(f"node_modules/p{k}/package.json\n" for k in range(40))
    r2 = compress(only, "find node_modules -name package.json", 0)
    assert all(f"node_modules/p{k}/package.json" in r2.text for k in range(40))


def test_find_keeps_every_project_entry_until_the_context_bound():
    raw = "".join(f"./src/m{k}.py\n" for k in range(300)) + "".join(f"./tests/t{k}.py\n" for k in range(100))
    r = compress(raw, "find . -name '*.py'", 0)
    assert all(f"./src/m{k}.py" in r.text for k in range(300)) and "./tests/t99.py" in r.text
    huge = "".join(f"./src/pkg{k // 100}/module_{k}.py\n" for k in range(20_000))
    cut = compress(huge, "find . -name '*.py'", 0, run_id="run_f")
    assert "./src/pkg0/module_0.py" in cut.text and "./src/pkg199/module_19999.py" in cut.text
    assert "more lines of this context not shown" in cut.text and len(cut.text) < 61_000


def test_tree_folds_node_modules_subtree():
    raw = ".\n├── package.json\n├── node_modules\n" + "".join(f"│   ├── dep{k}\n" for k in range(50)) + \
        "└── src\n    └── index.ts\n\n52 directories, 2 files\n"
    r = compress(raw, "tree", 0)
    assert "├── node_modules" in r.text and "dep3" not in r.text
    assert "50 entries under node_modules/ not shown" in r.text
    assert "    └── index.ts" in r.text and "52 directories, 2 files" in r.text


def test_grep_keeps_every_project_match_and_cuts_long_lines_with_a_note():
    raw = "".join(f"src/big.js:{k}:const token = 1; // {'x' * 1500}\n" for k in range(1, 60)) + "src/small.py:3:token = 2\n"
    r = compress(raw, "rg -n token", 0)
    assert "src/small.py:3:token = 2" in r.text
    assert all(f"src/big.js:{k}:const token" in r.text for k in range(1, 60))  # every match in the project
    assert max(len(line) for line in r.text.splitlines()) <= 1000
    assert "characters cut from this line" in r.text
    assert_faithful(raw, r)


DOCKER = """\
#0 building with "default" instance using docker driver

#1 [internal] load build definition from Dockerfile
#1 transferring dockerfile: 310B done
#1 DONE 0.0s

#2 [internal] load metadata for docker.io/library/python:3.12-slim
#2 DONE 0.8s

#5 [2/4] WORKDIR /app
#5 CACHED

#6 [3/4] COPY requirements.txt .
#6 DONE 0.1s

#7 [4/4] RUN pip install -r requirements.txt
#7 0.912 Collecting flask==9.9
#7 1.532 ERROR: Could not find a version that satisfies the requirement flask==9.9 (from versions: 0.1, 3.0.0)
#7 1.533 ERROR: No matching distribution found for flask==9.9
#7 ERROR: process "/bin/sh -c pip install -r requirements.txt" did not complete successfully: exit code: 1
------
 > [4/4] RUN pip install -r requirements.txt:
0.912 Collecting flask==9.9
1.532 ERROR: Could not find a version that satisfies the requirement flask==9.9 (from versions: 0.1, 3.0.0)
1.533 ERROR: No matching distribution found for flask==9.9
------
Dockerfile:4
--------------------
   2 |     WORKDIR /app
   3 |     COPY requirements.txt .
   4 | >>> RUN pip install -r requirements.txt
   5 |
--------------------
ERROR: failed to solve: process "/bin/sh -c pip install -r requirements.txt" did not complete successfully: exit code: 1
"""


def test_docker_buildkit_failure():
    r = compress(DOCKER, "docker build -t app .", 1)
    assert r.tool == "docker"
    for fact in ["#7 [4/4] RUN pip install -r requirements.txt", "ERROR: No matching distribution found for flask==9.9",
                 "> [4/4] RUN pip install -r requirements.txt:", "4 | >>> RUN pip install -r requirements.txt",
                 "ERROR: failed to solve: process"]:
        assert fact in r.text, fact
    assert "transferring dockerfile" not in r.text and "#6 DONE" not in r.text
    assert_faithful(DOCKER, r)


def test_generic_folds_numbered_repeats_and_keeps_errors_with_head_and_tail():
    raw = "starting\n" + "".join(f"processed item {k} in {k % 7}ms\n" for k in range(5000)) + \
        "".join(f"step {k}: {'x' * (k % 5)}\n" for k in range(300)) + "ERROR: disk full at /var/data\n" + \
        "".join(f"cleanup {chr(97 + k % 26)}{k}\n" for k in range(100)) + "done with 1 error\n"
    r = compress(raw, "./deploy.sh", 1)
    assert r.tool == "generic"
    assert "processed item 0 in 0ms" in r.text and "processed item 4999 in 1ms" in r.text
    assert "[ai-session] 4998 similar lines" in r.text
    assert "ERROR: disk full at /var/data" in r.text and "done with 1 error" in r.text
    assert "lines omitted (lines" in r.text
    assert len(r.text) < len(raw) / 20
    assert_faithful(raw, r)
