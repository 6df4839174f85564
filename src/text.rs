//! Untrusted text. Names, messages, user agents and error texts come from
//! Azure (or from whoever wrote to a vault's audit log) and may carry control
//! characters and terminal escape sequences: clearing the screen, setting
//! the window title, writing the clipboard, or a `\r` that overwrites a row.
//! Every human-facing format passes such text through one function here;
//! JSON and SARIF keep it exact (their encoders escape it).
//!
//! Everything here is one pass over the input: linear in its length.
use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// Characters that change what a terminal or a renderer shows rather than
/// being shown: C0 and C1 controls, DEL, and the bidirectional overrides
/// that make text read differently from how it is stored.
fn hazardous(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// `s` with every control character, escape sequence introducer and bidi
/// override made visible as a Rust-style escape (`\u{1b}`, `\n`, `\r`, `\t`),
/// so it can neither act on the terminal nor break a table row.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(hazardous) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if hazardous(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// At most `max` characters of `s` (then `…`), for table cells: a 40,000
/// character name must not cost the table layout quadratic time.
pub fn clip(s: &str, max: usize) -> Cow<'_, str> {
    match s.char_indices().nth(max) {
        None => Cow::Borrowed(s),
        Some((at, _)) => Cow::Owned(format!("{}…", &s[..at])),
    }
}

/// A markdown table cell or list item: made visible as for the terminal,
/// then every character markdown or GitHub's HTML would interpret is
/// backslash-escaped (`|` would also end the cell).
pub fn markdown(s: &str) -> String {
    let visible = terminal(s);
    let mut out = String::with_capacity(visible.len() + 8);
    for c in visible.chars() {
        match c {
            // An entity (`&#x202E;`) would render as the character it names.
            '&' => out.push_str("&amp;"),
            // `@org/team` would notify that team from a pull-request comment.
            '@' => out.push_str("@&#8203;"),
            '\\' | '|' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// A CSV cell: made visible as for the terminal, and a cell that a
/// spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) is prefixed
/// with `'`, OWASP's recommended neutralisation.
pub fn csv(s: &str) -> Cow<'_, str> {
    let visible = terminal(s);
    if visible.starts_with(['=', '+', '-', '@']) {
        Cow::Owned(format!("'{visible}"))
    } else {
        visible
    }
}

static BEARER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(bearer)\s+[A-Za-z0-9\-._~+/]+=*").expect("valid regex"));
static JWT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*").expect("valid regex")
});

/// `s` with anything that looks like a bearer token or a JWT replaced by
/// `[redacted]`: a server that echoes a request's `Authorization` header in
/// its error text must not get the token stored or printed.
pub fn redact(s: &str) -> Cow<'_, str> {
    let s = match BEARER.replace_all(s, "$1 [redacted]") {
        Cow::Borrowed(_) => Cow::Borrowed(s),
        Cow::Owned(o) => Cow::Owned(o),
    };
    match JWT.replace_all(&s, "[redacted]") {
        Cow::Borrowed(_) => s,
        Cow::Owned(o) => Cow::Owned(o),
    }
}

/// A writer for log lines (`tracing`'s formatter writes one whole line per
/// call): controls inside the line are made visible, its final newline kept.
pub struct SafeLines<W>(pub W);

impl<W: std::io::Write> std::io::Write for SafeLines<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let (body, newline) = match text.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (&*text, ""),
        };
        self.0.write_all(terminal(body).as_bytes())?;
        self.0.write_all(newline.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_escapes_are_made_visible() {
        assert_eq!(terminal("kv-prod"), "kv-prod");
        assert_eq!(
            terminal("a\u{1b}]52;c;aGk=\u{7}b"),
            "a\\u{1b}]52;c;aGk=\\u{7}b"
        );
        assert_eq!(terminal("x\r\ny\u{9b}2J"), "x\\r\\ny\\u{9b}2J");
        assert_eq!(terminal("evil\u{202e}gpj.exe"), "evil\\u{202e}gpj.exe");
        assert_eq!(terminal("café 日本"), "café 日本");
    }

    #[test]
    fn markdown_cells_cannot_break_out() {
        assert_eq!(markdown("a|b\n<img src=x>"), "a\\|b\\\\n\\<img src=x\\>");
        assert_eq!(markdown("[x](javascript:1)"), "\\[x\\](javascript:1)");
        assert_eq!(
            markdown("&#x202E; @org/team"),
            "&amp;\\#x202E; @&#8203;org/team"
        );
    }

    #[test]
    fn csv_formulas_are_neutralised() {
        for f in ["=HYPERLINK(\"x\")", "+1", "-1+2", "@SUM(A1)"] {
            assert!(csv(f).starts_with('\''), "{f}");
        }
        assert_eq!(csv("10.0.0.1"), "10.0.0.1");
        assert_eq!(csv("a\tb"), "a\\tb");
    }

    #[test]
    fn tokens_are_redacted() {
        let jwt = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwcyJ9.c2lnbmF0dXJl";
        let r = redact(&format!(
            "bad request; Authorization: Bearer {jwt} rejected"
        ))
        .into_owned();
        assert!(!r.contains("eyJ0eXAi"), "{r}");
        assert!(r.contains("Bearer [redacted] rejected"), "{r}");
        assert_eq!(redact(&format!("token={jwt}")), "token=[redacted]");
        assert_eq!(
            redact("The vault was not found."),
            "The vault was not found."
        );
    }

    #[test]
    fn clip_counts_characters() {
        assert_eq!(clip("abcdef", 3), "abc…");
        assert_eq!(clip("日本語", 3), "日本語");
    }

    #[test]
    fn log_lines_keep_their_newline_only() {
        use std::io::Write;
        let mut w = SafeLines(Vec::new());
        w.write_all(b"WARN x: a\r\n\x1b[2Jb\n").unwrap();
        assert_eq!(
            String::from_utf8(w.0).unwrap(),
            "WARN x: a\\r\\n\\u{1b}[2Jb\n"
        );
    }
}
