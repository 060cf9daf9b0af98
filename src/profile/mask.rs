//! Secrets out of error snippets: the line of `profiles.yaml` shown under an
//! error (and the error message) must not print a secret, even when the
//! file is wrong in the very place that holds one: a misspelt key
//! (`secret_key:`), an inline flow mapping (`s3: { secret_access_key: X,
//! path_style: maybe }`), a quoted key (`"secret_access_key": X`), a value
//! continued on the next line.
//!
//! A value is masked when its key looks secret (contains `key`, `secret`,
//! `token`, `sas`, `password`, `passwd` or `credential`, in any case), and
//! in the storage section (under `storage:`, or in an `s3:`, `azure:`,
//! `gcs:`, `oss:` or `hdfs:` mapping anywhere) unless its key is one of the
//! few known to hold no secret. Where the line cannot be read with
//! certainty (a continuation of a multi-line value, a flow mapping spanning
//! lines, anything the small reader below does not follow) and it may be
//! in the storage section or under a secret-looking key, all of its text
//! after the indentation is masked. URLs everywhere lose their userinfo
//! and query strings ([`crate::storage::redact`]).

use crate::storage::redact::redact;

/// What a masked value becomes.
pub(super) const MASK: &str = "********";

/// Substrings (lowercase) of keys whose values are secrets.
const SECRET_WORDS: [&str; 7] = [
    "key",
    "secret",
    "token",
    "sas",
    "password",
    "passwd",
    "credential",
];

/// Keys whose mappings are storage settings.
const SECTIONS: [&str; 6] = ["storage", "s3", "azure", "gcs", "oss", "hdfs"];

/// Storage keys whose values are shown (URLs still redacted).
const SAFE_STORAGE_KEYS: [&str; 15] = [
    "concurrency",
    "timeout_secs",
    "s3",
    "gcs",
    "azure",
    "oss",
    "hdfs",
    "endpoint",
    "region",
    "path_style",
    "aws_profile",
    "anonymous",
    "account_name",
    "conf_dir",
    "failover_attempts",
];

/// Whether a key's value is a secret by the key's name.
pub(super) fn secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| k.contains(w))
}

fn is_section(key: &str) -> bool {
    SECTIONS.contains(&key.to_ascii_lowercase().as_str())
}

/// Whether `key`'s value is masked.
fn masks(key: &str, in_storage: bool) -> bool {
    secret_key(key) || (in_storage && !SAFE_STORAGE_KEYS.contains(&key))
}

fn has_secret_word(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| t.contains(w))
}

/// Whether a name quoted in a message (an unknown or repeated key) may be
/// shown: it reads like a key someone meant to write, not like a value
/// typed where a key was expected.
pub(super) fn name_is_shown(name: &str) -> bool {
    let separated = name.contains(['_', '-', '.']);
    !name.is_empty()
        && name.len() <= 40
        && name.as_bytes()[0].is_ascii_alphabetic()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && name.bytes().filter(u8::is_ascii_digit).count() <= 3
        && (separated || name.len() <= 20)
}

/// How the line at hand relates to the lines above it.
#[derive(Debug, Default)]
pub(super) struct Context {
    /// Under `storage:` or a store's mapping.
    pub(super) in_storage: bool,
    /// Under a key whose value is a secret.
    pub(super) under_secret: bool,
    /// The line continues a value begun above: a multi-line scalar, a
    /// block scalar, a flow collection or quoted string spanning lines.
    pub(super) continued: bool,
    /// The reader lost track of the structure above (tabs, complex keys,
    /// directives): where the line belongs is unknown.
    pub(super) lost: bool,
}

impl Context {
    /// Whether the line may hold a secret that its own text does not
    /// reveal (then an error message about it must not quote values).
    pub(super) fn sensitive(&self) -> bool {
        self.in_storage || self.under_secret || self.lost
    }
}

/// A key line on the way down to the line at hand.
#[derive(Debug)]
struct Open {
    indent: usize,
    key: String,
    /// The key has a scalar on its own line: more indented lines continue it.
    inline_scalar: bool,
}

/// A light reader of YAML structure, line by line: indentation, keys,
/// block scalars, and flow collections or quoted scalars left open.
#[derive(Debug, Default)]
struct Reader {
    stack: Vec<Open>,
    /// The indentation of the key whose block scalar (`|`, `>`) is being read.
    block_scalar: Option<usize>,
    /// Open `{`/`[` across lines.
    flow_depth: usize,
    /// An open quoted scalar across lines.
    quote: Option<char>,
    lost: bool,
}

/// Leading spaces; `None` when a tab is among them (YAML forbids tab
/// indentation, and where the line belongs is then unknown).
fn indent_of(line: &str) -> Option<usize> {
    let body = line.trim_start_matches([' ', '\t']);
    let lead = &line[..line.len() - body.len()];
    (!lead.contains('\t')).then_some(lead.len())
}

/// Strips `- ` sequence markers: the content's indentation and text.
fn strip_dashes(line: &str, mut indent: usize) -> (usize, &str) {
    let mut body = &line[indent..];
    while let Some(rest) = body.strip_prefix('-') {
        if !(rest.is_empty() || rest.starts_with(' ')) {
            break;
        }
        let rest_trim = rest.trim_start_matches(' ');
        indent += body.len() - rest_trim.len();
        body = rest_trim;
    }
    (indent, body)
}

/// A key at the start of `body` (`key:`, `"key":`, `'key':`): the key and
/// the text after the `:`.
fn split_key(body: &str) -> Option<(String, &str)> {
    if let Some(q @ ('"' | '\'')) = body.chars().next() {
        let end = quoted_end(body, q)?;
        let key = &body[1..end - 1];
        let rest = body[end..].trim_start_matches(' ');
        let rest = rest.strip_prefix(':')?;
        return Some((key.to_owned(), rest));
    }
    let mut from = 0;
    while let Some(i) = body[from..].find(':') {
        let at = from + i;
        let next = body[at + 1..].chars().next();
        if next.is_none_or(|c| c == ' ' || c == '\t') {
            let key = body[..at].trim_end();
            if key.is_empty()
                || key.contains(" #")
                || key.starts_with(['{', '[', '#', '&', '*', '!', '?', '|', '>'])
            {
                return None;
            }
            return Some((key.to_owned(), &body[at + 1..]));
        }
        from = at + 1;
    }
    None
}

/// The byte index just past the quote closing the quoted scalar that
/// `s` starts with; `None` when it does not close on this line.
fn quoted_end(s: &str, q: char) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' if q == '"' => i += 2,
            c if c == q as u8 => {
                if q == '\'' && b.get(i + 1) == Some(&b'\'') {
                    i += 2;
                } else {
                    return Some(i + 1);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// Skips anchors and tags (`&a `, `!!str `) at the start of a value.
fn skip_properties(mut v: &str) -> &str {
    loop {
        v = v.trim_start_matches(' ');
        if v.starts_with(['&', '!']) {
            v = v.find(' ').map_or("", |i| &v[i..]);
        } else {
            return v;
        }
    }
}

impl Reader {
    /// Follows one line above the line at hand.
    fn read(&mut self, line: &str) {
        if self.quote.is_some() || self.flow_depth > 0 {
            self.scan(line);
            return;
        }
        let Some(indent) = indent_of(line) else {
            if !line.trim().is_empty() {
                self.lost = true;
            }
            return;
        };
        let body = &line[indent..];
        if let Some(bs) = self.block_scalar {
            if body.is_empty() || indent > bs {
                return;
            }
            self.block_scalar = None;
        }
        if body.is_empty() || body.starts_with('#') {
            return;
        }
        if line.starts_with("---") || line.starts_with("...") {
            self.stack.clear();
            return;
        }
        if body.starts_with('%') || body.starts_with("? ") || body == "?" {
            self.lost = true;
            return;
        }
        let (indent, body) = strip_dashes(line, indent);
        let Some((key, rest)) = split_key(body) else {
            // A sequence entry or the continuation of a multi-line scalar.
            self.scan(body);
            return;
        };
        while self.stack.last().is_some_and(|o| o.indent >= indent) {
            self.stack.pop();
        }
        let value = skip_properties(rest);
        let mut inline_scalar = false;
        if value.starts_with(['|', '>']) {
            self.block_scalar = Some(indent);
        } else if !value.is_empty() && !value.starts_with('#') {
            inline_scalar = !value.starts_with(['{', '[']);
            self.scan(value);
        }
        self.stack.push(Open {
            indent,
            key,
            inline_scalar,
        });
    }

    /// Tracks quotes and flow brackets through `s`.
    fn scan(&mut self, s: &str) {
        let mut chars = s.char_indices().peekable();
        let mut prev = ' ';
        while let Some((i, c)) = chars.next() {
            if let Some(q) = self.quote {
                match c {
                    '\\' if q == '"' => {
                        chars.next();
                    }
                    c if c == q => {
                        if q == '\'' && chars.peek().map(|(_, n)| *n) == Some('\'') {
                            chars.next();
                        } else {
                            self.quote = None;
                        }
                    }
                    _ => {}
                }
                prev = c;
                continue;
            }
            match c {
                '#' if prev == ' ' || prev == '\t' || i == 0 => return,
                '"' | '\'' if matches!(prev, ' ' | '{' | '[' | ',' | ':') || i == 0 => {
                    self.quote = Some(c);
                }
                '{' | '[' => self.flow_depth += 1,
                '}' | ']' => self.flow_depth = self.flow_depth.saturating_sub(1),
                _ => {}
            }
            prev = c;
        }
    }

    /// Where the line at hand stands.
    fn context(mut self, line: &str) -> Context {
        let (indent, continued) = match indent_of(line) {
            None => (0, true),
            Some(indent) => {
                let in_block = self
                    .block_scalar
                    .is_some_and(|bs| indent > bs || line.trim().is_empty());
                (
                    indent,
                    in_block || self.quote.is_some() || self.flow_depth > 0,
                )
            }
        };
        let continued = continued || {
            let (indent, _) = strip_dashes(line, indent);
            while self.stack.last().is_some_and(|o| o.indent >= indent) {
                self.stack.pop();
            }
            // More indented than a key with its value on its line: a
            // continuation of that value.
            self.stack.last().is_some_and(|o| o.inline_scalar)
        };
        Context {
            in_storage: self.stack.iter().any(|o| is_section(&o.key)),
            under_secret: self.stack.iter().any(|o| secret_key(&o.key)),
            continued,
            lost: self.lost,
        }
    }
}

/// The lines of `text` as YAML counts them: `\n`, `\r\n` and a lone `\r`
/// all end a line.
pub(super) fn lines(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        if matches!(b[i], b'\n' | b'\r') {
            out.push(&text[start..i]);
            if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
            start = i + 1;
        }
        i += 1;
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// Whether an error at `line` (1-based) of `text` may be about a secret, so
/// that its message must not quote values.
pub(super) fn sensitive(text: &str, line: usize) -> bool {
    let lines = lines(text);
    let index = line.saturating_sub(1);
    let ctx = context(&lines, index);
    ctx.sensitive() || ctx.continued || lines.get(index).is_some_and(|l| has_secret_word(l))
}

/// `message` with every `"…"` and `` `…` `` quotation masked.
pub(super) fn quoted_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find(['"', '`']) {
        let q = rest[open..].chars().next().unwrap_or('"');
        let Some(len) = rest[open + 1..].find(q) else {
            break;
        };
        out.push_str(&rest[..=open]);
        out.push_str(MASK);
        out.push(q);
        rest = &rest[open + len + 2..];
    }
    out.push_str(rest);
    out
}

/// The context of line `index` (0-based) of `lines`.
pub(super) fn context(lines: &[&str], index: usize) -> Context {
    let mut r = Reader::default();
    for l in &lines[..index.min(lines.len())] {
        r.read(l);
    }
    r.context(lines.get(index).copied().unwrap_or_default())
}

/// `line` with secret values masked, given its context.
pub(super) fn mask_line(line: &str, ctx: &Context) -> String {
    let Some(indent) = indent_of(line) else {
        return if ctx.sensitive() || has_secret_word(line) {
            MASK.to_owned()
        } else {
            redact(line).into_owned()
        };
    };
    let (lead, body) = line.split_at(indent);
    let mut out = lead.to_owned();
    if ctx.continued || ctx.lost {
        if ctx.sensitive() || has_secret_word(body) {
            if !body.is_empty() {
                out.push_str(MASK);
            }
        } else {
            out.push_str(&redact(body));
        }
        return out;
    }
    let (_, rest) = strip_dashes(line, indent);
    out.push_str(&line[indent..line.len() - rest.len()]);
    block_body(&mut out, rest, ctx.in_storage, ctx.under_secret);
    out
}

/// A block-context line after its indentation and dashes.
fn block_body(out: &mut String, body: &str, in_storage: bool, masked: bool) {
    if body.starts_with('#') {
        comment(out, body, in_storage);
        return;
    }
    if let Some((key, rest)) = split_key(body) {
        let written = &body[..body.len() - rest.len()];
        if in_storage && !name_is_shown(&key) {
            out.push_str(MASK);
            out.push_str(&written[written.rfind(':').unwrap_or(written.len())..]);
        } else {
            out.push_str(written);
        }
        let in_storage = in_storage || is_section(&key);
        value(out, rest, in_storage, masked || masks(&key, in_storage));
        return;
    }
    // No key: a scalar or a flow collection on its own.
    if masked || in_storage {
        out.push_str(MASK);
    } else if body.starts_with(['{', '[']) {
        flow_or_mask(out, body, in_storage);
    } else if has_secret_word(body) {
        out.push_str(MASK);
    } else {
        out.push_str(&redact(body));
    }
}

/// A comment: masked in the storage section or when it names a secret.
fn comment(out: &mut String, c: &str, in_storage: bool) {
    if in_storage || has_secret_word(c) {
        out.push_str("# ");
        out.push_str(MASK);
    } else {
        out.push_str(&redact(c));
    }
}

/// The text after `key:` in block context.
fn value(out: &mut String, rest: &str, in_storage: bool, masked: bool) {
    let v = rest.trim_start_matches(' ');
    out.push_str(&rest[..rest.len() - v.len()]);
    if v.is_empty() {
        return;
    }
    if v.starts_with('#') {
        comment(out, v, in_storage);
        return;
    }
    if masked {
        out.push_str(MASK);
        return;
    }
    let props = skip_properties(v);
    out.push_str(&v[..v.len() - props.len()]);
    let v = props;
    if v.starts_with(['{', '[']) {
        flow_or_mask(out, v, in_storage);
    } else if let Some(q @ ('"' | '\'')) = v.chars().next() {
        match quoted_end(v, q) {
            Some(end) => {
                out.push_str(&redact(&v[..end]));
                trailer(out, &v[end..], in_storage);
            }
            None if in_storage || has_secret_word(v) => out.push_str(MASK),
            None => out.push_str(&redact(v)),
        }
    } else {
        match v.find(" #") {
            Some(c) => {
                out.push_str(&redact(&v[..c]));
                out.push(' ');
                comment(out, &v[c + 1..], in_storage);
            }
            None => out.push_str(&redact(v)),
        }
    }
}

/// What follows a complete value: spaces and maybe a comment; anything
/// else is not understood and is masked where it may be secret.
fn trailer(out: &mut String, t: &str, in_storage: bool) {
    let c = t.trim_start_matches(' ');
    out.push_str(&t[..t.len() - c.len()]);
    if c.starts_with('#') {
        comment(out, c, in_storage);
    } else {
        rest_of_line(out, c, in_storage);
    }
}

/// A flow collection; what cannot be read is masked where it may be secret.
fn flow_or_mask(out: &mut String, v: &str, in_storage: bool) {
    let mut flow = String::new();
    match flow_collection(&mut flow, v, in_storage) {
        Ok(end) => {
            out.push_str(&flow);
            trailer(out, &v[end..], in_storage);
        }
        Err(at) => {
            out.push_str(&flow);
            rest_of_line(out, &v[at..], in_storage);
        }
    }
}

/// Text the reader does not follow: masked where it may be secret.
fn rest_of_line(out: &mut String, rest: &str, in_storage: bool) {
    if rest.is_empty() {
        return;
    }
    if in_storage || has_secret_word(rest) {
        out.push_str(MASK);
    } else {
        out.push_str(&redact(rest));
    }
}

/// Reads the flow collection `s` starts with into `out`, masking values:
/// `Ok(end)` past its closing bracket, or `Err(at)` where reading stopped
/// (the line ended first, or something not understood), with `out`
/// holding the text before `at`.
fn flow_collection(out: &mut String, s: &str, in_storage: bool) -> Result<usize, usize> {
    let close = if s.starts_with('{') { '}' } else { ']' };
    out.push_str(&s[..1]);
    let mut i = 1;
    loop {
        let ws = s[i..].len() - s[i..].trim_start_matches(' ').len();
        out.push_str(&s[i..i + ws]);
        i += ws;
        let Some(c) = s[i..].chars().next() else {
            return Err(i);
        };
        if c == close {
            out.push(c);
            return Ok(i + 1);
        }
        if c == ',' {
            out.push(c);
            i += 1;
            continue;
        }
        // An entry: `key: value`, `key` alone, or (in a sequence) a value.
        let (key, after_key) = match flow_scalar(&s[i..]) {
            Some(n) => (&s[i..i + n], i + n),
            None if c == '{' || c == '[' => {
                if in_storage {
                    return Err(i);
                }
                let n = flow_collection(out, &s[i..], in_storage).map_err(|e| i + e)?;
                i += n;
                continue;
            }
            None => return Err(i),
        };
        let ws = s[after_key..].len() - s[after_key..].trim_start_matches(' ').len();
        let colon = after_key + ws;
        if s[colon..].starts_with(':') {
            let name = key.trim_matches(['"', '\'']);
            out.push_str(if in_storage && !name_is_shown(name) {
                MASK
            } else {
                key
            });
            out.push_str(&s[after_key..=colon]);
            i = colon + 1;
            let in_storage = in_storage || is_section(name);
            let masked = masks(name, in_storage);
            let ws = s[i..].len() - s[i..].trim_start_matches(' ').len();
            out.push_str(&s[i..i + ws]);
            i += ws;
            let v = &s[i..];
            if v.starts_with(['{', '[']) {
                let mut inner = String::new();
                match (flow_collection(&mut inner, v, in_storage), masked) {
                    (Ok(n), true) => {
                        out.push_str(MASK);
                        i += n;
                    }
                    (Ok(n), false) => {
                        out.push_str(&inner);
                        i += n;
                    }
                    (Err(_), true) => {
                        out.push_str(MASK);
                        return Err(s.len());
                    }
                    (Err(e), false) => {
                        out.push_str(&inner);
                        return Err(i + e);
                    }
                }
            } else if let Some(n) = flow_scalar(v) {
                if masked {
                    out.push_str(MASK);
                } else {
                    out.push_str(&redact(&v[..n]));
                }
                i += n;
            } else if v.starts_with([',', close]) || v.is_empty() {
            } else {
                if masked {
                    out.push_str(MASK);
                    return Err(s.len());
                }
                return Err(i);
            }
        } else if in_storage || has_secret_word(key) {
            // A lone scalar in the storage section: a value where a key belongs.
            out.push_str(MASK);
            i = after_key;
        } else {
            out.push_str(&redact(key));
            i = after_key;
        }
    }
}

/// The length of the scalar `s` starts with in flow context (quoted, or
/// plain up to `,`, a bracket, `: ` or ` #`); `None` when there is none.
fn flow_scalar(s: &str) -> Option<usize> {
    match s.chars().next()? {
        q @ ('"' | '\'') => quoted_end(s, q),
        '{' | '[' | '}' | ']' | ',' | '#' => None,
        _ => {
            let b = s.as_bytes();
            let mut i = 0;
            while i < b.len() {
                match b[i] {
                    b',' | b'{' | b'}' | b'[' | b']' => break,
                    b':' if matches!(b.get(i + 1), None | Some(b' ' | b',' | b'}' | b']')) => break,
                    b'#' if i > 0 && b[i - 1] == b' ' => break,
                    _ => i += 1,
                }
            }
            let n = s[..i].trim_end().len();
            (n > 0).then_some(n)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Line `n` (1-based) of `text`, masked.
    fn shown(text: &str, n: usize) -> String {
        let lines: Vec<&str> = text.lines().collect();
        mask_line(lines[n - 1], &context(&lines, n - 1))
    }

    const HEAD: &str = "profiles:\n  prod:\n    checkpoints: s3://b/ck\n    storage:\n";

    #[test]
    fn block_and_flow_mappings() {
        for (body, want) in [
            (
                "      s3:\n        secret_key: SEKRIT\n",
                "        secret_key: ********",
            ),
            (
                "      s3:\n        \"secret_access_key\": SEKRIT\n",
                "        \"secret_access_key\": ********",
            ),
            (
                "      s3:\n        'Secret_Access_Key' :SEKRIT # old\n",
                "        'Secret_Access_Key' :********",
            ),
            (
                "      s3: { secret_access_key: SEKRIT, path_style: maybe }\n",
                "      s3: { secret_access_key: ********, path_style: maybe }",
            ),
            (
                "      s3: {\"secret_access_key\":\"SEKRIT\",\"region\":\"eu\"}\n",
                "      s3: {\"secret_access_key\":********,\"region\":\"eu\"}",
            ),
            (
                "      azure: { endpoint: \"http://u:SEKRIT@h:9/?sig=SEKRIT\", sas_token: \"sv=1&sig=SEKRIT\" }\n",
                "      azure: { endpoint: \"http://***@h:9/?…\", sas_token: ******** }",
            ),
            // Unknown keys in the storage section: their values are not shown.
            (
                "      s3:\n        sekrit: SEKRIT\n",
                "        sekrit: ********",
            ),
            ("      s3: { SEKRIT }\n", "      s3: { ******** }"),
            (
                "      s3: { endpoint: x, wJalrXUtnFEMI/K7MDENG: 1 }\n",
                "      s3: { endpoint: x, ********: ******** }",
            ),
            (
                "      s3:\n        wJalrXUtnFEMI/K7MDENG: 1\n",
                "        ********: ********",
            ),
            (
                "      s3: { a: { b: SEKRIT } }\n",
                "      s3: { a: ******** }",
            ),
            // A flow mapping the line does not close.
            (
                "      s3: { region: eu, secret_access_key:\n",
                "      s3: { region: eu, secret_access_key:",
            ),
            (
                "      s3: { region: eu, x: \"SEKRIT\n",
                "      s3: { region: eu, x: ********",
            ),
            ("      s3: [SEKRIT]\n", "      s3: [********]"),
            (
                "      s3:\n        region: eu # SEKRIT\n",
                "        region: eu # ********",
            ),
            ("      s3:\n        - SEKRIT\n", "        - ********"),
            ("      s3:\n\tsecret_access_key: SEKRIT\n", "********"),
        ] {
            let text = format!("{HEAD}{body}");
            let n = text.lines().count();
            assert_eq!(shown(&text, n), want, "{body}");
        }
    }

    #[test]
    fn continuations_are_masked() {
        for body in [
            "      s3:\n        secret_access_key: abc\n          SEKRIT\n",
            "      s3:\n        secret_access_key: |\n          SEKRIT\n",
            "      s3:\n        secret_access_key:\n          SEKRIT\n",
            "      s3:\n        secret_access_key: \"abc\n          SEKRIT\"\n",
            "      s3: {\n        region: eu,\n        secret_access_key: SEKRIT }\n",
            "      s3: { region: eu,\n        x: SEKRIT }\n",
            "      s3:\n        region: eu\n        endpoint: http://h\n          SEKRIT\n",
        ] {
            let text = format!("{HEAD}{body}");
            let n = text.lines().count();
            let s = shown(&text, n);
            assert!(!s.contains("SEKRIT") && s.contains(MASK), "{body}: {s}");
        }
    }

    #[test]
    fn secret_keys_anywhere() {
        let text = "profiles:\n  prod:\n    Password: SEKRIT\n    x: { api_token: SEKRIT, y: 1 }\n    - key: SEKRIT\n    credentials:\n      - SEKRIT\n    checkpoints: s3://KEY:SEKRIT@b/ck?x=SEKRIT\n";
        for n in 3..=8 {
            let s = shown(text, n);
            assert!(!s.contains("SEKRIT"), "line {n}: {s}");
        }
        assert_eq!(shown(text, 4), "    x: { api_token: ********, y: 1 }");
        assert_eq!(shown(text, 8), "    checkpoints: s3://***@b/ck?…");
    }

    #[test]
    fn the_rest_is_shown() {
        let text = "profiles:\n  prod:\n    checkpoints: s3://b/ck # main\n    description: two\n      lines\n    jobs: { orders: 5f3c, pay: [1, 2] }\n    storage:\n      timeout_secs: 5x\n      s3: { region: eu-west-1, path_style: maybe, endpoint: http://h:9 }\n";
        for (n, want) in [
            (3, "    checkpoints: s3://b/ck # main"),
            (5, "      lines"),
            (6, "    jobs: { orders: 5f3c, pay: [1, 2] }"),
            (8, "      timeout_secs: 5x"),
            (
                9,
                "      s3: { region: eu-west-1, path_style: maybe, endpoint: http://h:9 }",
            ),
        ] {
            assert_eq!(shown(text, n), want);
        }
    }

    #[test]
    fn names_in_messages() {
        for n in [
            "secret_key",
            "secretAccessKey",
            "sas-token",
            "s3",
            "AKIAIOSFODNN7EXAMPLE",
        ] {
            assert!(name_is_shown(n), "{n}");
        }
        for n in [
            "hZ7w8ESF3eRCRbrJjSSxbr3WYPpZ2Y",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "sv=2020&sig=abc",
            "0123456789abcdef",
            "",
        ] {
            assert!(!name_is_shown(n), "{n}");
        }
    }
}
