//! Checks of the source tree's layout, run with `cargo test --test it layout`.
//!
//! They read `src/` and `README.md` under `CARGO_MANIFEST_DIR` as text (std only) and hold
//! three rules of issue 16:
//! - **size**: every file under `src/` has at most [`MAX_LINES`] lines outside its
//!   `#[cfg(test)]` items (files under a `tests/` folder of `src/` are test files, exempt);
//! - **no import cycle**: in the graph whose nodes are the source files and whose edges go
//!   from A to B when A names an item of B (a `use` tree, nested groups expanded, or an
//!   inline `crate::`/`super::`/`self::`/child path) outside comments, strings and
//!   `#[cfg(test)]` items, no file reaches itself; a failure prints each cycle in order;
//! - **one description**: README.md's `## Design` section has one line
//!   ``- `src/PATH` — SUMMARY`` per source file, none for a file that does not exist, and
//!   SUMMARY is the file's rustdoc summary: its first `//!` paragraph, which must be one
//!   line ending in a full stop.
//!
//! The parser's own tests (`parser_*`) feed it small made-up trees, so a parser that stopped
//! seeing edges, groups or test items fails here rather than letting a check pass.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The most lines a source file may have outside its `#[cfg(test)]` items.
const MAX_LINES: usize = 600;

/// One source file: its path from the repository root (`src/cli/ping.rs`), its module path
/// (`["cli", "ping"]`; `[]` for `src/main.rs`) and its text.
struct SrcFile {
    rel: String,
    module: Vec<String>,
    text: String,
}

impl SrcFile {
    /// Files under a `tests/` folder of `src/`, or marked `#![cfg(test)]`, are compiled for
    /// tests only.
    fn is_test_file(&self) -> bool {
        self.rel.split('/').rev().skip(1).any(|dir| dir == "tests")
            || self.text.lines().any(|l| l.trim() == "#![cfg(test)]")
    }
}

fn module_path(rel: &str) -> Vec<String> {
    let inner = rel.trim_start_matches("src/").trim_end_matches(".rs");
    let mut parts: Vec<String> = inner.split('/').map(str::to_string).collect();
    if parts.last().map(String::as_str) == Some("mod") {
        parts.pop();
    }
    if parts == ["main"] || parts == ["lib"] {
        parts.clear();
    }
    parts
}

fn src_file(rel: &str, text: &str) -> SrcFile {
    SrcFile {
        rel: rel.to_string(),
        module: module_path(rel),
        text: text.to_string(),
    }
}

fn read_tree(root: &Path) -> Vec<SrcFile> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<SrcFile>) {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().and_then(|e| e.to_str()) == Some("rs") {
                let rel = path.strip_prefix(root).expect("under the root");
                let rel = rel.to_str().expect("UTF-8 path").to_string();
                let text = fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
                out.push(src_file(&rel, &text));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, &root.join("src"), &mut out);
    assert!(
        out.iter().any(|f| f.rel == "src/main.rs"),
        "no src/main.rs under {}",
        root.display()
    );
    out
}

fn tree() -> Vec<SrcFile> {
    read_tree(Path::new(env!("CARGO_MANIFEST_DIR")))
}

// ---- lexing ----------------------------------------------------------------------------

/// The source with every comment and the inside of every string and character literal
/// replaced by spaces, byte for byte (newlines kept), so that offsets and lines still match.
fn mask(src: &str) -> Vec<u8> {
    let b = src.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to.min(b.len())] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == b'/' && next == Some(b'/') {
            let end = b[i..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(b.len(), |p| i + p);
            blank(&mut out, i, end);
            i = end;
        } else if c == b'/' && next == Some(b'*') {
            let (mut depth, mut j) = (1, i + 2);
            while j < b.len() && depth > 0 {
                if b[j] == b'/' && b.get(j + 1) == Some(&b'*') {
                    depth += 1;
                    j += 2;
                } else if b[j] == b'*' && b.get(j + 1) == Some(&b'/') {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if c == b'r' && (i == 0 || !ident(b[i - 1]) || b[i - 1] == b'b') && {
            let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
            b.get(i + 1 + hashes) == Some(&b'"')
        } {
            // A raw string: r"..." or r#"..."# (also br"...").
            let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
            let body = i + 2 + hashes;
            let mut close = b"\"".to_vec();
            close.extend(std::iter::repeat(b'#').take(hashes));
            let end = b[body..]
                .windows(close.len())
                .position(|w| w == close.as_slice())
                .map_or(b.len(), |p| body + p);
            blank(&mut out, body, end);
            i = end + close.len();
        } else if c == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            blank(&mut out, i + 1, j);
            i = j + 1;
        } else if c == b'\'' {
            // A character literal ('x', '\n', '\u{..}', 'é'), or else a lifetime or label.
            if next == Some(b'\\') {
                let end = b[i + 3..]
                    .iter()
                    .position(|&c| c == b'\'')
                    .map_or(b.len(), |p| i + 3 + p);
                blank(&mut out, i + 1, end);
                i = end + 1;
            } else {
                let width = src[i + 1..].chars().next().map_or(1, char::len_utf8);
                if b.get(i + 1 + width) == Some(&b'\'') {
                    blank(&mut out, i + 1, i + 1 + width);
                    i += 2 + width;
                } else {
                    i += 1;
                }
            }
        } else {
            i += 1;
        }
    }
    out
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    /// `::`
    Path,
    Punct(u8),
}

/// Identifiers, `::` and single punctuation of masked source, each with its byte offset
/// (numbers and literals' remains are dropped: no rule here looks at them).
fn tokens(masked: &[u8]) -> Vec<(usize, Tok)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < masked.len() {
        let c = masked[i];
        if c.is_ascii_alphabetic() || c == b'_' {
            let len = masked[i..]
                .iter()
                .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_')
                .count();
            let word = String::from_utf8_lossy(&masked[i..i + len]).into_owned();
            out.push((i, Tok::Ident(word)));
            i += len;
        } else if c.is_ascii_digit() {
            i += masked[i..]
                .iter()
                .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_')
                .count();
        } else if c == b':' && masked.get(i + 1) == Some(&b':') {
            out.push((i, Tok::Path));
            i += 2;
        } else if c.is_ascii_punctuation() {
            out.push((i, Tok::Punct(c)));
            i += 1;
        } else {
            i += 1;
        }
    }
    out
}

fn is_ident(t: Option<&(usize, Tok)>, word: &str) -> bool {
    matches!(t, Some((_, Tok::Ident(w))) if w == word)
}

fn is_punct(t: Option<&(usize, Tok)>, c: u8) -> bool {
    matches!(t, Some((_, Tok::Punct(p))) if *p == c)
}

/// The byte ranges (inclusive of the attribute, through the item's last byte) of every item
/// marked `#[cfg(test)]`.
fn test_items(toks: &[(usize, Tok)]) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let attr = is_punct(toks.get(i), b'#')
            && is_punct(toks.get(i + 1), b'[')
            && is_ident(toks.get(i + 2), "cfg")
            && is_punct(toks.get(i + 3), b'(')
            && is_ident(toks.get(i + 4), "test")
            && is_punct(toks.get(i + 5), b')')
            && is_punct(toks.get(i + 6), b']');
        if !attr {
            i += 1;
            continue;
        }
        let start = toks[i].0;
        let mut depth = 0usize;
        let mut j = i + 7;
        let mut end = toks.last().map_or(start, |t| t.0);
        while j < toks.len() {
            match toks[j].1 {
                Tok::Punct(b'(' | b'[' | b'{') => depth += 1,
                Tok::Punct(b')' | b']') => depth = depth.saturating_sub(1),
                Tok::Punct(b'}') => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = toks[j].0;
                        break;
                    }
                }
                Tok::Punct(b';') if depth == 0 => {
                    end = toks[j].0;
                    break;
                }
                _ => {}
            }
            j += 1;
        }
        ranges.push((start, end));
        i = j + 1;
    }
    ranges
}

/// The source as the checks see it: comments and literals masked, `#[cfg(test)]` items
/// blanked; and those items' byte ranges.
fn code(src: &str) -> (Vec<u8>, Vec<(usize, usize)>) {
    let mut masked = mask(src);
    let ranges = test_items(&tokens(&masked));
    for &(from, to) in &ranges {
        for c in &mut masked[from..=to] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    }
    (masked, ranges)
}

// ---- size -----------------------------------------------------------------------------

/// Lines outside `#[cfg(test)]` items: a line belongs to a test item when its first
/// non-blank byte (a blank line: its start) lies inside one. Comments and blank lines count.
fn non_test_lines(src: &str) -> usize {
    let (_, ranges) = code(src);
    let inside = |at: usize| ranges.iter().any(|&(a, b)| a <= at && at <= b);
    let mut count = 0;
    let mut start = 0;
    for line in src.split_inclusive('\n') {
        let first = line
            .bytes()
            .position(|c| !c.is_ascii_whitespace())
            .unwrap_or(0);
        if !inside(start + first) {
            count += 1;
        }
        start += line.len();
    }
    count
}

// ---- the module graph -----------------------------------------------------------------

/// A leaf of a `use` tree: its full path, and whether it was a glob (`path::*`).
#[derive(Debug, PartialEq)]
struct UseLeaf {
    path: Vec<String>,
    glob: bool,
    /// The name it binds (`as` applied); `None` for a glob or `as _`.
    binds: Option<String>,
}

/// Expands one `use` tree (the tokens between `use` and `;`) into its leaves.
fn expand_use(toks: &[Tok]) -> Vec<UseLeaf> {
    fn tree(toks: &[Tok], pos: &mut usize, prefix: &[String], out: &mut Vec<UseLeaf>) {
        let mut path = prefix.to_vec();
        if toks.get(*pos) == Some(&Tok::Path) {
            *pos += 1; // `::std::..`: an extern path; the leading `::` names no module here
        }
        loop {
            match toks.get(*pos) {
                Some(Tok::Ident(w)) => {
                    path.push(w.clone());
                    *pos += 1;
                }
                Some(Tok::Punct(b'{')) => {
                    *pos += 1;
                    loop {
                        match toks.get(*pos) {
                            None => return,
                            Some(Tok::Punct(b'}')) => {
                                *pos += 1;
                                return;
                            }
                            Some(Tok::Punct(b',')) => *pos += 1,
                            _ => {
                                let before = *pos;
                                tree(toks, pos, &path, out);
                                if *pos == before {
                                    *pos += 1; // not a tree: skip it rather than loop
                                }
                            }
                        }
                    }
                }
                Some(Tok::Punct(b'*')) => {
                    *pos += 1;
                    out.push(UseLeaf {
                        path,
                        glob: true,
                        binds: None,
                    });
                    return;
                }
                _ => return,
            }
            match toks.get(*pos) {
                Some(Tok::Path) => *pos += 1,
                Some(Tok::Ident(w)) if w == "as" => {
                    let binds = match toks.get(*pos + 1) {
                        Some(Tok::Ident(a)) => Some(a.clone()),
                        _ => None,
                    };
                    *pos += 2;
                    out.push(UseLeaf {
                        path,
                        glob: false,
                        binds,
                    });
                    return;
                }
                _ => {
                    let binds = match path.last().map(String::as_str) {
                        Some("self") if path.len() > 1 => Some(path[path.len() - 2].clone()),
                        other => other.map(str::to_string),
                    };
                    out.push(UseLeaf {
                        path,
                        glob: false,
                        binds,
                    });
                    return;
                }
            }
        }
    }
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < toks.len() {
        let before = pos;
        tree(toks, &mut pos, &[], &mut out);
        if pos == before {
            pos += 1;
        }
    }
    out
}

/// Where a path written in module `from` leads: the deepest source file it names, and
/// whether the whole path was modules (it names a module, not an item in one).
/// `None` for a path that starts outside the crate (std, libc, a local name).
fn resolve(
    modules: &BTreeSet<Vec<String>>,
    aliases: &BTreeMap<String, Vec<String>>,
    from: &[String],
    path: &[String],
) -> Option<(Vec<String>, bool)> {
    let first = path.first()?;
    let mut base: Vec<String>;
    let mut rest = path;
    if first == "crate" {
        base = Vec::new();
        rest = &path[1..];
    } else if first == "super" || first == "self" {
        base = from.to_vec();
        while let Some(seg) = rest.first() {
            match seg.as_str() {
                "super" => {
                    base.pop()?;
                }
                "self" => {}
                _ => break,
            }
            rest = &rest[1..];
        }
    } else {
        let mut child = from.to_vec();
        child.push(first.clone());
        if modules.contains(&child) {
            base = from.to_vec();
        } else if let Some(target) = aliases.get(first) {
            base = target.clone();
            rest = &path[1..];
        } else {
            return None;
        }
    }
    let mut consumed = true;
    for seg in rest {
        if seg == "self" {
            continue;
        }
        let mut next = base.clone();
        next.push(seg.clone());
        if modules.contains(&next) {
            base = next;
        } else {
            consumed = false;
            break;
        }
    }
    Some((base, consumed))
}

/// The edges of the file-level graph: (from, to) by `rel` path, self-edges left out.
/// Test files are no nodes: only tests compile them.
fn edges(files: &[SrcFile]) -> BTreeSet<(String, String)> {
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| f.module.clone()).collect();
    let rel: BTreeMap<&Vec<String>, &String> = files.iter().map(|f| (&f.module, &f.rel)).collect();
    let mut out = BTreeSet::new();
    for file in files.iter().filter(|f| !f.is_test_file()) {
        let (masked, _) = code(&file.text);
        let toks = tokens(&masked);
        let mut targets: Vec<Vec<String>> = Vec::new();
        let mut aliases: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut in_use = vec![false; toks.len()];
        // `use` trees first: they bind the module names inline paths may start with.
        let mut i = 0;
        while i < toks.len() {
            if is_ident(toks.get(i), "use") {
                let end = (i..toks.len())
                    .find(|&j| is_punct(toks.get(j), b';'))
                    .unwrap_or(toks.len());
                let tree: Vec<Tok> = toks[i + 1..end].iter().map(|t| t.1.clone()).collect();
                for flag in &mut in_use[i..end] {
                    *flag = true;
                }
                for leaf in expand_use(&tree) {
                    let Some((target, whole)) =
                        resolve(&modules, &aliases, &file.module, &leaf.path)
                    else {
                        continue;
                    };
                    if whole && !leaf.glob {
                        // `use crate::report;`: a module bound by name; what it names is
                        // found where the name is used (`report::x`).
                        if let Some(name) = leaf.binds {
                            aliases.insert(name, target);
                        }
                    } else {
                        targets.push(target);
                    }
                }
                i = end;
            }
            i += 1;
        }
        // Inline paths: `crate::a::b`, `super::x`, `self::c::y`, `child::f`, `alias::g`.
        let mut i = 0;
        while i < toks.len() {
            let starts = !in_use[i]
                && matches!(toks[i].1, Tok::Ident(_))
                && toks.get(i + 1).map(|t| &t.1) == Some(&Tok::Path)
                && !(i > 0 && matches!(toks[i - 1].1, Tok::Path | Tok::Punct(b'.' | b'$')));
            if !starts {
                i += 1;
                continue;
            }
            let mut path = Vec::new();
            let mut j = i;
            while let Some((_, Tok::Ident(w))) = toks.get(j) {
                path.push(w.clone());
                if toks.get(j + 1).map(|t| &t.1) != Some(&Tok::Path) {
                    break;
                }
                j += 2;
            }
            if let Some((target, _)) = resolve(&modules, &aliases, &file.module, &path) {
                targets.push(target);
            }
            i = j + 1;
        }
        for target in targets {
            if target != file.module {
                if let Some(to) = rel.get(&target) {
                    out.insert((file.rel.clone(), (*to).clone()));
                }
            }
        }
    }
    out
}

/// Every cycle of the graph, one per strongly connected component of two or more files,
/// as the files in order with the first repeated at the end.
fn cycles(edges: &BTreeSet<(String, String)>) -> Vec<Vec<String>> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (a, b) in edges {
        next.entry(a).or_default().push(b);
        next.entry(b).or_default();
    }
    let reaches = |from: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(n) = todo.pop() {
            for &m in &next[n.as_str()] {
                if seen.insert(m.to_string()) {
                    todo.push(m.to_string());
                }
            }
        }
        seen
    };
    let reach: BTreeMap<&str, BTreeSet<String>> = next.keys().map(|&n| (n, reaches(n))).collect();
    let mut covered = BTreeSet::new();
    let mut out = Vec::new();
    for &n in next.keys() {
        if covered.contains(n) || !reach[n].contains(n) {
            continue;
        }
        // n's component (the files it reaches that reach it back), and in it the shortest
        // way from n back to n (breadth first); every file of a component is on some cycle
        // printed.
        let scc: BTreeSet<&str> = reach[n]
            .iter()
            .map(String::as_str)
            .filter(|m| reach[m].contains(n))
            .collect();
        let mut came: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from(vec![n]);
        'search: while let Some(a) = queue.pop_front() {
            for &b in &next[a] {
                if !scc.contains(b) || came.contains_key(b) {
                    continue;
                }
                came.insert(b, a);
                if b == n {
                    break 'search;
                }
                queue.push_back(b);
            }
        }
        let mut cycle = vec![n.to_string()];
        let mut at = came[n];
        while at != n {
            cycle.push(at.to_string());
            at = came[at];
        }
        cycle.push(n.to_string());
        cycle.reverse();
        covered.extend(cycle.iter().cloned());
        out.push(cycle);
    }
    out
}

// ---- README ---------------------------------------------------------------------------

/// A file's rustdoc summary: its first `//!` paragraph, which must be one line ending in a
/// full stop at the top of the file.
fn summary(file: &SrcFile) -> Result<String, String> {
    let mut lines = file.text.lines();
    let first = lines.next().unwrap_or("");
    let Some(text) = first.strip_prefix("//!") else {
        return Err(format!("{}: does not open with a `//!` line", file.rel));
    };
    let text = text.trim();
    if let Some(second) = lines.next() {
        if second.starts_with("//!") && !second[3..].trim().is_empty() {
            return Err(format!(
                "{}: the first `//!` paragraph is more than one line (put `//!` alone on line 2)",
                file.rel
            ));
        }
    }
    if text.is_empty() || !text.ends_with('.') {
        return Err(format!(
            "{}: the first `//!` line is not a sentence ending in '.'",
            file.rel
        ));
    }
    Ok(text.to_string())
}

/// README's Design entries: ``- `src/PATH` — SUMMARY`` lines of the `## Design` section
/// (its `###` subsections included), by path.
fn design_entries(readme: &str) -> Result<BTreeMap<String, String>, String> {
    let mut section = false;
    let mut found = false;
    let mut out = BTreeMap::new();
    for line in readme.lines() {
        if line.starts_with("# ") || line.starts_with("## ") {
            section = line.trim_end() == "## Design";
            found |= section;
            continue;
        }
        if !section || !line.starts_with("- `src/") {
            continue;
        }
        let entry = line[3..]
            .split_once("` — ")
            .filter(|(path, text)| path.ends_with(".rs") && !text.trim().is_empty());
        let Some((path, text)) = entry else {
            return Err(format!(
                "README.md Design: not ``- `src/PATH` — SUMMARY``: {line}"
            ));
        };
        if out
            .insert(path.to_string(), text.trim().to_string())
            .is_some()
        {
            return Err(format!("README.md Design: {path} is listed twice"));
        }
    }
    if !found {
        return Err("README.md has no `## Design` section".to_string());
    }
    Ok(out)
}

/// Every disagreement between README's Design entries and the files' summaries.
fn design_mismatches(files: &[SrcFile], readme: &str) -> Vec<String> {
    let mut entries = match design_entries(readme) {
        Ok(entries) => entries,
        Err(e) => return vec![e],
    };
    let mut out = Vec::new();
    for file in files {
        let summary = match summary(file) {
            Ok(s) => s,
            Err(e) => {
                out.push(e);
                entries.remove(&file.rel);
                continue;
            }
        };
        match entries.remove(&file.rel) {
            None => out.push(format!(
                "README.md Design lacks the line:\n- `{}` — {summary}",
                file.rel
            )),
            Some(text) if text != summary => out.push(format!(
                "{}: README.md says\n    {text}\n  but its `//!` summary says\n    {summary}",
                file.rel
            )),
            Some(_) => {}
        }
    }
    for path in entries.keys() {
        out.push(format!(
            "README.md Design lists {path}, which is not a source file"
        ));
    }
    out
}

// ---- the checks -----------------------------------------------------------------------

#[test]
fn src_files_have_at_most_600_lines_outside_tests() {
    let long: Vec<String> = tree()
        .iter()
        .filter(|f| !f.is_test_file())
        .map(|f| (f, non_test_lines(&f.text)))
        .filter(|&(_, n)| n > MAX_LINES)
        .map(|(f, n)| format!("{}: {n} lines outside #[cfg(test)] items", f.rel))
        .collect();
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines outside tests (split them):\n{}",
        long.join("\n")
    );
}

#[test]
fn src_module_graph_has_no_cycle() {
    let files = tree();
    let edges = edges(&files);
    // A floor, so that a parser that finds nothing cannot pass: main.rs names cli.
    assert!(
        edges.iter().any(|(a, _)| a == "src/main.rs"),
        "the parser found no import from src/main.rs: {edges:?}"
    );
    if std::env::var_os("PINGR_LAYOUT_EDGES").is_some() {
        for (a, b) in &edges {
            println!("{a} {b}");
        }
    }
    let cycles = cycles(&edges);
    let text: Vec<String> = cycles.iter().map(|c| c.join(" -> ")).collect();
    assert!(
        cycles.is_empty(),
        "import cycles between source files (move what both sides need into a leaf file):\n{}",
        text.join("\n")
    );
}

#[test]
fn readme_design_lists_every_src_file_as_its_summary() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = fs::read_to_string(root.join("README.md")).expect("README.md");
    let wrong = design_mismatches(&tree(), &readme);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// ---- the parser's own tests -----------------------------------------------------------

fn made_up(files: &[(&str, &str)]) -> Vec<SrcFile> {
    files
        .iter()
        .map(|(rel, text)| src_file(rel, text))
        .collect()
}

fn idents(words: &str) -> Vec<Tok> {
    tokens(&mask(words)).into_iter().map(|t| t.1).collect()
}

#[test]
fn parser_expands_nested_use_groups() {
    let leaves = expand_use(&idents("crate::a::{b::{C, D as E}, self, f::*, g}"));
    let got: Vec<(String, bool, Option<String>)> = leaves
        .into_iter()
        .map(|l| (l.path.join("::"), l.glob, l.binds))
        .collect();
    let want = [
        ("crate::a::b::C", false, Some("C")),
        ("crate::a::b::D", false, Some("E")),
        ("crate::a::self", false, Some("a")),
        ("crate::a::f", true, None),
        ("crate::a::g", false, Some("g")),
    ];
    let want: Vec<(String, bool, Option<String>)> = want
        .iter()
        .map(|(p, g, b)| (p.to_string(), *g, b.map(str::to_string)))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn parser_finds_a_parent_child_cycle_through_super() {
    let files = made_up(&[
        ("src/main.rs", "mod a;\nuse a::Y;\nfn main() {}\n"),
        (
            "src/a/mod.rs",
            "mod c;\npub use self::c::{X, other::{Z}};\npub struct Y;\n",
        ),
        ("src/a/c.rs", "use super::Y;\npub struct X;\n"),
    ]);
    let edges = edges(&files);
    let cycles = cycles(&edges);
    assert_eq!(
        cycles,
        vec![vec!["src/a/c.rs", "src/a/mod.rs", "src/a/c.rs"]],
        "edges: {edges:?}"
    );
}

#[test]
fn parser_finds_cycles_through_inline_paths_and_aliases() {
    let files = made_up(&[
        ("src/main.rs", "mod a;\nmod b;\nfn main() { a::f(); }\n"),
        ("src/a.rs", "use crate::b;\npub fn f() { b::g() }\n"),
        ("src/b.rs", "pub fn g() { let _ = crate::a::f; }\n"),
    ]);
    let cycles = cycles(&edges(&files));
    assert_eq!(cycles, vec![vec!["src/a.rs", "src/b.rs", "src/a.rs"]]);
}

#[test]
fn parser_ignores_tests_comments_and_strings() {
    let files = made_up(&[
        ("src/main.rs", "mod a;\nmod b;\nuse a::f;\n"),
        (
            "src/a.rs",
            "use crate::b::g;\npub fn f() { g() }\n#[cfg(test)]\nmod tests { use super::*; }\n",
        ),
        (
            "src/b.rs",
            concat!(
                "// use crate::a::f;\n/* crate::a::f */\n",
                "pub fn g() { let _ = \"crate::a::f\"; let _ = r#\"super::a::f\"#; }\n",
                "#[cfg(test)]\nuse crate::a::f;\n",
                "#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() { crate::a::f(); }\n}\n",
                "pub fn h<'a>(x: &'a str) -> char { let _ = x; '{' }\n",
                "pub fn k() { crate::a::f(); }\n",
            ),
        ),
    ]);
    let found = edges(&files);
    let want: BTreeSet<(String, String)> = [
        ("src/main.rs", "src/a.rs"),
        ("src/a.rs", "src/b.rs"),
        ("src/b.rs", "src/a.rs"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    // The one real edge b -> a is the last line's (after a '{' char literal and a lifetime).
    assert_eq!(found, want);
    let files = made_up(&[
        ("src/main.rs", "mod a;\nmod b;\nuse a::f;\n"),
        ("src/a.rs", "use crate::b::g;\npub fn f() { g() }\n"),
        (
            "src/b.rs",
            &files[2].text.replace("pub fn k() { crate::a::f(); }\n", ""),
        ),
    ]);
    assert!(cycles(&edges(&files)).is_empty(), "{:?}", edges(&files));
}

#[test]
fn parser_counts_lines_outside_test_items() {
    let src = "//! A.\n\nfn a() {}\n#[cfg(test)]\nconst X: [u8; 2] = [1, 2];\n\
               fn b() {\n}\n#[cfg(test)]\nmod tests {\n\n    fn c() { \"}\"; }\n}\n// end\n";
    // //! A., blank, fn a, fn b {, }, // end
    assert_eq!(non_test_lines(src), 6);
    let file = made_up(&[
        ("src/tests/x.rs", ""),
        ("src/x.rs", ""),
        ("src/y.rs", "//! Y.\n#![cfg(test)]\n"),
    ]);
    assert!(file[0].is_test_file() && !file[1].is_test_file() && file[2].is_test_file());
}

#[test]
fn parser_checks_the_readme_both_ways() {
    let files = made_up(&[
        ("src/main.rs", "//! The program.\n//!\n//! More.\n"),
        ("src/a.rs", "//! The a part.\n"),
        ("src/b.rs", "//! Two lines\n//! of summary.\n"),
    ]);
    let readme = "# x\n## Design\n\n- `src/main.rs` — The program.\n\
                  - `src/a.rs` — The a bit.\n- `src/gone.rs` — Gone.\n## Next\n\
                  - `src/b.rs` — Two lines\n";
    let wrong = design_mismatches(&files, readme);
    assert_eq!(wrong.len(), 3, "{wrong:#?}");
    assert!(wrong[0].contains("src/a.rs: README.md says"), "{wrong:#?}");
    assert!(
        wrong[1].contains("src/b.rs: the first `//!` paragraph"),
        "{wrong:#?}"
    );
    assert!(wrong[2].contains("src/gone.rs, which is not"), "{wrong:#?}");
    let readme = "## Design\n- `src/main.rs` — The program.\n- `src/a.rs` — The a part.\n";
    assert!(design_mismatches(&files[..2], readme).is_empty());
    assert_eq!(design_mismatches(&files[..2], "## Other\n").len(), 1);
}
