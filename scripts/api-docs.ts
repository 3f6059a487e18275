/**
 * Writes the API reference, `docs/api/`, from the doc comments of the packages' public modules.
 *
 * `npm run docs` runs it. It reads each package's entry points (`src/index.ts`, and
 * `src/testing.ts` where there is one) with the TypeScript compiler API, follows every
 * `export * as Name from "./Name.ts"` to its module, and writes one Markdown page per module:
 * the module's opening comment, then each export with its declaration (bodies left out) and
 * its doc comment. Only what a user can import is documented; `internal/` never appears.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
const out = Path.join(root, "docs", "api")

interface Entry {
  /** The import path a user writes. */
  readonly specifier: string
  readonly file: string
}

const packages: ReadonlyArray<{ readonly name: string; readonly dir: string; readonly entries: ReadonlyArray<Entry> }> =
  [
    {
      name: "@effect-jobs/core",
      dir: "core",
      entries: [
        { specifier: "@effect-jobs/core", file: "packages/core/src/index.ts" },
        { specifier: "@effect-jobs/core/testing", file: "packages/core/src/testing.ts" }
      ]
    },
    {
      name: "@effect-jobs/redis",
      dir: "redis",
      entries: [
        { specifier: "@effect-jobs/redis", file: "packages/redis/src/index.ts" },
        { specifier: "@effect-jobs/redis/testing", file: "packages/redis/src/testing.ts" }
      ]
    },
    {
      name: "@effect-jobs/cli",
      dir: "cli",
      entries: [{ specifier: "@effect-jobs/cli", file: "packages/cli/src/index.ts" }]
    }
  ]

const files = packages.flatMap((p) => p.entries.map((e) => Path.join(root, e.file))).filter((f) => Fs.existsSync(f))
const program = ts.createProgram(files, {
  target: ts.ScriptTarget.ES2023,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  allowImportingTsExtensions: true,
  noEmit: true,
  skipLibCheck: true,
  strict: true
})
const checker = program.getTypeChecker()

/** The opening `/** … *\/` of a file, as Markdown. */
const moduleComment = (source: ts.SourceFile): string => {
  const ranges = ts.getLeadingCommentRanges(source.text, 0) ?? []
  const block = ranges.map((r) => source.text.slice(r.pos, r.end)).find((text) => text.startsWith("/**"))
  return block === undefined
    ? ""
    : cleanComment(block)
        .replace(/^@since (.*)$/m, "Since $1.")
        .replace(/^@\w+.*$/gm, "")
        .trim()
}

/** A JSDoc block's text without its `/**`, `*` and `*\/`. */
const cleanComment = (block: string): string =>
  block
    .replace(/^\/\*\*\s?/, "")
    .replace(/\s*\*\/$/, "")
    .split("\n")
    .map((line) => line.replace(/^\s*\* ?/, ""))
    .join("\n")
    .trim()

const maxSignature = 1_600

/** A declaration's text as a reader needs it: no function bodies, no initialiser logic. */
const signature = (node: ts.Node, source: ts.SourceFile, name: string): string => {
  const text = (from: ts.Node, to: number) => source.text.slice(from.getStart(source), to).trim()
  let result: string
  if (ts.isFunctionDeclaration(node)) {
    result = node.body === undefined ? text(node, node.end) : text(node, node.body.getStart(source))
  } else if (ts.isVariableDeclaration(node)) {
    if (node.type !== undefined) {
      result = `const ${name}: ${node.type.getText(source)}`
    } else {
      const type = checker.getTypeAtLocation(node)
      result = `const ${name}: ${checker.typeToString(type, node, ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.UseFullyQualifiedType)}`
    }
  } else if (ts.isClassDeclaration(node)) {
    const heritage = node.heritageClauses?.map((clause) => clause.getText(source)).join(" ") ?? ""
    const members = node.members
      .filter(
        (member) =>
          !(
            ts.getCombinedModifierFlags(member as ts.Declaration) &
            (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)
          )
      )
      .map((member) => {
        if (ts.isMethodDeclaration(member) && member.body !== undefined)
          return text(member, member.body.getStart(source))
        return text(member, member.end)
      })
    result = `class ${name} ${heritage}${members.length > 0 ? ` {\n  ${members.join("\n  ")}\n}` : ""}`
  } else if (ts.isExportSpecifier(node) || ts.isExportAssignment(node)) {
    result = node.getText(source)
  } else {
    result = text(node, node.end)
  }
  // Doc comments inside the declaration (interface members) stay: they are its reference.
  return result.length > maxSignature ? `${result.slice(0, maxSignature)}\n// … (see the source)` : result
}

const kindOf = (node: ts.Node): string =>
  ts.isInterfaceDeclaration(node)
    ? "interface"
    : ts.isTypeAliasDeclaration(node)
      ? "type"
      : ts.isClassDeclaration(node)
        ? "class"
        : ts.isFunctionDeclaration(node)
          ? "function"
          : ts.isVariableDeclaration(node)
            ? "const"
            : "export"

interface Documented {
  readonly name: string
  readonly kind: string
  readonly signature: string
  readonly doc: string
  /** Its `@category` tag, which groups the page's list of exports. */
  readonly category: string | undefined
  readonly source: string
  readonly line: number
}

const tagText = (tag: ts.JSDocTagInfo) => ts.displayPartsToString(tag.text ?? []).trim()

const docsOf = (symbol: ts.Symbol): string => {
  const text = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim()
  const tags = symbol
    .getJsDocTags(checker)
    .filter((tag) => tag.name !== "internal" && tag.name !== "category")
    .map((tag) => (tag.name === "since" ? `Since ${tagText(tag)}.` : `\`@${tag.name}\` ${tagText(tag)}`))
  return [text, ...tags].filter((part) => part !== "").join("\n\n")
}

const categoryOf = (symbol: ts.Symbol): string | undefined => {
  const tag = symbol.getJsDocTags(checker).find((t) => t.name === "category")
  return tag === undefined ? undefined : tagText(tag) || undefined
}

const isInternal = (symbol: ts.Symbol): boolean => symbol.getJsDocTags(checker).some((tag) => tag.name === "internal")

/** Every export of a module file, in source order. */
const exportsOf = (source: ts.SourceFile): Array<Documented> => {
  const moduleSymbol = checker.getSymbolAtLocation(source)
  if (moduleSymbol === undefined) return []
  const documented: Array<Documented> = []
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    if (isInternal(exported)) continue
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported
    const declaration = symbol.declarations?.[0] ?? exported.declarations?.[0]
    if (declaration === undefined) continue
    const declSource = declaration.getSourceFile()
    if (declSource.fileName.includes("/node_modules/")) {
      documented.push({
        name: exported.name,
        kind: "re-export",
        signature: `export { ${exported.name} } // from ${Path.basename(Path.dirname(Path.dirname(declSource.fileName)))}`,
        doc: docsOf(symbol),
        category: categoryOf(symbol),
        source: "",
        line: 0
      })
      continue
    }
    documented.push({
      name: exported.name,
      kind: kindOf(declaration),
      signature: signature(declaration, declSource, exported.name),
      doc: docsOf(symbol) || docsOf(exported),
      category: categoryOf(symbol) ?? categoryOf(exported),
      source: Path.relative(root, declSource.fileName),
      line: declSource.getLineAndCharacterOfPosition(declaration.getStart(declSource)).line + 1
    })
  }
  return documented.sort((a, b) => (a.source === b.source ? a.line - b.line : a.source.localeCompare(b.source)))
}

/** The `export * as Name from "./Name.ts"` modules of an entry file; the entry itself when it has none. */
const modulesOf = (entry: ts.SourceFile): Array<{ readonly name: string; readonly source: ts.SourceFile }> => {
  const modules: Array<{ name: string; source: ts.SourceFile }> = []
  for (const statement of entry.statements) {
    if (
      ts.isExportDeclaration(statement) &&
      statement.exportClause !== undefined &&
      ts.isNamespaceExport(statement.exportClause) &&
      statement.moduleSpecifier !== undefined &&
      ts.isStringLiteral(statement.moduleSpecifier)
    ) {
      const file = Path.resolve(Path.dirname(entry.fileName), statement.moduleSpecifier.text)
      const source = program.getSourceFile(file)
      if (source !== undefined) modules.push({ name: statement.exportClause.name.text, source })
    }
  }
  return modules
}

/** The list of exports, under their `@category` when the module uses categories. */
const exportIndex = (exportsList: ReadonlyArray<Documented>): Array<string> => {
  const item = (e: Documented) => `- [\`${e.name}\`](#${anchor(e.name)}) (${e.kind})`
  if (exportsList.every((e) => e.category === undefined)) return exportsList.map(item)
  const groups = new Map<string, Array<Documented>>()
  for (const e of exportsList) {
    const key = e.category ?? "other"
    const group = groups.get(key)
    if (group === undefined) groups.set(key, [e])
    else group.push(e)
  }
  const other = groups.get("other")
  groups.delete("other")
  if (other !== undefined) groups.set("other", other)
  return [...groups].flatMap(([category, members]) => [`**${category}**`, "", ...members.map(item), ""])
}

const anchor = (name: string) => name.toLowerCase().replace(/[^a-z0-9-]/g, "")

const page = (
  title: string,
  importLine: string,
  source: ts.SourceFile,
  exportsList: ReadonlyArray<Documented>
): string => {
  const lines = [
    `# ${title}`,
    "",
    "<!-- Generated by `npm run docs` (scripts/api-docs.ts) from the doc comments: edit the source, not this page. -->",
    "",
    "```ts",
    importLine,
    "```",
    "",
    moduleComment(source),
    "",
    `Source: [\`${Path.relative(root, source.fileName)}\`](../../../${Path.relative(root, source.fileName)})`,
    "",
    "## Exports",
    "",
    ...exportIndex(exportsList),
    ""
  ]
  for (const e of exportsList) {
    lines.push(`### ${e.name}`, "", "```ts", e.signature, "```", "")
    if (e.doc !== "") lines.push(e.doc, "")
    if (e.source !== "") lines.push(`<sub>[${e.source}:${e.line}](../../../${e.source}#L${e.line})</sub>`, "")
  }
  return `${lines
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim()}\n`
}

Fs.rmSync(out, { recursive: true, force: true })
const index: Array<string> = [
  "# API reference",
  "",
  "<!-- Generated by `npm run docs` (scripts/api-docs.ts): edit the doc comments in the sources, not these pages. -->",
  "",
  "One page per public module, generated from the doc comments. The guides in [the docs](../README.md)",
  "explain how the pieces fit; these pages list every export with its declaration.",
  ""
]
let pages = 0
for (const pkg of packages) {
  index.push(`## ${pkg.name}`, "")
  for (const entry of pkg.entries) {
    const source = program.getSourceFile(Path.join(root, entry.file))
    if (source === undefined) continue
    const modules = modulesOf(source)
    const dir = Path.join(out, pkg.dir)
    Fs.mkdirSync(dir, { recursive: true })
    if (modules.length === 0) {
      // An entry that exports functions itself (`testing`): one page for it.
      const name =
        entry.specifier
          .split("/")
          .slice(1)
          .join("/")
          .replace(/^[^/]*\/?/, "") || "index"
      const file = `${name}.md`
      Fs.writeFileSync(
        Path.join(dir, file),
        page(
          entry.specifier,
          `import * as ${name === "testing" ? "JobsTest" : "Module"} from "${entry.specifier}"`,
          source,
          exportsOf(source)
        )
      )
      index.push(`- [\`${entry.specifier}\`](${pkg.dir}/${file}): ${firstSentence(moduleComment(source))}`)
      pages++
      continue
    }
    for (const { name, source: moduleSource } of modules) {
      const file = `${name}.md`
      Fs.writeFileSync(
        Path.join(dir, file),
        page(`${name}`, `import { ${name} } from "${entry.specifier}"`, moduleSource, exportsOf(moduleSource))
      )
      index.push(`- [\`${name}\`](${pkg.dir}/${file}): ${firstSentence(moduleComment(moduleSource))}`)
      pages++
    }
  }
  index.push("")
}
Fs.writeFileSync(Path.join(out, "README.md"), `${index.join("\n").trim()}\n`)
console.log(`docs/api: ${pages} pages`)

function firstSentence(text: string): string {
  const paragraph =
    text
      .split(/\n\s*\n/)[0]
      ?.replace(/\s+/g, " ")
      .trim() ?? ""
  const end = paragraph.search(/\.(\s|$)/)
  return end < 0 ? paragraph : paragraph.slice(0, end + 1)
}
