//! A small SQL tokenizer, shared by the mutator and the reducer, and the mutator itself:
//! broken variants of valid statements (a token dropped, duplicated or swapped, a name
//! misspelled or swapped for another, a literal of the wrong type, a wrong operator, a
//! truncated statement) to exercise the error paths.

use super::rng::Rng;

/// What a token is, as far as mutation and reduction care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokKind {
    Word,
    QuotedIdent,
    Number,
    Str,
    Symbol,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub kind: TokKind,
    /// Whitespace preceded the token in the source.
    pub space_before: bool,
}

impl Token {
    pub fn new(text: &str, kind: TokKind) -> Token {
        Token { text: text.to_string(), kind, space_before: true }
    }
}

/// Splits SQL into tokens; never fails (an unterminated string runs to the end).
pub fn tokenize(sql: &str) -> Vec<Token> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut space = false;
    while pos < chars.len() {
        let c = chars[pos];
        if c.is_whitespace() {
            space = true;
            pos += 1;
            continue;
        }
        let start = pos;
        let kind = if c.is_alphabetic() || c == '_' {
            while pos < chars.len() && (chars[pos].is_alphanumeric() || chars[pos] == '_' || chars[pos] == '$') {
                pos += 1;
            }
            TokKind::Word
        } else if c.is_ascii_digit() || (c == '.' && chars.get(pos + 1).is_some_and(char::is_ascii_digit)) {
            while pos < chars.len() && (chars[pos].is_ascii_alphanumeric() || chars[pos] == '.') {
                let exp = matches!(chars[pos], 'e' | 'E');
                pos += 1;
                if exp && pos < chars.len() && matches!(chars[pos], '+' | '-') {
                    pos += 1;
                }
            }
            TokKind::Number
        } else if c == '\'' || c == '"' {
            pos += 1;
            while pos < chars.len() {
                if chars[pos] == c {
                    if chars.get(pos + 1) == Some(&c) {
                        pos += 2;
                        continue;
                    }
                    pos += 1;
                    break;
                }
                pos += 1;
            }
            if c == '\'' {
                TokKind::Str
            } else {
                TokKind::QuotedIdent
            }
        } else {
            const TWO: &[&str] = &["::", "||", "<=", ">=", "<>", "!=", "->", "=>"];
            let pair: String = chars[pos..(pos + 2).min(chars.len())].iter().collect();
            pos += if TWO.contains(&pair.as_str()) { 2 } else { 1 };
            TokKind::Symbol
        };
        out.push(Token { text: chars[start..pos].iter().collect(), kind, space_before: space });
        space = false;
    }
    out
}

/// Joins tokens back into SQL, keeping the original spacing (a space is added between two
/// tokens that would otherwise merge).
pub fn render(tokens: &[Token]) -> String {
    let mut out = String::new();
    let mut prev: Option<&Token> = None;
    for t in tokens {
        if let Some(p) = prev {
            let merge = p.kind != TokKind::Symbol && t.kind != TokKind::Symbol;
            let comment =
                p.text.ends_with('-') && t.text.starts_with('-') || p.text.ends_with('/') && t.text.starts_with('*');
            if t.space_before || merge || comment {
                out.push(' ');
            }
        }
        out.push_str(&t.text);
        prev = Some(t);
    }
    out
}

const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "HAVING",
    "ORDER",
    "LIMIT",
    "OFFSET",
    "JOIN",
    "ON",
    "USING",
    "AS",
    "AND",
    "OR",
    "NOT",
    "NULL",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "IN",
    "IS",
    "BETWEEN",
    "LIKE",
    "UNION",
    "DISTINCT",
    "OVER",
    "PARTITION",
    "WITH",
    "CAST",
    "EXISTS",
    "LEFT",
    "INSERT",
    "INTO",
    "VALUES",
    "ALL",
    "FILTER",
    "WINDOW",
];
const NAMES: &[&str] = &[
    "orders",
    "customers",
    "products",
    "misc",
    "scratch",
    "amount",
    "quantity",
    "country",
    "customer_id",
    "product_id",
    "timestamp",
    "price",
    "s",
    "n",
    "d",
    "ts",
    "dt",
    "f",
    "url",
    "segment",
    "category",
    "session_id",
    "nonexistent",
];
const LITERALS: &[&str] = &[
    "'abc'",
    "42",
    "-1",
    "1.5e308",
    "TRUE",
    "NULL",
    "DATE '2025-09-01'",
    "INTERVAL '1 day'",
    "''",
    "'2025-09-01'",
    "TIMESTAMP 'not a time'",
    "9223372036854775808",
    "'NaN'",
];
const OPERATORS: &[&str] =
    &["+", "-", "*", "/", "%", "||", "=", "<", ">=", "<>", "AND", "OR", "::", ",", "(", ")", "."];

fn misspell(word: &str, rng: &mut Rng) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    if chars.is_empty() {
        return "x".into();
    }
    let at = rng.below(chars.len());
    match rng.below(4) {
        0 if chars.len() > 1 => {
            chars.remove(at);
        }
        1 => chars.insert(at, chars[at]),
        2 if chars.len() > 1 => {
            let next = (at + 1) % chars.len();
            chars.swap(at, next);
        }
        _ => chars[at] = (b'a' + rng.below(26) as u8) as char,
    }
    chars.into_iter().collect()
}

/// One to three random mutations of `sql`.
pub fn mutate(sql: &str, rng: &mut Rng) -> String {
    let mut tokens = tokenize(sql);
    for _ in 0..1 + rng.weighted(&[60, 30, 10]) {
        if tokens.is_empty() {
            break;
        }
        let at = rng.below(tokens.len());
        match rng.below(10) {
            0 => {
                tokens.remove(at);
            }
            1 => {
                let t = tokens[at].clone();
                tokens.insert(at, t);
            }
            2 if at + 1 < tokens.len() => tokens.swap(at, at + 1),
            3 | 4 => {
                // Misspell a name, or swap it for another name.
                let words: Vec<usize> = (0..tokens.len()).filter(|&k| tokens[k].kind == TokKind::Word).collect();
                if let Some(&k) = words.get(rng.below(words.len().max(1))) {
                    tokens[k].text =
                        if rng.chance(50) { misspell(&tokens[k].text, rng) } else { rng.pick(NAMES).to_string() };
                }
            }
            5 => {
                let lits: Vec<usize> =
                    (0..tokens.len()).filter(|&k| matches!(tokens[k].kind, TokKind::Number | TokKind::Str)).collect();
                let k = lits.get(rng.below(lits.len().max(1))).copied().unwrap_or(at);
                let literal: &&str = rng.pick(LITERALS);
                tokens[k] = Token::new(literal, TokKind::Word);
            }
            6 => {
                let syms: Vec<usize> = (0..tokens.len()).filter(|&k| tokens[k].kind == TokKind::Symbol).collect();
                let k = syms.get(rng.below(syms.len().max(1))).copied().unwrap_or(at);
                let operator: &&str = rng.pick(OPERATORS);
                tokens[k] = Token::new(operator, TokKind::Symbol);
            }
            7 => {
                let keyword: &&str = rng.pick(KEYWORDS);
                tokens.insert(at, Token::new(keyword, TokKind::Word));
            }
            8 => tokens.truncate(at.max(1)),
            _ => {
                // A column reference to a column of another type: swap two names.
                let words: Vec<usize> = (0..tokens.len()).filter(|&k| tokens[k].kind == TokKind::Word).collect();
                if words.len() >= 2 {
                    let (a, b) = (words[rng.below(words.len())], words[rng.below(words.len())]);
                    let text = tokens[a].text.clone();
                    tokens[a].text = tokens[b].text.clone();
                    tokens[b].text = text;
                }
            }
        }
    }
    render(&tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        let sql = "SELECT t1.a::TEXT, 'it''s' || \"x y\", 1.5e-3 FROM orders AS t1 WHERE a >= -2";
        let tokens = tokenize(sql);
        assert_eq!(tokens.iter().find(|t| t.kind == TokKind::Str).map(|t| t.text.as_str()), Some("'it''s'"));
        assert!(tokens.iter().any(|t| t.text == "1.5e-3"));
        assert!(tokens.iter().any(|t| t.text == "::"));
        assert_eq!(tokenize(&render(&tokens)), tokens);
    }

    #[test]
    fn render_never_makes_a_comment() {
        let tokens =
            vec![Token::new("-", TokKind::Symbol), Token { space_before: false, ..Token::new("-", TokKind::Symbol) }];
        assert_eq!(render(&tokens), "- -");
    }

    #[test]
    fn mutation_changes_the_statement() {
        let mut rng = Rng::new(4);
        let sql = "SELECT a + 1 FROM t WHERE b = 'x' ORDER BY 1";
        let changed = (0..50).filter(|_| mutate(sql, &mut rng) != sql).count();
        assert!(changed > 40, "{changed}");
    }
}
