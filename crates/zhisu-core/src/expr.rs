//! Expressions in XLSForm syntax: `${age} >= 16 and ${age} <= 59`, `selected(${hazards}, 'dust')`,
//! `count-selected(.) > 1`, `if(${x} = 'a', 1, 2)`, arithmetic (`+ - * div mod`), comparison and
//! string comparison. Parsed once into an AST, evaluated over the answers so far — the same code
//! on the tablet (wasm) and on the server.
//!
//! Values follow XLSForm: an unanswered item is empty; empty equals `''`, is false, and is `NaN`
//! in arithmetic (so `${age} >= 16` is false until age is answered).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::text::{shown, Lang};

/// The longest expression accepted, in bytes. The longest in the shipped questionnaires is 79.
pub const MAX_EXPRESSION_BYTES: usize = 2_000;

/// The deepest expression accepted: parentheses, calls, unary minus and chains of operators
/// each add a level (`a + b + c` is 3 deep). Parsing, checking and evaluating recurse over the
/// tree, so this bounds their stack use on every platform (wasm has a 1 MiB stack).
pub const MAX_EXPRESSION_DEPTH: usize = 64;

/// A parsed expression together with its source text. Serialises as the source text.
#[derive(Debug, Clone)]
pub struct Expression {
    source: String,
    ast: Expr,
}

impl PartialEq for Expression {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Expression {
    /// Parses `source`; an expression longer than [`MAX_EXPRESSION_BYTES`] or deeper than
    /// [`MAX_EXPRESSION_DEPTH`] is an error, so whatever parses can be checked and evaluated
    /// without exhausting the stack.
    pub fn parse(source: &str) -> Result<Expression, ExprError> {
        if source.len() > MAX_EXPRESSION_BYTES {
            return Err(ExprError {
                offset: 0,
                kind: ExprErrorKind::TooLong {
                    bytes: source.len(),
                },
            });
        }
        let ast = Parser::new(source)?.parse_all()?;
        Ok(Expression {
            source: source.to_string(),
            ast,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn ast(&self) -> &Expr {
        &self.ast
    }

    pub fn evaluate(&self, scope: &dyn Scope) -> Value {
        eval(&self.ast, scope)
    }

    /// True when the expression's value is truthy (relevance, constraints, filters).
    pub fn is_true(&self, scope: &dyn Scope) -> bool {
        self.evaluate(scope).truthy()
    }

    /// Every `${name}` the expression refers to, in order of appearance (with repeats).
    pub fn references(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.ast.walk(&mut |e| {
            if let Expr::Ref(name) = e {
                out.push(name.as_str());
            }
        });
        out
    }

    /// Every bare name (a choice attribute in a choice filter).
    pub fn attributes(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.ast.walk(&mut |e| {
            if let Expr::Attribute(name) = e {
                out.push(name.as_str());
            }
        });
        out
    }

    /// The parts of a top-level chain of `and`, in order; the whole expression when its top
    /// is no `and`. Used to tell which part of the eligibility rule screened a respondent out.
    pub fn conjuncts(&self) -> Vec<&Expr> {
        fn collect<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
            match e {
                Expr::Binary(BinaryOp::And, a, b) => {
                    collect(a, out);
                    collect(b, out);
                }
                other => out.push(other),
            }
        }
        let mut out = Vec::new();
        collect(&self.ast, &mut out);
        out
    }

    /// Whether the expression uses `.` (the answer being checked).
    pub fn uses_current(&self) -> bool {
        let mut found = false;
        self.ast.walk(&mut |e| found |= matches!(e, Expr::Current));
        found
    }
}

impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl Serialize for Expression {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Expression {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let source = String::deserialize(deserializer)?;
        Expression::parse(&source).map_err(serde::de::Error::custom)
    }
}

/// A syntax error at a byte offset in the expression's source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .kind.message(Lang::En))]
pub struct ExprError {
    pub offset: usize,
    pub kind: ExprErrorKind,
}

/// What is wrong with an expression's syntax. Texts quoted from the expression are kept as
/// written; [`ExprErrorKind::message`] escapes what cannot be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExprErrorKind {
    Empty,
    TooLong {
        bytes: usize,
    },
    TooDeep,
    DollarWithoutBrace,
    UnclosedReference,
    BadReference(String),
    UnclosedString,
    BadNumber(String),
    BangWithoutEquals,
    UnexpectedCharacter(char),
    /// Something after a complete expression (`None`: cannot happen, kept total).
    AfterComplete(Option<String>),
    UnclosedParenthesis,
    NeedsLeftValue(String),
    UnknownFunction(String),
    ExpectedCommaOrParenthesis {
        function: String,
        found: Option<String>,
    },
    ArgumentCount {
        function: String,
        min: usize,
        max: Option<usize>,
        count: usize,
    },
    EndsTooSoon,
    ExpectedValue(Option<String>),
}

impl ExprErrorKind {
    /// The problem in plain words, in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        use ExprErrorKind::*;
        let zh = lang == Lang::ZhCn;
        let found = |f: &Option<String>| match f {
            Some(t) if zh => format!("“{}”", shown(t)),
            Some(t) => format!("'{}'", shown(t)),
            None if zh => "表达式结尾".to_string(),
            None => "the end".to_string(),
        };
        match (self, zh) {
            (Empty, false) => "the expression is empty; write a condition, like ${age} >= 16, or remove the key".into(),
            (Empty, true) => "表达式是空的；请写一个条件，如 ${age} >= 16，或删掉这个键".into(),
            (TooLong { bytes }, false) => format!("the expression is {bytes} bytes long; at most {MAX_EXPRESSION_BYTES} are allowed: split the rule over several items"),
            (TooLong { bytes }, true) => format!("表达式长 {bytes} 字节，最多 {MAX_EXPRESSION_BYTES} 字节：请把规则拆到几个题目里"),
            (TooDeep, false) => format!("the expression is nested too deeply (more than {MAX_EXPRESSION_DEPTH} levels of parentheses, calls or operators in a row): simplify it"),
            (TooDeep, true) => format!("表达式嵌套太深（括号、函数或连续运算符超过 {MAX_EXPRESSION_DEPTH} 层）：请简化"),
            (DollarWithoutBrace, false) => "expected '{' after '$' (references look like ${item_id})".into(),
            (DollarWithoutBrace, true) => "“$”后面应是“{”（引用写作 ${题目id}）".into(),
            (UnclosedReference, false) => "reference is not closed with '}'; write it like ${age}".into(),
            (UnclosedReference, true) => "引用缺少结尾的“}”；请写成 ${age} 这样".into(),
            (BadReference(name), false) => format!("'{}' is not a valid item id in a reference; ids are lowercase letters, digits and '_', like ${{age}}", shown(name)),
            (BadReference(name), true) => format!("“{}”不是有效的题目 id；id 由小写字母、数字和“_”组成，如 ${{age}}", shown(name)),
            (UnclosedString, false) => "text in quotes is not closed; end it with the quote it starts with, like 'yes'".into(),
            (UnclosedString, true) => "引号里的文字没有结束；请用开头的那种引号结尾，如 'yes'".into(),
            (BadNumber(text), false) => format!("'{}' is not a number; write a number like 12 or 2.5", shown(text)),
            (BadNumber(text), true) => format!("“{}”不是数字；请写成 12 或 2.5 这样的数字", shown(text)),
            (BangWithoutEquals, false) => "'!' must be followed by '=' (use not(...) to negate)".into(),
            (BangWithoutEquals, true) => "“!”后面必须是“=”（取反请用 not(...)）".into(),
            (UnexpectedCharacter(c), false) => format!("unexpected character '{}'; remove it (text to compare goes in quotes, like 'yes')", shown(&c.to_string())),
            (UnexpectedCharacter(c), true) => format!("不能使用字符“{}”；请删掉它（要比较的文字请加引号，如 'yes'）", shown(&c.to_string())),
            (AfterComplete(f), false) => format!("unexpected {} after a complete expression; join conditions with 'and' or 'or', or remove it", found(f)),
            (AfterComplete(f), true) => format!("完整的表达式后面多了{}；几个条件之间请用 and 或 or 连接，否则请删掉它", found(f)),
            (UnclosedParenthesis, false) => "this '(' is not closed; add ')' where it ends".into(),
            (UnclosedParenthesis, true) => "这个“(”没有对应的“)”；请在结束处加上“)”".into(),
            (NeedsLeftValue(name), false) => format!("'{name}' needs a value on its left; write an answer like ${{age}}, a number or a condition before it"),
            (NeedsLeftValue(name), true) => format!("“{name}”左边缺少一个值；请在它前面写一个答案（如 ${{age}}）、数字或条件"),
            (UnknownFunction(name), false) => format!("unknown function '{}()'; the functions are: {}", shown(name), Function::names()),
            (UnknownFunction(name), true) => format!("没有“{}()”这个函数；可用的函数有：{}", shown(name), Function::names()),
            (ExpectedCommaOrParenthesis { function, found: f }, false) => {
                format!("expected ',' or ')' in the call to {function}(), found {}", found(f))
            }
            (ExpectedCommaOrParenthesis { function, found: f }, true) => {
                format!("{function}() 的参数之间应是“,”，结尾应是“)”，这里却是{}", found(f))
            }
            (ArgumentCount { function, min, max, count }, _) => {
                let wanted = match max {
                    Some(max) if max == min => format!("{min}"),
                    Some(max) if zh => format!("{min} 到 {max}"),
                    Some(max) => format!("{min} to {max}"),
                    None if zh => format!("至少 {min}"),
                    None => format!("at least {min}"),
                };
                if zh {
                    format!("{function}() 需要 {wanted} 个参数，这里有 {count} 个")
                } else {
                    format!("{function}() takes {wanted} argument(s), not {count}")
                }
            }
            (EndsTooSoon, false) => "the expression ends where a value was expected; finish it, like ${age} >= 16".into(),
            (EndsTooSoon, true) => "表达式在应有一个值的地方结束了；请写完整，如 ${age} >= 16".into(),
            (ExpectedValue(f), false) => format!("expected a value, found {}; write an answer like ${{age}}, a number, text in quotes like 'yes', or true()", found(f)),
            (ExpectedValue(f), true) => format!("这里应是一个值，却是{}；请写一个答案（如 ${{age}}）、数字、带引号的文字（如 'yes'）或 true()", found(f)),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Number(f64),
    Text(String),
    /// `${name}`: the answer to another item.
    Ref(String),
    /// `.`: the answer being checked (constraints).
    Current,
    /// A bare name: an attribute of the choice being filtered (choice filters).
    Attribute(String),
    Negate(Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    Call(Function, Vec<Expr>),
}

impl Expr {
    /// The value of this (part of an) expression in `scope`.
    pub fn evaluate(&self, scope: &dyn Scope) -> Value {
        eval(self, scope)
    }

    /// Every `${name}` this part refers to, in order of appearance (with repeats).
    pub fn references(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Ref(name) = e {
                out.push(name.as_str());
            }
        });
        out
    }

    fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match self {
            Expr::Negate(inner) => inner.walk(f),
            Expr::Binary(_, a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Expr::Call(_, args) => args.iter().for_each(|a| a.walk(f)),
            _ => {}
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Selected,
    CountSelected,
    Not,
    If,
    True,
    False,
    StringLength,
    Concat,
    Coalesce,
    Int,
    Number,
    Round,
}

impl Function {
    const ALL: [(&'static str, Function, usize, Option<usize>); 12] = [
        ("selected", Function::Selected, 2, Some(2)),
        ("count-selected", Function::CountSelected, 1, Some(1)),
        ("not", Function::Not, 1, Some(1)),
        ("if", Function::If, 3, Some(3)),
        ("true", Function::True, 0, Some(0)),
        ("false", Function::False, 0, Some(0)),
        ("string-length", Function::StringLength, 1, Some(1)),
        ("concat", Function::Concat, 0, None),
        ("coalesce", Function::Coalesce, 2, Some(2)),
        ("int", Function::Int, 1, Some(1)),
        ("number", Function::Number, 1, Some(1)),
        ("round", Function::Round, 1, Some(2)),
    ];

    /// Every function, as an author writes it: `selected(), count-selected(), …`.
    fn names() -> String {
        let names: Vec<String> = Self::ALL.iter().map(|(n, ..)| format!("{n}()")).collect();
        names.join(", ")
    }

    fn lookup(name: &str) -> Option<(Function, usize, Option<usize>)> {
        Self::ALL
            .iter()
            .find(|(n, ..)| *n == name)
            .map(|(_, f, min, max)| (*f, *min, *max))
    }
}

// ---------------------------------------------------------------- lexer

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(f64),
    Text(String),
    Ref(String),
    Dot,
    Name(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
    End,
}

fn lex(source: &str) -> Result<Vec<(usize, Token)>, ExprError> {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    let err = |offset: usize, kind: ExprErrorKind| ExprError { offset, kind };
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'$' => {
                if bytes.get(i + 1) != Some(&b'{') {
                    return Err(err(i, ExprErrorKind::DollarWithoutBrace));
                }
                let Some(close) = source[i + 2..].find('}') else {
                    return Err(err(i, ExprErrorKind::UnclosedReference));
                };
                let name = &source[i + 2..i + 2 + close];
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(err(i, ExprErrorKind::BadReference(name.to_string())));
                }
                tokens.push((start, Token::Ref(name.to_string())));
                i += close + 3;
            }
            b'\'' | b'"' => {
                let Some(close) = source[i + 1..].find(c as char) else {
                    return Err(err(i, ExprErrorKind::UnclosedString));
                };
                tokens.push((start, Token::Text(source[i + 1..i + 1 + close].to_string())));
                i += close + 2;
            }
            b'0'..=b'9' | b'.' => {
                let mut j = i;
                while j < bytes.len() && (bytes[j].is_ascii_digit() || bytes[j] == b'.') {
                    j += 1;
                }
                let text = &source[i..j];
                if text == "." {
                    tokens.push((start, Token::Dot));
                } else {
                    let n: f64 = text
                        .parse()
                        .map_err(|_| err(i, ExprErrorKind::BadNumber(text.to_string())))?;
                    tokens.push((start, Token::Number(n)));
                }
                i = j;
            }
            b'(' => {
                tokens.push((start, Token::LParen));
                i += 1;
            }
            b')' => {
                tokens.push((start, Token::RParen));
                i += 1;
            }
            b',' => {
                tokens.push((start, Token::Comma));
                i += 1;
            }
            b'=' | b'+' | b'-' | b'*' => {
                let op = match c {
                    b'=' => "=",
                    b'+' => "+",
                    b'-' => "-",
                    _ => "*",
                };
                tokens.push((start, Token::Op(op)));
                i += 1;
            }
            b'!' | b'<' | b'>' => {
                let with_eq = bytes.get(i + 1) == Some(&b'=');
                let op = match (c, with_eq) {
                    (b'!', true) => "!=",
                    (b'!', false) => return Err(err(i, ExprErrorKind::BangWithoutEquals)),
                    (b'<', true) => "<=",
                    (b'<', false) => "<",
                    (b'>', true) => ">=",
                    _ => ">",
                };
                tokens.push((start, Token::Op(op)));
                i += if with_eq { 2 } else { 1 };
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut j = i;
                while j < bytes.len()
                    && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_' || bytes[j] == b'-')
                {
                    j += 1;
                }
                tokens.push((start, Token::Name(source[i..j].to_string())));
                i = j;
            }
            _ => {
                let ch = source[i..].chars().next().unwrap_or('?');
                return Err(err(i, ExprErrorKind::UnexpectedCharacter(ch)));
            }
        }
    }
    tokens.push((source.len(), Token::End));
    Ok(tokens)
}

// ---------------------------------------------------------------- parser

struct Parser {
    tokens: Vec<(usize, Token)>,
    pos: usize,
    /// How many parse functions are active: bounded by [`MAX_EXPRESSION_DEPTH`].
    nesting: usize,
}

/// A parsed subtree and its depth (a leaf is 1).
struct Node {
    expr: Expr,
    depth: usize,
}

fn binary_op(token: &Token) -> Option<(BinaryOp, u8)> {
    Some(match token {
        Token::Name(n) if n == "or" => (BinaryOp::Or, 1),
        Token::Name(n) if n == "and" => (BinaryOp::And, 2),
        Token::Op("=") => (BinaryOp::Eq, 3),
        Token::Op("!=") => (BinaryOp::Ne, 3),
        Token::Op("<") => (BinaryOp::Lt, 4),
        Token::Op("<=") => (BinaryOp::Le, 4),
        Token::Op(">") => (BinaryOp::Gt, 4),
        Token::Op(">=") => (BinaryOp::Ge, 4),
        Token::Op("+") => (BinaryOp::Add, 5),
        Token::Op("-") => (BinaryOp::Sub, 5),
        Token::Op("*") => (BinaryOp::Mul, 6),
        Token::Name(n) if n == "div" => (BinaryOp::Div, 6),
        Token::Name(n) if n == "mod" => (BinaryOp::Mod, 6),
        _ => return None,
    })
}

impl Parser {
    fn new(source: &str) -> Result<Self, ExprError> {
        Ok(Parser {
            tokens: lex(source)?,
            pos: 0,
            nesting: 0,
        })
    }

    fn peek(&self) -> &Token {
        &self.tokens[self.pos].1
    }

    fn offset(&self) -> usize {
        self.tokens[self.pos].0
    }

    fn bump(&mut self) -> Token {
        let token = self.tokens[self.pos].1.clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        token
    }

    fn error<T>(&self, kind: ExprErrorKind) -> Result<T, ExprError> {
        Err(ExprError {
            offset: self.offset(),
            kind,
        })
    }

    fn too_deep<T>(&self) -> Result<T, ExprError> {
        self.error(ExprErrorKind::TooDeep)
    }

    /// A node over `children`, refused when it would be deeper than the limit.
    fn node(&self, expr: Expr, children_depth: usize) -> Result<Node, ExprError> {
        let depth = children_depth + 1;
        if depth > MAX_EXPRESSION_DEPTH {
            return self.too_deep();
        }
        Ok(Node { expr, depth })
    }

    fn parse_all(mut self) -> Result<Expr, ExprError> {
        if *self.peek() == Token::End {
            return self.error(ExprErrorKind::Empty);
        }
        let node = self.parse_binary(0)?;
        match self.peek() {
            Token::End => Ok(node.expr),
            other => {
                let found = describe(other);
                self.error(ExprErrorKind::AfterComplete(found))
            }
        }
    }

    /// Precedence climbing; all binary operators are left-associative.
    fn parse_binary(&mut self, min_precedence: u8) -> Result<Node, ExprError> {
        self.nesting += 1;
        if self.nesting > MAX_EXPRESSION_DEPTH {
            return self.too_deep();
        }
        let mut left = self.parse_unary()?;
        while let Some((op, precedence)) = binary_op(self.peek()) {
            if precedence <= min_precedence {
                break;
            }
            self.bump();
            let right = self.parse_binary(precedence)?;
            let depth = left.depth.max(right.depth);
            left = self.node(
                Expr::Binary(op, Box::new(left.expr), Box::new(right.expr)),
                depth,
            )?;
        }
        self.nesting -= 1;
        Ok(left)
    }

    fn parse_unary(&mut self) -> Result<Node, ExprError> {
        // `- - - x`: counted in a loop, not by recursion
        let mut negations = 0;
        while *self.peek() == Token::Op("-") {
            self.bump();
            negations += 1;
            if negations > MAX_EXPRESSION_DEPTH {
                return self.too_deep();
            }
        }
        let mut node = self.parse_primary()?;
        for _ in 0..negations {
            node = self.node(Expr::Negate(Box::new(node.expr)), node.depth)?;
        }
        Ok(node)
    }

    fn parse_primary(&mut self) -> Result<Node, ExprError> {
        let offset = self.offset();
        let leaf = |expr| Ok(Node { expr, depth: 1 });
        match self.bump() {
            Token::Number(n) => leaf(Expr::Number(n)),
            Token::Text(s) => leaf(Expr::Text(s)),
            Token::Ref(name) => leaf(Expr::Ref(name)),
            Token::Dot => leaf(Expr::Current),
            Token::LParen => {
                let inner = self.parse_binary(0)?;
                if self.bump() != Token::RParen {
                    return Err(ExprError {
                        offset,
                        kind: ExprErrorKind::UnclosedParenthesis,
                    });
                }
                Ok(inner)
            }
            Token::Name(name) => {
                if *self.peek() != Token::LParen {
                    if binary_op(&Token::Name(name.clone())).is_some() {
                        return Err(ExprError {
                            offset,
                            kind: ExprErrorKind::NeedsLeftValue(name),
                        });
                    }
                    return leaf(Expr::Attribute(name));
                }
                let Some((function, min, max)) = Function::lookup(&name) else {
                    return Err(ExprError {
                        offset,
                        kind: ExprErrorKind::UnknownFunction(name),
                    });
                };
                self.bump();
                let mut args = Vec::new();
                let mut depth = 0;
                if *self.peek() != Token::RParen {
                    loop {
                        let arg = self.parse_binary(0)?;
                        depth = depth.max(arg.depth);
                        args.push(arg.expr);
                        match self.bump() {
                            Token::Comma => continue,
                            Token::RParen => break,
                            other => {
                                return Err(ExprError {
                                    offset: self.tokens[self.pos.saturating_sub(1)].0,
                                    kind: ExprErrorKind::ExpectedCommaOrParenthesis {
                                        function: name,
                                        found: describe(&other),
                                    },
                                })
                            }
                        }
                    }
                } else {
                    self.bump();
                }
                let count = args.len();
                if count < min || max.is_some_and(|max| count > max) {
                    return Err(ExprError {
                        offset,
                        kind: ExprErrorKind::ArgumentCount {
                            function: name,
                            min,
                            max,
                            count,
                        },
                    });
                }
                self.node(Expr::Call(function, args), depth)
            }
            Token::End => Err(ExprError {
                offset,
                kind: ExprErrorKind::EndsTooSoon,
            }),
            other => Err(ExprError {
                offset,
                kind: ExprErrorKind::ExpectedValue(describe(&other)),
            }),
        }
    }
}

/// A token as it is written, for messages (`None`: the end of the expression).
fn describe(token: &Token) -> Option<String> {
    Some(match token {
        Token::Number(n) => format!("{n}"),
        Token::Text(s) => format!("'{s}'"),
        Token::Ref(name) => format!("${{{name}}}"),
        Token::Dot => ".".into(),
        Token::Name(n) => n.clone(),
        Token::Op(op) => (*op).into(),
        Token::LParen => "(".into(),
        Token::RParen => ")".into(),
        Token::Comma => ",".into(),
        Token::End => return None,
    })
}

// ---------------------------------------------------------------- evaluation

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Unanswered, not relevant, or "don't know".
    Empty,
    Bool(bool),
    Number(f64),
    Text(String),
    /// The keys chosen in a multiple-choice item.
    Choices(Vec<String>),
}

impl Value {
    pub fn truthy(&self) -> bool {
        match self {
            Value::Empty => false,
            Value::Bool(b) => *b,
            Value::Number(n) => *n != 0.0 && !n.is_nan(),
            Value::Text(s) => !s.is_empty(),
            Value::Choices(keys) => !keys.is_empty(),
        }
    }

    pub fn number(&self) -> f64 {
        match self {
            Value::Empty | Value::Choices(_) => f64::NAN,
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Number(n) => *n,
            Value::Text(s) => s.trim().parse().unwrap_or(f64::NAN),
        }
    }

    pub fn text(&self) -> String {
        match self {
            Value::Empty => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Value::Number(n) => n.to_string(),
            Value::Text(s) => s.clone(),
            Value::Choices(keys) => keys.join(" "),
        }
    }

    fn keys(&self) -> Vec<String> {
        match self {
            Value::Choices(keys) => keys.clone(),
            Value::Empty => Vec::new(),
            other => other
                .text()
                .split_whitespace()
                .map(str::to_string)
                .collect(),
        }
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    use Value::*;
    match (a, b) {
        (Empty, Empty) => true,
        (Empty, Text(s)) | (Text(s), Empty) => s.is_empty(),
        (Empty, _) | (_, Empty) => false,
        (Bool(x), other) | (other, Bool(x)) => *x == other.truthy(),
        (Number(x), other) | (other, Number(x)) => *x == other.number(),
        (x, y) => x.text() == y.text(),
    }
}

fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    if matches!(a, Value::Empty) || matches!(b, Value::Empty) {
        return None;
    }
    let (x, y) = (a.number(), b.number());
    if !x.is_nan() && !y.is_nan() {
        return x.partial_cmp(&y);
    }
    match (a, b) {
        // ISO dates and other strings compare as text
        (Value::Text(s), Value::Text(t)) => Some(s.cmp(t)),
        _ => None,
    }
}

/// Where an expression gets its values from.
pub trait Scope {
    /// The answer to item `name` (`${name}`), or [`Value::Empty`].
    fn reference(&self, name: &str) -> Value;
    /// The answer being checked (`.`).
    fn current(&self) -> Value {
        Value::Empty
    }
    /// An attribute of the choice being filtered (a bare name).
    fn attribute(&self, _name: &str) -> Value {
        Value::Empty
    }
}

fn eval(expr: &Expr, scope: &dyn Scope) -> Value {
    use std::cmp::Ordering::*;
    match expr {
        Expr::Number(n) => Value::Number(*n),
        Expr::Text(s) => Value::Text(s.clone()),
        Expr::Ref(name) => scope.reference(name),
        Expr::Current => scope.current(),
        Expr::Attribute(name) => scope.attribute(name),
        Expr::Negate(inner) => Value::Number(-eval(inner, scope).number()),
        Expr::Binary(op, a, b) => {
            let left = eval(a, scope);
            match op {
                BinaryOp::Or => return Value::Bool(left.truthy() || eval(b, scope).truthy()),
                BinaryOp::And => return Value::Bool(left.truthy() && eval(b, scope).truthy()),
                _ => {}
            }
            let right = eval(b, scope);
            let ordering = || compare(&left, &right);
            match op {
                BinaryOp::Eq => Value::Bool(equal(&left, &right)),
                BinaryOp::Ne => Value::Bool(!equal(&left, &right)),
                BinaryOp::Lt => Value::Bool(ordering() == Some(Less)),
                BinaryOp::Le => Value::Bool(matches!(ordering(), Some(Less | Equal))),
                BinaryOp::Gt => Value::Bool(ordering() == Some(Greater)),
                BinaryOp::Ge => Value::Bool(matches!(ordering(), Some(Greater | Equal))),
                BinaryOp::Add => Value::Number(left.number() + right.number()),
                BinaryOp::Sub => Value::Number(left.number() - right.number()),
                BinaryOp::Mul => Value::Number(left.number() * right.number()),
                BinaryOp::Div => Value::Number(left.number() / right.number()),
                BinaryOp::Mod => Value::Number(left.number() % right.number()),
                BinaryOp::Or | BinaryOp::And => unreachable!("handled above"),
            }
        }
        Expr::Call(function, args) => {
            let arg = |i: usize| eval(&args[i], scope);
            match function {
                Function::Selected => {
                    let key = arg(1).text();
                    Value::Bool(arg(0).keys().contains(&key))
                }
                Function::CountSelected => Value::Number(arg(0).keys().len() as f64),
                Function::Not => Value::Bool(!arg(0).truthy()),
                Function::If => {
                    if arg(0).truthy() {
                        arg(1)
                    } else {
                        arg(2)
                    }
                }
                Function::True => Value::Bool(true),
                Function::False => Value::Bool(false),
                Function::StringLength => Value::Number(arg(0).text().chars().count() as f64),
                Function::Concat => {
                    Value::Text((0..args.len()).map(|i| arg(i).text()).collect::<String>())
                }
                Function::Coalesce => {
                    let first = arg(0);
                    if first.text().is_empty() {
                        arg(1)
                    } else {
                        first
                    }
                }
                Function::Int => Value::Number(arg(0).number().trunc()),
                Function::Number => Value::Number(arg(0).number()),
                Function::Round => {
                    let digits = if args.len() > 1 { arg(1).number() } else { 0.0 };
                    let factor = 10f64.powi(digits as i32);
                    Value::Number((arg(0).number() * factor).round() / factor)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Lang;
    use std::collections::BTreeMap;

    struct Vars(BTreeMap<&'static str, Value>, Value);

    impl Scope for Vars {
        fn reference(&self, name: &str) -> Value {
            self.0.get(name).cloned().unwrap_or(Value::Empty)
        }
        fn current(&self) -> Value {
            self.1.clone()
        }
        fn attribute(&self, name: &str) -> Value {
            if name == "district" {
                Value::Text("yuzhong".into())
            } else {
                Value::Empty
            }
        }
    }

    fn vars() -> Vars {
        let mut m = BTreeMap::new();
        m.insert("age", Value::Number(35.0));
        m.insert("frontline", Value::Bool(true));
        m.insert("population", Value::Text("teacher".into()));
        m.insert(
            "hazards",
            Value::Choices(vec!["dust".into(), "noise".into()]),
        );
        m.insert("start", Value::Text("2026-03-01".into()));
        m.insert("district", Value::Text("yuzhong".into()));
        Vars(m, Value::Number(12.0))
    }

    fn check(source: &str, expect: Value) {
        let e = Expression::parse(source).unwrap_or_else(|e| panic!("{source}: {e:?}"));
        assert_eq!(e.evaluate(&vars()), expect, "{source}");
    }

    #[test]
    fn evaluates_xlsform_expressions() {
        use Value::*;
        let cases = [
            ("${age} >= 16 and ${age} <= 59", Bool(true)),
            ("${age} > 59 or ${age} < 16", Bool(false)),
            ("${frontline} = true()", Bool(true)),
            ("${population} = 'teacher'", Bool(true)),
            ("${population} != \"medical\"", Bool(true)),
            ("selected(${hazards}, 'dust')", Bool(true)),
            ("selected(${hazards}, 'heat')", Bool(false)),
            ("count-selected(${hazards})", Number(2.0)),
            (
                "not(selected(${hazards}, 'none') and count-selected(${hazards}) > 1)",
                Bool(true),
            ),
            ("if(${age} > 30, 'older', 'younger')", Text("older".into())),
            ("1 + 2 * 3", Number(7.0)),
            ("(1 + 2) * 3", Number(9.0)),
            ("7 div 2", Number(3.5)),
            ("7 mod 2", Number(1.0)),
            ("10 - 2 - 3", Number(5.0)),
            ("-${age} + 40", Number(5.0)),
            (". <= ${age} - 10", Bool(true)),
            ("string-length('工作')", Number(2.0)),
            ("concat('a', 1, ${population})", Text("a1teacher".into())),
            ("${start} < '2026-04-01'", Bool(true)),
            ("district = ${district}", Bool(true)),
            ("round(2.567, 2)", Number(2.57)),
            ("int(7 div 2)", Number(3.0)),
            ("coalesce(${missing}, 'x')", Text("x".into())),
        ];
        for (source, expect) in cases {
            check(source, expect);
        }
    }

    #[test]
    fn unanswered_is_empty_false_and_nan() {
        use Value::*;
        check("${missing} = ''", Bool(true));
        check("${missing} >= 16", Bool(false));
        check("${missing} < 16", Bool(false));
        check("not(${missing})", Bool(true));
        check("count-selected(${missing})", Number(0.0));
        check("${missing} = 0", Bool(false));
    }

    #[test]
    fn references_and_attributes_are_collected() {
        let e = Expression::parse("${a} + ${b} > district and selected(., 'x')").unwrap();
        assert_eq!(e.references(), vec!["a", "b"]);
        assert_eq!(e.attributes(), vec!["district"]);
        assert!(e.uses_current());
    }

    #[test]
    fn syntax_errors_have_offsets() {
        let cases = [
            ("", 0, "the expression is empty"),
            (
                "${age} >=",
                9,
                "the expression ends where a value was expected",
            ),
            ("${age >= 3", 0, "reference is not closed with '}'"),
            (
                "${a b} = 3",
                0,
                "'a b' is not a valid item id in a reference",
            ),
            (
                "${age} > 3)",
                10,
                "unexpected ')' after a complete expression",
            ),
            ("foo(1)", 0, "unknown function 'foo()'"),
            ("selected(${a})", 0, "selected() takes 2 argument(s), not 1"),
            ("(1 + 2", 0, "this '(' is not closed"),
            ("'abc", 0, "text in quotes is not closed"),
            (
                "${a} ! 3",
                5,
                "'!' must be followed by '=' (use not(...) to negate)",
            ),
            ("3 # 4", 2, "unexpected character '#'"),
            ("and 3", 0, "'and' needs a value on its left"),
        ];
        for (source, offset, what) in cases {
            let err = Expression::parse(source).unwrap_err();
            let message = err.to_string();
            assert_eq!(err.offset, offset, "{source}");
            // what is wrong, then what to write instead
            assert!(message.starts_with(what), "{source}: {message}");
            assert!(
                message.len() > what.len() || what.contains('('),
                "{message}"
            );
        }
    }

    #[test]
    fn nesting_and_length_are_limited_without_exhausting_the_stack() {
        let deep = format!("{}1{}", "(".repeat(2_400), ")".repeat(2_400));
        let err = Expression::parse(&deep).unwrap_err();
        assert_eq!(err.kind, ExprErrorKind::TooLong { bytes: 4_801 });
        let deep = format!("{}1{}", "(".repeat(900), ")".repeat(900));
        assert_eq!(
            Expression::parse(&deep).unwrap_err().kind,
            ExprErrorKind::TooDeep
        );
        let sum = vec!["1"; 900].join("+");
        assert_eq!(
            Expression::parse(&sum).unwrap_err().kind,
            ExprErrorKind::TooDeep
        );
        let negations = format!("{}1", "-".repeat(900));
        assert_eq!(
            Expression::parse(&negations).unwrap_err().kind,
            ExprErrorKind::TooDeep
        );
        let calls = format!("{}1{}", "not(".repeat(300), ")".repeat(300));
        assert_eq!(
            Expression::parse(&calls).unwrap_err().kind,
            ExprErrorKind::TooDeep
        );
        // just inside the limit: parses and evaluates
        let sum = vec!["1"; MAX_EXPRESSION_DEPTH].join("+");
        let e = Expression::parse(&sum).unwrap();
        assert_eq!(
            e.evaluate(&vars()),
            Value::Number(MAX_EXPRESSION_DEPTH as f64)
        );
        let nested = format!(
            "{}1{}",
            "(".repeat(MAX_EXPRESSION_DEPTH - 1),
            ")".repeat(MAX_EXPRESSION_DEPTH - 1)
        );
        assert!(Expression::parse(&nested).is_ok());
    }

    #[test]
    fn messages_in_both_languages() {
        let err = Expression::parse("foo(1)").unwrap_err();
        assert_eq!(err.kind.message(Lang::En), "unknown function 'foo()'; the functions are: selected(), count-selected(), not(), if(), true(), false(), string-length(), concat(), coalesce(), int(), number(), round()");
        assert_eq!(err.kind.message(Lang::ZhCn), "没有“foo()”这个函数；可用的函数有：selected(), count-selected(), not(), if(), true(), false(), string-length(), concat(), coalesce(), int(), number(), round()");
        let err = Expression::parse("${a} = 'x\u{1b}' )").unwrap_err();
        assert_eq!(
            err.kind.message(Lang::En),
            "unexpected ')' after a complete expression; join conditions with 'and' or 'or', or remove it"
        );
    }

    #[test]
    fn serialises_as_source() {
        let e = Expression::parse("${age} >= 16").unwrap();
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(json, "\"${age} >= 16\"");
        let back: Expression = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
        assert!(serde_json::from_str::<Expression>("\"${age} >=\"").is_err());
    }
}
