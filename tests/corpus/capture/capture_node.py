"""JavaScript tools: eslint, prettier, webpack, esbuild, vite, tsc --build, pnpm, a Node stack
trace, and searches (grep, ripgrep) in a project with node_modules and built bundles, run on
real npm packages and a small app written here.

    python3 capture_node.py [CASE ...]     # no argument: every case of this script
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

from common import (
    NODE_TOOLS,
    WORK,
    Case,
    capture,
    capture_all,
    edit,
    fresh_dir,
    npm_package,
    sh,
    shown,
    structured,
)

HERE = __file__

ESLINT_CONFIG = """\
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: "commonjs", globals: globals.node },
    rules: {
      "no-var": "warn",
      "prefer-const": "warn",
      "eqeqeq": ["warn", "smart"],
      "no-unused-vars": ["error", { args: "none" }],
    },
  },
];
"""


def eslint_express() -> Case:
    name = "23-eslint-express-stylish"
    root = npm_package("express", "4.21.1", name)
    (root / "eslint.config.mjs").write_text(ESLINT_CONFIG)
    sh("npm install --silent --no-audit --no-fund --ignore-scripts @eslint/js@9 globals@15", cwd=root)
    edit(root / "lib/request.js", "  var host = this.get('X-Forwarded-Host');",
         "  var host = this.get('X-Forwarded-Host');\n  var port = this.get('X-Forwarded-Port');")
    edit(root / "lib/response.js", "  var app = this.app;\n", "  var app = this.app;\n  debug('render %s', view);\n")
    case = capture(
        name, f"{NODE_TOOLS}/bin/eslint lib", root, tool="eslint", kind="linter, file header + indented findings", pty=True,
        shown_cmd="npx eslint lib", source="express 4.21.1 (npm tarball) with a flat config: recommended + no-var/prefer-const/eqeqeq as warnings",
        modification="2 injected bugs (unused variable, undefined debug); the rest is eslint's real verdict",
        facts_from="eslint -f json (2nd run): every error and warning, located under its file header", script=HERE,
    )
    report = json.loads(structured("eslint -f json lib", root))
    for result in report:
        if not result["messages"]:
            continue
        header = case.line_fact(result["filePath"].replace(str(WORK / "src" / name), "/home/dev/src/proj"),
                                why="file header of a block of findings")
        start = case.lines.index(next(ln for ln in case.lines if ln.strip() == header))
        for m in result["messages"]:
            sev = "error" if m["severity"] == 2 else "warning"
            case.fact(case.line(f"{m['line']}:{m['column']} ", sev, m["message"].rstrip("."), start=start),
                      why=f"eslint {sev} ({m['ruleId']})")
    case.line_fact("problems (", why="eslint summary counts")
    return case


def prettier_express() -> Case:
    name = "24-prettier-check-express"
    root = npm_package("express", "4.21.1", name)
    case = capture(
        name, f"{NODE_TOOLS}/bin/prettier --check .", root, tool="prettier", kind="formatter, list of files", pty=True,
        shown_cmd="npx prettier --check .",
        source="express 4.21.1 (npm tarball)", modification="none: the project is not prettier-formatted",
        facts_from="prettier --list-different (2nd run): every file, located in its [warn] line; summary", script=HERE,
    )
    for path in structured("prettier --list-different .", root).split():
        case.fact("[warn] " + path, why="file prettier would change")
    case.line_fact("Code style issues found in", why="prettier summary")
    return case


APP_FILES = {
    "package.json": json.dumps({
        "name": "sales-dashboard", "version": "0.3.0", "private": True, "type": "module",
        "scripts": {"build": "webpack --mode production"},
        "dependencies": {"chart.js": "4.4.6", "dayjs": "1.11.13", "lodash-es": "4.17.21"},
    }, indent=2) + "\n",
    "src/index.js": """\
import { debounce } from "lodash-es";
import { renderSalesChart } from "./charts.js";
import { formatMoney, formatDay } from "./utils/format.js";
import { fetchSales } from "./api/sales.js";

const input = document.querySelector("#range");

async function refresh() {
  const rows = await fetchSales(input.value);
  document.querySelector("#total").textContent = formatMoney(rows.reduce((s, r) => s + r.amount, 0));
  document.querySelector("#since").textContent = formatDay(rows[0]?.day);
  renderSalesChart(document.querySelector("#chart"), rows);
}

input.addEventListener("input", debounce(refresh, 250));
refresh();
""",
    "src/charts.js": """\
import { Chart, BarController, BarElement, CategoryScale, LinearScale, Tooltip } from "chart.js";
import dayjs from "dayjs";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

let chart;

export function renderSalesChart(canvas, rows) {
  chart?.destroy();
  chart = new Chart(canvas, {
    type: "bar",
    data: {
      labels: rows.map((r) => dayjs(r.day).format("MMM D")),
      datasets: [{ label: "Sales", data: rows.map((r) => r.amount) }],
    },
  });
  return chart;
}
""",
    "src/utils/format.js": """\
import dayjs from "dayjs";

const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

export function formatMoney(value) {
  return money.format(value);
}

export function formatDate(day) {
  return day ? dayjs(day).format("YYYY-MM-DD") : "-";
}
""",
    "src/api/sales.js": """\
export async function fetchSales(range) {
  const response = await fetch(`/api/sales?range=${encodeURIComponent(range)}`);
  if (!response.ok) throw new Error(`sales: HTTP ${response.status}`);
  return response.json();
}
""",
    "webpack.config.cjs": """\
const path = require("path");
module.exports = {
  entry: "./src/index.js",
  output: { path: path.resolve(__dirname, "dist"), filename: "[name].[contenthash].js", clean: true },
  performance: { hints: "warning" },
};
""",
}


def dashboard(name: str) -> Path:
    """The small chart app above, with its real dependencies installed."""
    root = fresh_dir(name) / "sales-dashboard"
    for rel, text in APP_FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    sh("npm install --silent --no-audit --no-fund", cwd=root)
    return root


def webpack_errors() -> Case:
    name = "25-webpack-module-not-found"
    root = dashboard(name)
    edit(root / "src/index.js", 'from "./api/sales.js"', 'from "./api/sales-client.js"')
    edit(root / "src/charts.js", 'import dayjs from "dayjs";', 'import dayjs from "dayjs";\nimport "chartjs-adapter-dayjs-4";')
    cmd = f"{NODE_TOOLS}/bin/webpack --mode production --config webpack.config.cjs"
    case = capture(
        name, cmd, root, tool="webpack", kind="bundler errors and warnings", pty=True,
        shown_cmd="npx webpack --mode production --config webpack.config.cjs",
        source="a small chart app written here (chart.js 4.4.6, dayjs, lodash-es)",
        modification="a renamed module, an uninstalled adapter, an import of a function that is not exported",
        facts_from="webpack --json (2nd run): every error and warning, located by its module and loc", script=HERE,
    )
    stats = json.loads(structured(cmd + " --json", root))
    for kind, items in (("ERROR", stats["errors"]), ("WARNING", stats["warnings"])):
        for item in items:
            where = item.get("moduleName") or ""
            parts = [f"{kind} in {where}"] + ([item["loc"]] if item.get("loc") else [])
            case.line_fact(*parts, why=f"webpack {kind.lower()} location")
            case.line_fact(shown(item["message"].splitlines()[0], name)[:100], why=f"webpack {kind.lower()} message")
    case.line_fact("compiled with ", why="webpack outcome line")
    return case


ESBUILD_REPORT = """\
const esbuild = require(process.argv[2]);
esbuild.build({ entryPoints: ["src/main.ts"], bundle: true, outdir: "out", platform: "node", logLevel: "silent" })
  .then((r) => console.log(JSON.stringify(r.warnings.map((m) => ({
    text: m.text, file: m.location && m.location.file, line: m.location && m.location.line,
    column: m.location && m.location.column })))))
  .catch((e) => console.log(JSON.stringify([...e.errors, ...e.warnings].map((m) => ({
    text: m.text, file: m.location && m.location.file, line: m.location && m.location.line,
    column: m.location && m.location.column })))));
"""


def esbuild_errors() -> Case:
    name = "26-esbuild-bundle-errors"
    root = fresh_dir(name) / "todo-cli"
    root.mkdir()
    (root / "package.json").write_text('{"name": "todo-cli", "version": "1.0.0", "dependencies": {"yargs": "17.7.2"}}\n')
    sh("npm install --silent --no-audit --no-fund", cwd=root)
    (root / "src").mkdir()
    (root / "src/main.ts").write_text("""\
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { loadTodos, saveTodos } from "./store";
import type { Todo } from "./types";

const argv = yargs(hideBin(process.argv))
  .command("add <text>", "add a todo")
  .command("done <id>", "mark a todo done")
  .demandCommand(1)
  .parseSync();

const todos: Todo[] = loadTodos();
if (argv._[0] === "add") {
  todos.push({ id: todos.length + 1, text: String(argv.text), done: false });
} else if (argv._[0] === "done") {
  const todo = todos.find((t) => t.id === Number(argv.id));
  if (todo) todo.done = true;
}
saveTodos(todos)
console.log(`${todos.filter((t) => !t.done).length} open`);
""")
    (root / "src/store.ts").write_text("""\
import { readFileSync, writeFileSync } from "fs";
import type { Todo } from "./types";

const FILE = process.env.TODO_FILE ?? "todos.json";

export function loadTodos(): Todo[] {
  try {
    return JSON.parse(readFileSync(FILE, "utf8"));
  } catch {
    return [];
  }
}

export function saveTodos(todos: Todo[]): void {
  writeFileSync(FILE, JSON.stringify(todos, null, 2));
}
""")
    (root / "src/types.ts").write_text("export interface Todo { id: number; text: string; done: boolean }\n")
    edit(root / "src/main.ts", 'import { hideBin } from "yargs/helpers";',
         'import { hideBin } from "yargs/helpers";\nimport chalk from "chalk";')
    edit(root / "src/main.ts", 'from "./store";', 'from "./storage";')
    edit(root / "src/main.ts", "console.log(`${todos", "console.log(chalk.green`${todos")
    edit(root / "src/main.ts", "text: String(argv.text), done: false", "text: String(argv.text), done: false, id: 0")
    cmd = f"{NODE_TOOLS}/bin/esbuild src/main.ts --bundle --platform=node --outdir=out"
    case = capture(
        name, cmd, root, tool="esbuild", kind="bundler errors with code frames", pty=True,
        shown_cmd="npx esbuild src/main.ts --bundle --platform=node --outdir=out",
        source="a small CLI written here on yargs 17.7.2 (npm)",
        modification="a renamed module, an import of a package that is not installed, a duplicate object key",
        facts_from="esbuild's JS API (2nd run): every error's text and file:line:column", script=HERE,
    )
    (root / "report.cjs").write_text(ESBUILD_REPORT)
    lib = NODE_TOOLS / "lib/node_modules/esbuild"
    for m in json.loads(structured(f"node report.cjs {lib}", root)):
        case.line_fact(m["text"], why="esbuild error")
        if m["file"]:
            case.line_fact(f"{m['file']}:{m['line']}:{m['column']}:", why="location of the error")
    case.fact(next(ln for ln in case.lines if re.fullmatch(r"\d+ (warning|error)s?( and \d+ errors?)?", ln)),
              why="esbuild summary")
    return case


def vite_build() -> Case:
    name = "27-vite-build-success-verbose"
    root = dashboard(name)
    (root / "index.html").write_text(
        '<!doctype html>\n<html><body><input id="range" value="30d"><span id="total"></span>'
        '<span id="since"></span><canvas id="chart"></canvas><script type="module" src="/src/index.js"></script></body></html>\n'
    )
    edit(root / "src/index.js", "formatDay", "formatDate", 2)
    edit(root / "src/charts.js", 'import { Chart, BarController, BarElement, CategoryScale, LinearScale, Tooltip } from "chart.js";',
         'import Chart from "chart.js/auto";\nimport { BarController, BarElement, CategoryScale, LinearScale, Tooltip } from "chart.js";')
    cmd = f"{NODE_TOOLS}/bin/vite build --manifest"
    case = capture(
        name, cmd, root, tool="vite", kind="long successful verbose build", pty=True, env={"DEBUG": "vite:*"},
        shown_cmd="DEBUG='vite:*' npx vite build --manifest",
        source="the same chart app, full chart.js registered", modification="none: a successful build with vite's debug log on",
        facts_from="dist/.vite/manifest.json (same run): every emitted file, located in its size line; outcome lines",
        script=HERE,
    )
    manifest = json.loads((root / "dist/.vite/manifest.json").read_text())
    for chunk in manifest.values():
        case.line_fact("dist/", chunk["file"], "kB", why="emitted file and size")
    case.line_fact("modules transformed", why="vite module count")
    case.line_fact("built in", why="vite outcome line")
    for line in case.lines:
        if "(!)" in line:
            case.fact(line, why="vite warning")
    return case


def pnpm_install() -> Case:
    name = "28-pnpm-install-added"
    root = fresh_dir(name) / "api-server"
    root.mkdir()
    (root / "package.json").write_text(json.dumps({
        "name": "api-server", "version": "2.1.0", "private": True,
        "dependencies": {"express": "4.21.1", "zod": "3.23.8", "pino": "9.5.0", "helmet": "8.0.0"},
        "devDependencies": {"typescript": "5.6.3", "vitest": "2.1.5", "@types/express": "5.0.0"},
    }, indent=2) + "\n")
    store = WORK / "pnpm-store"
    sh(f"rm -rf {store}", cwd=root)
    cmd = f"{NODE_TOOLS}/bin/pnpm install --store-dir {store}"
    case = capture(
        name, cmd, root, tool="pnpm", kind="package manager, progress + list of added packages", pty=True,
        shown_cmd="pnpm install", source="a package.json written here (express, zod, pino, helmet, vitest, typescript)",
        modification="none: a real install into an empty store; pnpm refuses esbuild's unapproved build script",
        facts_from="pnpm list --json (2nd run): every direct dependency, located in its '+' line; totals", script=HERE,
    )
    for project in json.loads(structured(f"{NODE_TOOLS}/bin/pnpm list --json", root)):
        for group in ("dependencies", "devDependencies"):
            for dep, info in project.get(group, {}).items():
                case.line_fact(f"+ {dep} ", info["version"], why=f"{group[:-3]}y added")
    case.line_fact("Packages: +", why="number of packages added")
    for part in ("ERR_PNPM_IGNORED_BUILDS", "Ignored build scripts:", 'Run "pnpm approve-builds"'):
        case.line_fact(part, why="why pnpm exited non-zero, and what to do")
    return case


NODE_APP = """\
"use strict";
const fs = require("fs");
const path = require("path");
const yaml = require("js-yaml");

function loadConfig(file) {
  const text = fs.readFileSync(file, "utf8");
  try {
    return yaml.load(text);
  } catch (err) {
    throw new Error(`cannot load ${path.basename(file)}`, { cause: err });
  }
}

function start() {
  const config = loadConfig(path.join(__dirname, "config", "app.yml"));
  console.log(`listening on ${config.server.port}`);
}

start();
"""

NODE_CONFIG = """\
server:
  port: 8080
   host: 0.0.0.0
database:
  url: postgres://app@localhost/app
"""


def node_stack_trace() -> Case:
    name = "29-node-uncaught-error-with-cause"
    root = fresh_dir(name) / "worker"
    (root / "config").mkdir(parents=True)
    (root / "index.js").write_text(NODE_APP)
    (root / "config/app.yml").write_text(NODE_CONFIG)
    sh("npm init -y >/dev/null && npm install --silent --no-audit --no-fund js-yaml@4.1.0", cwd=root)
    case = capture(
        name, "node index.js", root, tool="node", kind="stack trace with cause", pty=False,
        source="a 20-line service written here using js-yaml 4.1.0 (npm)",
        modification="a mis-indented key in its YAML config",
        facts_from="Node's error format: the thrown error, its cause, and the project's own frames", script=HERE,
    )
    case.line_fact("/home/dev/src/proj/worker/index.js:11", why="where the uncaught error was thrown")
    case.line_fact("throw new Error(`cannot load ${path.basename(file)}`", why="source line of the throw")
    case.line_fact("Error: cannot load app.yml", why="error thrown by the project")
    case.line_fact("YAMLException: bad indentation of a mapping entry", why="cause of the error")
    for line in case.lines:
        if re.search(r"\((/home/dev/src/proj/worker/index\.js:\d+:\d+)\)", line):
            case.fact(line, why="project frame")
    case.line_fact("3 |    host: 0.0.0.0", why="offending YAML line in the snippet")
    return case


def search_cases() -> list[Case]:
    name_grep, name_rg = "30-grep-rn-node-modules-and-bundles", "31-ripgrep-node-modules-tty"
    out = []
    for name, cmd, pty, tool in (
        (name_grep, "grep -rn formatDate .", False, "grep"),
        (name_rg, "rg -M 200 format", True, "ripgrep"),
    ):
        root = dashboard(name)
        edit(root / "src/index.js", "formatDay", "formatDate", 2)
        if tool == "grep":  # the large one: a production build with source maps sits in dist/
            sh(f"{NODE_TOOLS}/bin/webpack --mode production --config webpack.config.cjs --devtool source-map", cwd=root)
        case = capture(
            name, cmd, root, tool=tool, kind="search hitting dependencies and minified bundles", pty=pty,
            source="the chart app with node_modules installed" + (", and a production build with source maps in dist/" if tool == "grep" else ""),
            modification="none",
            facts_from="grep -rn over the project's own folders (2nd run, node_modules and dist excluded), located in raw",
            script=HERE,
        )
        term = cmd.split()[-2] if tool == "grep" else cmd.split()[-1]
        own = structured(f"grep -rn {term} --exclude-dir=node_modules --exclude-dir=dist .", root)
        for hit in own.splitlines():
            path, lineno, text = hit.split(":", 2)
            path = path.removeprefix("./")
            if tool == "grep":
                case.fact(hit, why="hit in the project's own code")
            else:
                case.fact(path, why="file of a hit in the project's own code")
                case.line_fact(f"{lineno}:", text.strip(), why="hit in the project's own code")
        out.append(case)
    return out


TS_PROJECT = (
    '{ "compilerOptions": { "composite": true, "outDir": "dist", "rootDir": "src", "strict": true, '
    '"target": "es2022", "module": "nodenext", "declaration": true }, "include": ["src"]%s }\n'
)
MONOREPO = {
    "tsconfig.json": '{ "files": [], "references": [{ "path": "packages/money" }, { "path": "packages/invoices" }, '
                     '{ "path": "packages/cli" }] }\n',
    "packages/money/tsconfig.json": TS_PROJECT % "",
    "packages/money/src/index.ts": """\
export type Currency = "EUR" | "USD" | "GBP";

export interface Money {
  readonly cents: number;
  readonly currency: Currency;
}

export function money(cents: number, currency: Currency): Money {
  if (!Number.isInteger(cents)) throw new RangeError(`cents must be an integer, got ${cents}`);
  return { cents, currency };
}

export function add(a: Money, b: Money): Money {
  if (a.currency !== b.currency) throw new TypeError(`cannot add ${a.currency} to ${b.currency}`);
  return money(a.cents + b.cents, a.currency);
}

export function format(m: Money, locale = "en-US"): string {
  return new Intl.NumberFormat(locale, { style: "currency", currency: m.currency }).format(m.cents / 100);
}
""",
    "packages/invoices/tsconfig.json": TS_PROJECT % ', "references": [{ "path": "../money" }]',
    "packages/invoices/src/index.ts": """\
import { add, money, type Money, type Currency } from "../../money/src/index.js";

export interface Line {
  description: string;
  quantity: number;
  unit: Money;
}

export interface Invoice {
  number: string;
  currency: Currency;
  lines: Line[];
}

export function total(invoice: Invoice): Money {
  return invoice.lines.reduce(
    (sum, line) => add(sum, money(line.unit.cents * line.quantity, line.unit.currency)),
    money(0, invoice.currency),
  );
}

export function overdue(invoice: Invoice & { due: Date }, today = new Date()): boolean {
  return invoice.due < today;
}
""",
    "packages/cli/tsconfig.json": TS_PROJECT % ', "references": [{ "path": "../invoices" }, { "path": "../money" }]',
    "packages/cli/src/main.ts": """\
import { total, type Invoice } from "../../invoices/src/index.js";
import { format } from "../../money/src/index.js";

const invoice: Invoice = {
  number: "2024-0042",
  currency: "EUR",
  lines: [{ description: "Consulting", quantity: 3, unit: { cents: 12000, currency: "EUR" } }],
};
console.log(`${invoice.number}: ${format(total(invoice))}`);
""",
}


def tsc_build_verbose() -> Case:
    name = "50-tsc-build-verbose-project-references"
    root = fresh_dir(name) / "billing"
    for rel, text in MONOREPO.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    invoices = root / "packages/invoices/src/index.ts"
    edit(invoices, "money(line.unit.cents * line.quantity, line.unit.currency)",
         "money(line.unit.cents * line.quantity, line.unit.currency.toLowerCase())")
    edit(invoices, "  return invoice.due < today;", "  return invoice.dueDate < today;")
    case = capture(
        name, f"{NODE_TOOLS}/bin/tsc --build --verbose", root, tool="tsc --build", kind="build of project references, verbose",
        pty=True, shown_cmd="npx tsc --build --verbose",
        source="a 3-project TypeScript monorepo written here (money, invoices, cli)",
        modification="2 injected type errors in invoices; cli depends on it",
        facts_from="tsc's own file:line:col error lines and its error count", script=HERE,
    )
    for line in case.lines:
        if re.search(r"(\(\d+,\d+\):|:\d+:\d+ -) error TS\d+: ", line):
            case.fact(line, why="type error with its location")
        if line.startswith("Found ") and " error" in line:
            case.fact(line, why="error count")
    return case


CASES: dict[str, Callable[[], Case | list[Case]]] = {
    "eslint": eslint_express,
    "prettier": prettier_express,
    "webpack": webpack_errors,
    "esbuild": esbuild_errors,
    "vite": vite_build,
    "pnpm": pnpm_install,
    "node": node_stack_trace,
    "search": search_cases,
    "tsc": tsc_build_verbose,
}


if __name__ == "__main__":
    capture_all(CASES, sys.argv[1:])
