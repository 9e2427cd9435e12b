//! The one way opsdeck writes a CSV cell, used by every CSV export.
//!
//! A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, TAB or
//! CR as a formula (CSV injection). Opening the file in a locale whose
//! list separator differs (`;` in much of Europe) splits a cell at that
//! separator too, so `note;=HYPERLINK(…)` becomes a cell starting with `=`.
//! [`cell`] therefore puts a `'` (which spreadsheets show as text) before
//! such a character at the start of the cell and after any `,` or `;`
//! (spaces between allowed), and quotes every cell holding a separator,
//! a quote or a line break.

/// Characters a spreadsheet reads as the start of a formula.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `value` as one CSV cell: defused and quoted as needed.
pub fn cell(value: &str) -> String {
    let mut defused = String::with_capacity(value.len() + 2);
    // At the start of the cell, or of a fragment a `,` or `;` locale
    // would make a cell of (spaces in between are skipped by some).
    let mut fragment_start = true;
    for c in value.chars() {
        if fragment_start && FORMULA_START.contains(&c) {
            defused.push('\'');
        }
        defused.push(c);
        fragment_start = match c {
            ',' | ';' => true,
            ' ' => fragment_start,
            _ => false,
        };
    }
    if defused.contains([',', ';', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

/// One CSV line of `cells`, CRLF-terminated (RFC 4180).
pub fn line<S: AsRef<str>>(cells: &[S]) -> String {
    let mut out = cells
        .iter()
        .map(|c| cell(c.as_ref()))
        .collect::<Vec<_>>()
        .join(",");
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_at_the_start_are_defused_and_quoted_when_needed() {
        assert_eq!(cell("anna"), "anna");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\tx"), "'\tx");
        assert_eq!(cell("\rx"), "\"'\rx\"");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(cell(""), "");
        assert_eq!(cell("a=b"), "a=b", "only at the start of a fragment");
    }

    #[test]
    fn formulas_after_another_locales_separator_are_defused() {
        assert_eq!(
            cell("note;=cmd|' /C calc'!A0"),
            "\"note;'=cmd|' /C calc'!A0\""
        );
        assert_eq!(cell("a,+1"), "\"a,'+1\"");
        assert_eq!(cell("a; @x"), "\"a; '@x\"");
        assert_eq!(cell("a;-"), "\"a;'-\"");
        assert_eq!(cell("a;b"), "\"a;b\"", "a `;` alone is quoted, not changed");
        assert_eq!(cell("a; b=1"), "\"a; b=1\"");
    }

    #[test]
    fn lines_join_cells_with_crlf() {
        assert_eq!(line(&["a", "=1", "b,c"]), "a,'=1,\"b,c\"\r\n");
    }

    /// The text a spreadsheet sees in `cell`'s output (quotes undone).
    fn unquoted(out: &str) -> String {
        match out.strip_prefix('"').and_then(|o| o.strip_suffix('"')) {
            Some(inner) => inner.replace("\"\"", "\""),
            None => out.to_string(),
        }
    }

    proptest::proptest! {
        /// Split at `,` or `;` as any locale would, no piece starts a
        /// formula, and nothing but the `'` marks was added.
        #[test]
        fn no_fragment_of_any_cell_starts_a_formula(value in "[=+@ ,;\t\r\n\"a-z0-9-]{0,24}") {
            let out = cell(&value);
            let seen = unquoted(&out);
            for piece in seen.split([',', ';']) {
                let piece = piece.trim_start_matches(' ');
                proptest::prop_assert!(!piece.starts_with(FORMULA_START), "{:?} -> {:?}", value, out);
            }
            proptest::prop_assert_eq!(seen.replace('\'', ""), value.replace('\'', ""));
        }
    }
}
