//! Every `QUIRK(icloud §N.M)`, `docs/icloud.md §N.M` and design-rule reference in the repository points
//! at a section or rule that exists in docs/icloud.md or docs/design.md, and nothing cites the notes
//! that live outside the repository.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Source and documentation files of the repository (not build output, dependencies or venvs).
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if p.is_dir() {
            if name.starts_with('.')
                || ["target", "node_modules", "gen"].contains(&name.as_str())
                || name.starts_with(".venv")
            {
                continue;
            }
            files(&p, out);
        } else if ["rs", "js", "sh", "md", "toml", "py"]
            .iter()
            .any(|ext| name.ends_with(&format!(".{ext}")))
        {
            out.push(p);
        }
    }
}

/// The docs/icloud.md section numbers cited in `s`: after `icloud §` or `icloud.md §`, with ranges and
/// lists ("§2.1–§2.3", "§4.1, §4.2"); other documents' sections ("RFC 6578 §6.2") are not ours.
fn section_numbers(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    for marker in ["icloud §", "icloud.md §"] {
        for (i, _) in s.match_indices(marker) {
            let mut rest = &s[i + marker.len()..];
            loop {
                let n: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.')
                    .collect();
                let trimmed = n.trim_end_matches('.').to_owned();
                if trimmed.is_empty() {
                    break;
                }
                out.push(trimmed);
                rest = &rest[n.len()..];
                match ["–§", "-§", ", §", " and §", " or §"]
                    .iter()
                    .find_map(|sep| rest.strip_prefix(sep))
                {
                    Some(r) => rest = r,
                    None => break,
                }
            }
        }
    }
    out
}

/// Sections of docs/icloud.md: "## N." and "### N.M" headings.
fn icloud_sections() -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join("docs/icloud.md")).unwrap();
    text.lines()
        .filter_map(|l| {
            let h = l.strip_prefix("### ").or_else(|| l.strip_prefix("## "))?;
            let n: String = h
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let n = n.trim_end_matches('.').to_owned();
            (!n.is_empty()).then_some(n)
        })
        .collect()
}

/// Rules of docs/design.md: its numbered list "N. **…**".
fn design_rules() -> BTreeSet<u32> {
    let text = std::fs::read_to_string(root().join("docs/design.md")).unwrap();
    text.lines()
        .filter_map(|l| {
            let (n, rest) = l.split_once(". **")?;
            rest.is_empty().then_some(())?;
            n.parse().ok()
        })
        .chain(text.lines().filter_map(|l| {
            let (n, _) = l.split_once(". **")?;
            n.parse().ok()
        }))
        .collect()
}

/// Rule numbers cited on a line: "design rule 3", "docs/design.md rules 1, 3", "Rule 4", "rule 7".
fn cited_rules(line: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for (i, _) in line.match_indices("ule") {
        let before = &line[..i];
        if !(before.ends_with('r') || before.ends_with('R')) {
            continue;
        }
        // Only rules of the design: "design rule", "docs/design.md rule(s)", or a bare "Rule N" in a
        // comment, which this code base uses for the design rules only.
        let after = &line[i + 3..];
        let after = after.strip_prefix('s').unwrap_or(after);
        let Some(after) = after.strip_prefix(' ') else {
            continue;
        };
        let mut rest = after;
        loop {
            let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if n.is_empty() {
                break;
            }
            out.push(n.parse().unwrap());
            rest = &rest[n.len()..];
            if let Some(r) = rest
                .strip_prefix(", ")
                .or_else(|| rest.strip_prefix(" and "))
            {
                rest = r;
            } else {
                break;
            }
        }
    }
    out
}

#[test]
fn every_cited_icloud_section_and_design_rule_exists_in_the_repository() {
    let sections = icloud_sections();
    assert!(
        sections.len() >= 30,
        "docs/icloud.md has {} sections",
        sections.len()
    );
    let rules = design_rules();
    assert_eq!(rules, (1..=7).collect(), "docs/design.md rules");
    let mut all = Vec::new();
    files(&root(), &mut all);
    let mut missing = Vec::new();
    let mut cited = 0;
    for f in &all {
        let rel = f.strip_prefix(root()).unwrap_or(f).display().to_string();
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        if rel.ends_with("doc_references.rs") {
            continue;
        }
        for (no, line) in text.lines().enumerate() {
            let at = format!("{rel}:{}", no + 1);
            for bad in ["ICLOUD.md", "DESIGN.md"] {
                if line.contains(bad) {
                    missing.push(format!("{at}: cites {bad}, which is not in the repository (docs/icloud.md, docs/design.md)"));
                }
            }
            if rel != "docs/icloud.md"
                && (line.contains("QUIRK(icloud §")
                    || line.contains("docs/icloud.md §")
                    || line.contains("icloud.md §"))
            {
                for n in section_numbers(line) {
                    cited += 1;
                    if !sections.contains(&n) {
                        missing.push(format!("{at}: docs/icloud.md has no §{n}"));
                    }
                }
            }
            let design_context = line.contains("design rule")
                || line.contains("docs/design.md rule")
                || ((line.contains("Rule ") || line.contains("rule "))
                    && (line.trim_start().starts_with("//") || line.trim_start().starts_with("#")));
            if design_context && rel != "docs/design.md" {
                for n in cited_rules(line) {
                    cited += 1;
                    if !rules.contains(&n) {
                        missing.push(format!("{at}: docs/design.md has no rule {n}"));
                    }
                }
            }
        }
    }
    assert!(
        cited >= 60,
        "only {cited} references found: is the scan looking at the code?"
    );
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn the_scanner_reads_ranges_lists_and_rule_numbers() {
    assert_eq!(
        section_numbers("docs/icloud.md §2.1–§2.3: the one 401."),
        ["2.1", "2.3"]
    );
    assert_eq!(section_numbers("QUIRK(icloud §3.3): x"), ["3.3"]);
    assert_eq!(cited_rules("// docs/design.md rules 1, 3 and 5"), [1, 3, 5]);
    assert_eq!(cited_rules("// Rule 4: logged once"), [4]);
    assert!(cited_rules("// a ruler 5").is_empty());
}
