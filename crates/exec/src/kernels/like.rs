//! LIKE / ILIKE pattern matching: `%` matches any run of characters, `_` exactly one,
//! and `\` escapes the next character.

/// One element of a compiled pattern.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Literal(char),
    AnyOne,
    AnyRun,
}

/// A compiled LIKE pattern.
#[derive(Debug, Clone)]
pub struct LikePattern {
    tokens: Vec<Token>,
    case_insensitive: bool,
}

impl LikePattern {
    pub fn new(pattern: &str, case_insensitive: bool) -> LikePattern {
        let mut tokens = Vec::new();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            let token = match c {
                '%' => Token::AnyRun,
                '_' => Token::AnyOne,
                '\\' => Token::Literal(chars.next().unwrap_or('\\')),
                c => Token::Literal(c),
            };
            if !(token == Token::AnyRun && tokens.last() == Some(&Token::AnyRun)) {
                tokens.push(token);
            }
        }
        if case_insensitive {
            for t in &mut tokens {
                if let Token::Literal(c) = t {
                    *c = fold(*c);
                }
            }
        }
        LikePattern { tokens, case_insensitive }
    }

    /// Whether `text` matches the whole pattern.
    pub fn matches(&self, text: &str) -> bool {
        let chars: Vec<char> =
            if self.case_insensitive { text.chars().map(fold).collect() } else { text.chars().collect() };
        // Iterative matcher with backtracking to the last `%`: O(n * m) worst case.
        let (mut t_idx, mut p_idx) = (0usize, 0usize);
        let mut backtrack: Option<(usize, usize)> = None;
        while t_idx < chars.len() {
            match self.tokens.get(p_idx) {
                Some(Token::AnyRun) => {
                    backtrack = Some((p_idx, t_idx));
                    p_idx += 1;
                    continue;
                }
                Some(Token::AnyOne) => {
                    t_idx += 1;
                    p_idx += 1;
                    continue;
                }
                Some(Token::Literal(c)) if *c == chars[t_idx] => {
                    t_idx += 1;
                    p_idx += 1;
                    continue;
                }
                _ => {}
            }
            match backtrack {
                Some((star_p, star_t)) => {
                    p_idx = star_p + 1;
                    t_idx = star_t + 1;
                    backtrack = Some((star_p, star_t + 1));
                }
                None => return false,
            }
        }
        self.tokens[p_idx..].iter().all(|t| *t == Token::AnyRun)
    }
}

fn fold(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn like(text: &str, pattern: &str) -> bool {
        LikePattern::new(pattern, false).matches(text)
    }

    #[test]
    fn patterns() {
        assert!(like("hello", "h%o"));
        assert!(like("hello", "%"));
        assert!(like("", "%"));
        assert!(!like("", "_"));
        assert!(like("hello", "_ello"));
        assert!(!like("hello", "hell"));
        assert!(like("a%b", "a\\%b"));
        assert!(!like("axb", "a\\%b"));
        assert!(like("mississippi", "%iss%ppi"));
        assert!(!like("mississippi", "%iss%ppx"));
        assert!(LikePattern::new("HE%", true).matches("hello"));
        assert!(like("héllo", "h_llo"));
    }
}
