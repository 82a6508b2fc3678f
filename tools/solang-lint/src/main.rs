//! `solang-lint [DIR]`: run solang's Solidity front end (parser + semantic analysis, EVM target)
//! over every `.sol` file under DIR (default `contracts/src`, searched recursively).
//!
//! Every solang diagnostic at level error or warning is printed to stderr as
//! `path:line:column: level: message` and makes the process exit with status 1. Info and debug
//! diagnostics are ignored. On success one summary line is printed to stdout.
//!
//! Warnings are never ignored wholesale. A diagnostic is only suppressed ("allowed", printed with
//! its reason and counted in the summary) when it is provably a solang artefact:
//! * an explicit, commented entry in [`ALLOW_LIST`] (matched on level + message text), or
//! * an unused/unassigned-variable warning that solang's own AST disproves (a variable read only
//!   as a `revert` argument, or a return variable assigned only by `++`/`--`; see
//!   [`solang_false_positive`]).
//!
//! Two further solang 0.3.5 quirks are handled without suppressing anything: named imports do not
//! expose types nested in the imported contract (see [`add_plain_imports`]), and "never used"
//! warnings are computed per namespace (see [`lint_dir`] for how per-file results are merged).

use solang::Target;
use solang::file_resolver::FileResolver;
use solang::sema::Recurse;
use solang::sema::ast::{DestructureField, Diagnostic, Expression, Level, Namespace, Statement};
use solang::sema::file::PathDisplay;
use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Directory linted when no argument is given (relative to the current directory).
const DEFAULT_DIR: &str = "contracts/src";

/// A solang diagnostic that is known to be an artefact of solang rather than a defect in our
/// Solidity. Matching is on the exact level and a substring of the message, so an entry can never
/// silence an unrelated diagnostic.
#[derive(Debug)]
struct Allowed {
    level: Severity,
    /// Substring that must occur in the diagnostic message.
    message_contains: &'static str,
    /// Why this is a solang artefact; printed next to every diagnostic it suppresses.
    reason: &'static str,
}

/// Explicit allow-list. Only add diagnostics that are provably a solang artefact.
const ALLOW_LIST: &[Allowed] = &[
    // solang models EVM memory offsets/lengths as uint32 (its own code generator's choice) and
    // warns whenever a uint256 is used as a memory array length, e.g. `new T[](xs.length)`. The
    // EVM and solc use 256-bit memory sizes, so this never reflects a truncation in the code solc
    // compiles. (sema/expression/constructor.rs: "conversion truncates ... as memory size is
    // type uint32 on target ...")
    Allowed {
        level: Severity::Warning,
        message_contains: "as memory size is type uint32 on target EVM",
        reason: "solang-specific memory model; solc/EVM memory sizes are uint256",
    },
];

/// Reasons printed for warnings suppressed by [`solang_false_positive`].
const REVERT_ARGS_REASON: &str = "variable is read as a revert argument; solang 0.3.5 does not mark \
     `revert E(x)` / `revert(x)` arguments as used (sema/statements.rs revert_pos_arg)";
const INCREMENT_REASON: &str = "variable is assigned by ++/--; solang 0.3.5 does not count \
     increments/decrements as assignments";

/// The levels that fail the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Severity {
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One error or warning, already resolved to a printable location.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Finding {
    /// File the diagnostic points into (as displayed).
    file: String,
    /// 1-based line; 0 when solang gave no source position.
    line: usize,
    /// 1-based column (in bytes); 0 when solang gave no source position.
    column: usize,
    severity: Severity,
    message: String,
    /// Secondary locations solang attached (already formatted as `path:line:col: message`).
    notes: Vec<String>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}: {}", self.file, self.severity, self.message)?;
        } else {
            write!(
                f,
                "{}:{}:{}: {}: {}",
                self.file, self.line, self.column, self.severity, self.message
            )?;
        }
        for note in &self.notes {
            write!(f, "\n    note: {note}")?;
        }
        Ok(())
    }
}

/// Result of linting one directory.
#[derive(Debug, Default)]
struct Report {
    files: usize,
    /// Unique errors and warnings that fail the gate.
    findings: BTreeSet<Finding>,
    /// Unique diagnostics suppressed as solang artefacts, with the reason.
    allowed: BTreeSet<(Finding, &'static str)>,
}

impl Report {
    fn count(&self, severity: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == severity).count()
    }

    fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    fn summary(&self) -> String {
        let mut line = format!(
            "solang-lint: {} files, {} errors, {} warnings",
            self.files,
            self.count(Severity::Error),
            self.count(Severity::Warning)
        );
        if !self.allowed.is_empty() {
            line.push_str(&format!(", {} allowed (solang artefacts)", self.allowed.len()));
        }
        line
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = match args.as_slice() {
        [] => PathBuf::from(DEFAULT_DIR),
        [flag] if flag == "-h" || flag == "--help" => {
            println!("usage: solang-lint [DIR]   (default DIR: {DEFAULT_DIR})");
            return ExitCode::SUCCESS;
        }
        [dir] => PathBuf::from(dir),
        _ => {
            eprintln!("usage: solang-lint [DIR]   (default DIR: {DEFAULT_DIR})");
            return ExitCode::from(2);
        }
    };

    let report = match lint_dir(&dir) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("solang-lint: {e}");
            return ExitCode::from(2);
        }
    };

    for finding in &report.findings {
        eprintln!("{finding}");
    }
    for (finding, reason) in &report.allowed {
        eprintln!("allowed: {finding}\n    reason: {reason}");
    }
    if report.is_clean() {
        println!("{}", report.summary());
        ExitCode::SUCCESS
    } else {
        if report.count(Severity::Error) > 0 {
            eprintln!(
                "note: solang skips its unused-code checks after an error, so warnings may be \
                 incomplete until the errors are fixed"
            );
        }
        eprintln!("{}", report.summary());
        ExitCode::FAILURE
    }
}

/// What one solang run (one top-level file plus its imports) reported.
#[derive(Debug)]
struct Analysis {
    /// Every source file the namespace loaded, as displayed.
    loaded: BTreeSet<String>,
    findings: Vec<Finding>,
    allowed: Vec<(Finding, &'static str)>,
}

/// Lint every `.sol` file under `dir`.
///
/// Each file is analysed as its own top-level source unit (so an error in one file does not hide
/// the warnings of unrelated files: solang stops its unused-code passes once a namespace has an
/// error). The results are merged as follows:
/// * errors: union over all analyses;
/// * warnings: a warning located in file F is reported when every analysis that loaded F reports
///   it. Warnings such as "storage variable 'X' has never been used" or "event 'E' has never been
///   emitted" depend on which files are in the namespace: a library constant or an interface
///   event is legitimately unused when its own file is analysed alone, and used once an importer
///   is loaded. Requiring agreement means "unused in the whole project". Warnings that come from
///   the file's own code (unused locals, mutability, ...) are the same in every analysis, so this
///   does not drop them -- except that solang skips its unused-code checks once a namespace has an
///   error, so while there are errors the warnings can be incomplete (the gate fails anyway, and
///   a note says so).
fn lint_dir(dir: &Path) -> Result<Report, String> {
    let root = dir.canonicalize().map_err(|e| format!("cannot open {}: {e}", dir.display()))?;
    if !root.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    let mut files = Vec::new();
    collect_sol_files(&root, &mut files)?;
    files.sort();
    if files.is_empty() {
        return Err(format!("no .sol files under {}", dir.display()));
    }
    let mut sources = Vec::with_capacity(files.len());
    for file in &files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        sources.push((file.clone(), add_plain_imports(&text)));
    }

    let cwd = std::env::current_dir().ok().and_then(|d| d.canonicalize().ok());
    let analyses: Vec<Analysis> =
        files.iter().map(|file| analyse(&root, &sources, file, cwd.as_deref())).collect();

    let mut report = Report { files: files.len(), ..Report::default() };
    for analysis in &analyses {
        report.allowed.extend(analysis.allowed.iter().cloned());
        for finding in &analysis.findings {
            let keep = match finding.severity {
                Severity::Error => true,
                Severity::Warning => analyses
                    .iter()
                    .filter(|a| a.loaded.contains(&finding.file))
                    .all(|a| a.findings.contains(finding)),
            };
            if keep {
                report.findings.insert(finding.clone());
            }
        }
    }
    Ok(report)
}

fn collect_sol_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let path = entry.path();
        let file_type =
            entry.file_type().map_err(|e| format!("cannot stat {}: {e}", path.display()))?;
        if file_type.is_dir() {
            collect_sol_files(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "sol") {
            out.push(path);
        }
    }
    Ok(())
}

/// Run solang's front end on one file (and, transitively, everything it imports).
///
/// Relative imports (`./x.sol`, `../x.sol`) are resolved by solang against the importing file's
/// directory; `root` is added as the single import path so that non-relative imports such as
/// `import "interfaces/IFoo.sol";` resolve against `contracts/src`. (Adding every directory as an
/// import path would make solang report ambiguous matches for same-named files.)
///
/// `sources` (every file under `root`, after [`add_plain_imports`]) are preloaded into the
/// resolver's cache, so solang reads the patched text instead of the file on disk.
fn analyse(
    root: &Path,
    sources: &[(PathBuf, String)],
    file: &Path,
    cwd: Option<&Path>,
) -> Analysis {
    let mut resolver = FileResolver::default();
    resolver.add_import_path(root);
    for (path, text) in sources {
        // The cache is keyed by path string; a non-UTF-8 path is simply read from disk unpatched.
        if let Some(path) = path.to_str() {
            resolver.set_file_contents(path, text.clone());
        }
    }
    let ns = solang::parse_and_resolve(file.as_os_str(), &mut resolver, Target::EVM);
    let fallback = display_path(file, cwd);

    let mut analysis = Analysis {
        loaded: ns
            .files
            .iter()
            .filter(|f| f.cache_no.is_some())
            .map(|f| display_path(&f.path, cwd))
            .collect(),
        findings: Vec::new(),
        allowed: Vec::new(),
    };
    analysis.loaded.insert(fallback.clone());
    for diag in ns.diagnostics.iter() {
        let Some(finding) = to_finding(&ns, diag, &fallback, cwd) else { continue };
        if let Some(entry) = ALLOW_LIST
            .iter()
            .find(|a| a.level == finding.severity && finding.message.contains(a.message_contains))
        {
            analysis.allowed.push((finding, entry.reason));
        } else if let Some(reason) = solang_false_positive(&ns, diag) {
            analysis.allowed.push((finding, reason));
        } else {
            analysis.findings.push(finding);
        }
    }
    analysis
}

fn to_finding(
    ns: &Namespace,
    diag: &Diagnostic,
    fallback_file: &str,
    cwd: Option<&Path>,
) -> Option<Finding> {
    let severity = match diag.level {
        Level::Error => Severity::Error,
        Level::Warning => Severity::Warning,
        Level::Info | Level::Debug => return None,
    };
    let (file, line, column) = match diag.loc.try_file_no().and_then(|no| ns.files.get(no)) {
        Some(f) => {
            let (line, column) = f.offset_to_line_column(diag.loc.start());
            (display_path(&f.path, cwd), line + 1, column + 1)
        }
        None => (fallback_file.to_owned(), 0, 0),
    };
    let notes = diag
        .notes
        .iter()
        .map(|note| match note.loc.try_file_no().and_then(|no| ns.files.get(no)) {
            Some(f) => {
                let (line, column) = f.offset_to_line_column(note.loc.start());
                format!(
                    "{}:{}:{}: {}",
                    display_path(&f.path, cwd),
                    line + 1,
                    column + 1,
                    note.message
                )
            }
            None => {
                format!("{}: {}", ns.loc_to_string(PathDisplay::FullPath, &note.loc), note.message)
            }
        })
        .collect();
    Some(Finding { file, line, column, severity, message: diag.message.clone(), notes })
}

/// Show paths relative to the current directory when they are inside it.
fn display_path(path: &Path, cwd: Option<&Path>) -> String {
    cwd.and_then(|cwd| path.strip_prefix(cwd).ok()).unwrap_or(path).display().to_string()
}

/// If `diag` is an unused/unassigned-variable warning that solang's own resolved AST proves wrong,
/// return the reason. Two solang 0.3.5 bugs are recognised:
/// * `revert E(x)` / `revert E({v: x})` / `revert(x)` arguments are resolved without marking the
///   variables in them as read (sema/statements.rs `revert_pos_arg`, unlike every other
///   statement), so `if (!ok) revert CallFailed(reason);` yields "destructure variable 'reason'
///   has never been used" although `reason` is read;
/// * `++x` / `x--` do not mark `x` as assigned, so a named return variable that is only changed
///   by increments (`returns (uint256 n) { ... n++; }`) yields "return variable 'n' has never
///   been assigned".
///
/// The warning's location must be the declaration of a variable in a function's symbol table that
/// solang itself marked unread (resp. unassigned), and that variable must occur in a revert
/// argument (resp. as the operand of an increment/decrement) in the function body.
fn solang_false_positive(ns: &Namespace, diag: &Diagnostic) -> Option<&'static str> {
    if diag.level != Level::Warning {
        return None;
    }
    for function in &ns.functions {
        for (var_no, var) in function.symtable.vars.iter() {
            if var.id.loc != diag.loc || !diag.message.contains(&format!("'{}'", var.id.name)) {
                continue;
            }
            let proof = if diag.message.starts_with("return variable ") {
                if var.assigned || !diag.message.ends_with("has never been assigned") {
                    continue;
                }
                Proof::IncrementedOrDecremented
            } else {
                if var.read {
                    continue;
                }
                Proof::ReadInRevert
            };
            let mut search = VarSearch { var_no: *var_no, proof, found: false };
            for stmt in &function.body {
                stmt.recurse(&mut search, search_statement);
            }
            if search.found {
                return Some(match proof {
                    Proof::ReadInRevert => REVERT_ARGS_REASON,
                    Proof::IncrementedOrDecremented => INCREMENT_REASON,
                });
            }
        }
    }
    None
}

/// Which use of a variable disproves the warning about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proof {
    /// Read as (part of) a revert argument.
    ReadInRevert,
    /// Operand of `++` / `--`.
    IncrementedOrDecremented,
}

#[derive(Debug)]
struct VarSearch {
    var_no: usize,
    proof: Proof,
    found: bool,
}

/// Visit the expressions held directly by `stmt` (nested statements are visited by `recurse`).
fn search_statement(stmt: &Statement, search: &mut VarSearch) -> bool {
    let exprs: Vec<&Expression> = match stmt {
        Statement::Revert { args, .. } => args.iter().collect(),
        _ if search.proof == Proof::ReadInRevert => Vec::new(),
        Statement::VariableDecl(_, _, _, init) => init.iter().map(|e| e.as_ref()).collect(),
        Statement::If(_, _, e, ..)
        | Statement::While(_, _, e, _)
        | Statement::DoWhile(_, _, _, e)
        | Statement::Expression(_, _, e)
        | Statement::Delete(_, _, e) => vec![e],
        Statement::For { cond, next, .. } => cond.iter().chain(next).collect(),
        Statement::Destructure(_, fields, e) => fields
            .iter()
            .filter_map(|f| match f {
                DestructureField::Expression(e) => Some(e),
                _ => None,
            })
            .chain([e])
            .collect(),
        Statement::Return(_, e) => e.iter().collect(),
        Statement::Emit { args, .. } => args.iter().collect(),
        Statement::TryCatch(_, _, try_catch) => vec![&try_catch.expr],
        _ => Vec::new(),
    };
    for expr in exprs {
        expr.recurse(search, search_expression);
    }
    !search.found
}

fn search_expression(expr: &Expression, search: &mut VarSearch) -> bool {
    let is_target = |e: &Expression| matches!(e, Expression::Variable { var_no, .. } if *var_no == search.var_no);
    let hit = match (search.proof, expr) {
        (Proof::ReadInRevert, e) => is_target(e),
        (
            Proof::IncrementedOrDecremented,
            Expression::PreIncrement { expr, .. }
            | Expression::PreDecrement { expr, .. }
            | Expression::PostIncrement { expr, .. }
            | Expression::PostDecrement { expr, .. },
        ) => is_target(expr),
        _ => false,
    };
    search.found |= hit;
    !search.found
}

/// Work around solang 0.3.5 not resolving types nested in an imported contract or interface
/// through a named import: after `import {IRegistry} from "./IRegistry.sol";`, solc accepts
/// `IRegistry.Role.Admin` and `IRegistry.Entry memory e`, but solang reports "contract
/// 'IRegistry' does not have a member called 'Role'" / "type 'Entry' not found" (its
/// `import {..}` only copies the file-level symbol, not the contract-scoped ones; see
/// `resolve_import` in sema/mod.rs). A plain `import "path";` does copy them, so every named
/// import gets a plain import of the same path appended on the same line (line numbers and the
/// columns of everything before it are unchanged).
///
/// The cost is that solang also sees the other top-level names of that file; solc (forge build)
/// remains the authority on which names a file actually imports.
fn add_plain_imports(src: &str) -> String {
    let bytes = src.as_bytes();
    let mut inserts: Vec<(usize, &str)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(next) = skip_comment_or_string(bytes, i) {
            i = next;
            continue;
        }
        match bytes[i] {
            b'{' => depth += 1,
            b'}' => depth = depth.saturating_sub(1),
            c if is_ident_byte(c) => {
                let start = i;
                while i < bytes.len() && is_ident_byte(bytes[i]) {
                    i += 1;
                }
                let at_boundary = start == 0 || !is_ident_byte(bytes[start - 1]);
                if depth == 0
                    && at_boundary
                    && &src[start..i] == "import"
                    && let Some((end, path)) = named_import(src, i)
                {
                    inserts.push((end, path));
                    i = end;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }

    let mut out = String::with_capacity(src.len() + inserts.len() * 64);
    let mut last = 0;
    for (at, path) in inserts {
        out.push_str(&src[last..at]);
        out.push_str(" import ");
        out.push_str(path);
        out.push(';');
        last = at;
    }
    out.push_str(&src[last..]);
    out
}

/// If the text after an `import` keyword at `from` is a named import (`{A, B as C} from "p";`),
/// return the offset just past its `;` and the path literal (with its quotes).
fn named_import(src: &str, mut i: usize) -> Option<(usize, &str)> {
    let bytes = src.as_bytes();
    // Skip whitespace and comments up to the first token; it must be `{`.
    loop {
        match bytes.get(i)? {
            c if c.is_ascii_whitespace() => i += 1,
            b'/' => i = skip_comment_or_string(bytes, i)?,
            b'{' => break,
            _ => return None,
        }
    }
    let mut path = None;
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' => {
                let end = skip_comment_or_string(bytes, i)?;
                path.get_or_insert(&src[i..end]);
                i = end;
            }
            b'/' => i = skip_comment_or_string(bytes, i).unwrap_or(i + 1),
            b';' => return path.map(|p| (i + 1, p)),
            _ => i += 1,
        }
    }
    None
}

/// If a comment or string literal starts at `i`, return the offset just past it.
fn skip_comment_or_string(bytes: &[u8], i: usize) -> Option<usize> {
    match (bytes.get(i)?, bytes.get(i + 1)) {
        (b'/', Some(b'/')) => {
            let len = bytes[i..].iter().position(|&b| b == b'\n').unwrap_or(bytes.len() - i);
            Some(i + len)
        }
        (b'/', Some(b'*')) => {
            let body = &bytes[i + 2..];
            let len = body.windows(2).position(|w| w == b"*/").map_or(body.len(), |p| p + 2);
            Some(i + 2 + len)
        }
        (&quote @ (b'"' | b'\''), _) => {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != quote && bytes[j] != b'\n' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            Some((j + 1).min(bytes.len()))
        }
        _ => None,
    }
}

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A unique scratch directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(files: &[(&str, &str)]) -> Self {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "solang-lint-test-{}-{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::SeqCst)
            ));
            for (name, contents) in files {
                let path = dir.join(name);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).expect("create temp dir");
                }
                std::fs::write(&path, contents).expect("write temp file");
            }
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const IFACE: &str = r#"// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

interface IRegistry {
    event Registered(address indexed who, uint256 id);
    function register(uint256 id) external;
}
"#;

    const CLEAN: &str = r#"// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IRegistry} from "../interfaces/IRegistry.sol";

contract Registry is IRegistry {
    error AlreadyRegistered(uint256 id);

    struct Entry {
        address owner;
        uint64 at;
    }

    mapping(uint256 => Entry) public entries;

    function register(uint256 id) external {
        if (entries[id].owner != address(0)) revert AlreadyRegistered(id);
        entries[id] = Entry({owner: msg.sender, at: uint64(block.timestamp)});
        emit Registered(msg.sender, id);
    }
}
"#;

    #[test]
    fn clean_tree_with_relative_import_passes() {
        let dir = TempDir::new(&[
            ("interfaces/IRegistry.sol", IFACE),
            ("governance/Registry.sol", CLEAN),
        ]);
        let report = lint_dir(&dir.0).expect("lint runs");
        assert_eq!(report.files, 2);
        assert!(report.is_clean(), "unexpected findings: {:?}", report.findings);
        assert_eq!(report.summary(), "solang-lint: 2 files, 0 errors, 0 warnings");
    }

    #[test]
    fn unused_variable_warning_fails() {
        let src = r#"// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

contract Unused {
    uint256 public x;

    function set(uint256 v) external {
        uint256 tmp = 5;
        x = v;
    }
}
"#;
        let dir = TempDir::new(&[("Unused.sol", src)]);
        let report = lint_dir(&dir.0).expect("lint runs");
        assert!(!report.is_clean());
        let warning = report
            .findings
            .iter()
            .find(|f| f.severity == Severity::Warning && f.message.contains("tmp"))
            .expect("a warning about the unused variable `tmp`");
        assert!(warning.file.ends_with("Unused.sol"), "{warning}");
        assert_eq!((warning.line, warning.column), (8, 17), "{warning}");
        assert_eq!(report.count(Severity::Error), 0);
    }

    #[test]
    fn type_error_fails() {
        let src = r#"// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

contract Bad {
    uint256 public x;

    function set(bool v) external {
        x = v;
    }
}
"#;
        let dir = TempDir::new(&[("Bad.sol", src)]);
        let report = lint_dir(&dir.0).expect("lint runs");
        assert!(report.count(Severity::Error) >= 1, "{:?}", report.findings);
        let error = report.findings.iter().find(|f| f.severity == Severity::Error);
        assert!(error.is_some_and(|e| e.line == 8), "{:?}", report.findings);
    }

    #[test]
    fn missing_import_fails() {
        let src = r#"// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Nope} from "./Nope.sol";

contract UsesNope {}
"#;
        let dir = TempDir::new(&[("UsesNope.sol", src)]);
        let report = lint_dir(&dir.0).expect("lint runs");
        assert!(report.count(Severity::Error) >= 1, "{:?}", report.findings);
    }

    #[test]
    fn diagnostics_in_shared_imports_are_reported_once() {
        let lib = r#"// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

contract Lib {
    function f() external pure returns (uint256) {
        uint256 unused = 1;
        return 2;
    }
}
"#;
        let user = |name: &str| {
            format!(
                "// SPDX-License-Identifier: Apache-2.0\npragma solidity 0.8.28;\n\nimport {{Lib}} from \"./Lib.sol\";\n\ncontract {name} {{\n    Lib public lib;\n}}\n"
            )
        };
        let a = user("A");
        let b = user("B");
        let dir = TempDir::new(&[("Lib.sol", lib), ("A.sol", &a), ("B.sol", &b)]);
        let report = lint_dir(&dir.0).expect("lint runs");
        let about_unused: Vec<_> =
            report.findings.iter().filter(|f| f.message.contains("unused")).collect();
        assert_eq!(about_unused.len(), 1, "{:?}", report.findings);
    }

    #[test]
    fn nested_types_through_named_import_resolve() {
        let iface = r#"// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

interface IReg {
    enum Role { None, Admin }
    struct Entry { address owner; Role role; }
    error NotFound(uint256 id);
    function entry(uint256 id) external view returns (Entry memory);
}
"#;
        let user = r#"// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IReg} from "../interfaces/IReg.sol";

contract User {
    IReg private immutable _reg;

    constructor(IReg reg) {
        _reg = reg;
    }

    function isAdmin(uint256 id) external view returns (bool) {
        IReg.Entry memory e = _reg.entry(id);
        if (e.owner == address(0)) revert IReg.NotFound(id);
        return e.role == IReg.Role.Admin;
    }
}
"#;
        let dir = TempDir::new(&[("interfaces/IReg.sol", iface), ("governance/User.sol", user)]);
        let report = lint_dir(&dir.0).expect("lint runs");
        assert!(report.is_clean(), "unexpected findings: {:?}", report.findings);
    }

    #[test]
    fn variable_read_only_in_revert_is_allowed_not_hidden() {
        let src = r#"// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

contract Calls {
    error CallFailed(bytes reason);

    function f(address target, bytes calldata data) external {
        (bool ok, bytes memory reason) = target.call(data);
        if (!ok) revert CallFailed(reason);
    }
}
"#;
        let dir = TempDir::new(&[("Calls.sol", src)]);
        let report = lint_dir(&dir.0).expect("lint runs");
        assert!(report.is_clean(), "unexpected findings: {:?}", report.findings);
        assert_eq!(report.allowed.len(), 1, "{:?}", report.allowed);
        assert!(report.summary().ends_with(", 1 allowed (solang artefacts)"));
    }

    #[test]
    fn return_variable_assigned_only_by_increment_is_allowed_but_unassigned_fails() {
        let src = r#"// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

contract Count {
    uint256[] internal xs;

    function evens() external view returns (uint256 n) {
        for (uint256 i = 0; i < xs.length; ++i) {
            if (xs[i] % 2 == 0) n++;
        }
    }

    function never() external pure returns (uint256 r) {}
}
"#;
        let dir = TempDir::new(&[("Count.sol", src)]);
        let report = lint_dir(&dir.0).expect("lint runs");
        let messages: Vec<&str> = report.findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(messages, ["return variable 'r' has never been assigned"]);
        assert_eq!(report.allowed.len(), 1, "{:?}", report.allowed);
    }

    #[test]
    fn library_constants_count_as_used_when_an_importer_reads_them() {
        let lib = r#"// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

library Bits {
    uint8 internal constant A = 1;
    uint8 internal constant B = 2;
}
"#;
        let user = r#"// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Bits} from "./Bits.sol";

contract UsesA {
    function a() external pure returns (uint8) {
        return Bits.A;
    }
}
"#;
        let dir = TempDir::new(&[("Bits.sol", lib), ("UsesA.sol", user)]);
        let report = lint_dir(&dir.0).expect("lint runs");
        let messages: Vec<&str> = report.findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(messages, ["storage variable 'B' has been assigned, but never read"]);
    }

    #[test]
    fn solang_memory_size_warning_is_allow_listed() {
        let src = r#"// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

contract Copy {
    uint64[] internal xs;

    function all() external view returns (uint64[] memory out) {
        out = new uint64[](xs.length);
        for (uint256 i = 0; i < xs.length; i++) {
            out[i] = xs[i];
        }
    }

    function add(uint64 x) external {
        xs.push(x);
    }
}
"#;
        let dir = TempDir::new(&[("Copy.sol", src)]);
        let report = lint_dir(&dir.0).expect("lint runs");
        assert!(report.is_clean(), "unexpected findings: {:?}", report.findings);
        assert_eq!(report.allowed.len(), 1, "{:?}", report.allowed);
    }

    #[test]
    fn plain_import_appended_to_named_imports_only() {
        let src = concat!(
            "import {A} from \"./A.sol\"; // {B} from \"x\";\n",
            "import {B as C, D} from '../B.sol';\n",
            "import \"./Plain.sol\";\n",
            "import * as S from \"./S.sol\";\n",
            "/* import {E} from \"./E.sol\"; */\n",
            "contract K { string s = \"import {F} from 'f';\"; }\n",
        );
        let expected = concat!(
            "import {A} from \"./A.sol\"; import \"./A.sol\"; // {B} from \"x\";\n",
            "import {B as C, D} from '../B.sol'; import '../B.sol';\n",
            "import \"./Plain.sol\";\n",
            "import * as S from \"./S.sol\";\n",
            "/* import {E} from \"./E.sol\"; */\n",
            "contract K { string s = \"import {F} from 'f';\"; }\n",
        );
        assert_eq!(add_plain_imports(src), expected);
    }

    #[test]
    fn empty_dir_is_an_error() {
        let dir = TempDir::new(&[("README.md", "no solidity here")]);
        assert!(lint_dir(&dir.0).is_err());
    }
}
