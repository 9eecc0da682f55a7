//! Finds the yield points of a coroutine body and rewrites them into awaits.
//!
//! ```text
//! Input:  let r = yield_!(client.fetch(url))?;
//! Output: let r = ::coroutine_runtime::__private::yielded(client.fetch(url)).await?;
//! ```
//!
//! `yield expr` (nightly `coroutines` feature, or inside `coroutines! { … }`) is rewritten the
//! same way. The rewriter stops at closures, `async` blocks and nested items: a yield there would
//! not suspend the coroutine, so [`Misplaced`] reports it instead.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Macro, Path, Stmt};

/// Rewrites every yield point of a coroutine body into an `.await` on the yielded value.
pub(crate) struct YieldRewriter<'a> {
    /// Where `coroutine_runtime` is reachable from the user's crate.
    pub(crate) krate: &'a Path,
    /// Problems found so far, in source order.
    pub(crate) errors: Vec<syn::Error>,
}

impl<'a> YieldRewriter<'a> {
    pub(crate) fn new(krate: &'a Path) -> Self {
        YieldRewriter {
            krate,
            errors: Vec::new(),
        }
    }

    /// The awaited form of `yield_!(value)`, spanned on the user's value so that a value that
    /// cannot be yielded is reported there.
    fn awaited(&mut self, mut value: Expr) -> Expr {
        self.visit_expr_mut(&mut value);
        let krate = self.krate;
        let span = value.span();
        syn::parse_quote_spanned! {span=>
            #krate::__private::yielded(#value).await
        }
    }

    /// The awaited form of a `yield_!` macro call, or `None` (with an error recorded) when its
    /// argument is missing or malformed.
    fn rewrite_macro(&mut self, mac: &Macro) -> Option<Expr> {
        match parse_yield_argument(mac) {
            Ok(value) => Some(self.awaited(value)),
            Err(error) => {
                self.errors.push(error);
                None
            }
        }
    }

    /// Rewrites `yield_!` calls found in the tokens of another macro's invocation.
    fn rewrite_tokens(&mut self, tokens: TokenStream) -> TokenStream {
        let mut out = Vec::new();
        let mut iter = tokens.into_iter().peekable();
        while let Some(tree) = iter.next() {
            match tree {
                TokenTree::Ident(ident) if ident == "yield_" => {
                    let bang =
                        matches!(iter.peek(), Some(TokenTree::Punct(p)) if p.as_char() == '!');
                    if !bang {
                        out.push(TokenTree::Ident(ident));
                        continue;
                    }
                    let bang = iter.next().expect("peeked above");
                    match iter.next() {
                        Some(TokenTree::Group(group)) => {
                            let mac = Macro {
                                path: ident.clone().into(),
                                bang_token: syn::token::Not(bang.span()),
                                delimiter: macro_delimiter(&group),
                                tokens: group.stream(),
                            };
                            match self.rewrite_macro(&mac) {
                                Some(expr) => {
                                    let mut wrapped =
                                        Group::new(Delimiter::Parenthesis, expr.to_token_stream());
                                    wrapped.set_span(group.span());
                                    out.push(TokenTree::Group(wrapped));
                                }
                                None => out.extend(mac.to_token_stream()),
                            }
                        }
                        other => {
                            out.push(TokenTree::Ident(ident));
                            out.push(bang);
                            out.extend(other);
                        }
                    }
                }
                TokenTree::Group(group) => {
                    let mut rewritten =
                        Group::new(group.delimiter(), self.rewrite_tokens(group.stream()));
                    rewritten.set_span(group.span());
                    out.push(TokenTree::Group(rewritten));
                }
                other => out.push(other),
            }
        }
        out.into_iter().collect()
    }
}

impl VisitMut for YieldRewriter<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            Expr::Macro(m) if is_yield_macro(&m.mac) => {
                if let Some(awaited) = self.rewrite_macro(&m.mac) {
                    *expr = awaited;
                }
            }
            Expr::Macro(m) => {
                m.mac.tokens = self.rewrite_tokens(std::mem::take(&mut m.mac.tokens));
            }
            Expr::Yield(y) => match y.expr.take() {
                Some(value) => *expr = self.awaited(*value),
                None => self.errors.push(missing_value(y.yield_token.span)),
            },
            // A yield inside a closure would belong to the closure, which is not a coroutine.
            Expr::Closure(c) => self.errors.extend(Misplaced::find(&*c.body, "a closure")),
            // An `async` block is its own future: `.await` works there, a yield does not.
            Expr::Async(a) => self
                .errors
                .extend(Misplaced::find(&a.block, "an `async` block")),
            _ => visit_mut::visit_expr_mut(self, expr),
        }
    }

    fn visit_stmt_mut(&mut self, stmt: &mut Stmt) {
        match stmt {
            Stmt::Macro(m) if is_yield_macro(&m.mac) => {
                if let Some(awaited) = self.rewrite_macro(&m.mac) {
                    *stmt = Stmt::Expr(awaited, m.semi_token);
                }
            }
            Stmt::Macro(m) => {
                m.mac.tokens = self.rewrite_tokens(std::mem::take(&mut m.mac.tokens));
            }
            // A nested fn (or any item) has its own body, outside the coroutine.
            Stmt::Item(item) => self.errors.extend(Misplaced::find(item, "a nested item")),
            _ => visit_mut::visit_stmt_mut(self, stmt),
        }
    }
}

/// Collects an error for every yield point inside a scope that is not the coroutine's own body.
pub(crate) struct Misplaced {
    /// The scope, in words: "a closure", "an `async` block"…
    scope: &'static str,
    errors: Vec<syn::Error>,
}

impl Misplaced {
    pub(crate) fn find<T: MisplacedNode + ?Sized>(
        node: &T,
        scope: &'static str,
    ) -> Vec<syn::Error> {
        let mut finder = Misplaced {
            scope,
            errors: Vec::new(),
        };
        node.visit_with(&mut finder);
        finder.errors
    }

    fn report(&mut self, span: Span, what: &str) {
        let fix = if self.scope == "an `async` block" {
            "use `.await` there, or move the yield to the coroutine's own body"
        } else {
            "move it to the coroutine's own body"
        };
        self.errors.push(syn::Error::new(
            span,
            format!("{what} cannot be used inside {}; {fix}", self.scope),
        ));
    }

    fn scan_tokens(&mut self, tokens: &TokenStream) {
        let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
        for (i, tree) in trees.iter().enumerate() {
            match tree {
                TokenTree::Ident(ident) if ident == "yield_" => {
                    if matches!(trees.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!') {
                        self.report(ident.span(), "`yield_!`");
                    }
                }
                TokenTree::Group(group) => self.scan_tokens(&group.stream()),
                _ => {}
            }
        }
    }
}

/// A syntax node that [`Misplaced`] can search.
pub(crate) trait MisplacedNode {
    fn visit_with(&self, finder: &mut Misplaced);
}

impl MisplacedNode for Expr {
    fn visit_with(&self, finder: &mut Misplaced) {
        finder.visit_expr(self);
    }
}

impl MisplacedNode for syn::Block {
    fn visit_with(&self, finder: &mut Misplaced) {
        finder.visit_block(self);
    }
}

impl MisplacedNode for syn::Item {
    fn visit_with(&self, finder: &mut Misplaced) {
        finder.visit_item(self);
    }
}

impl<'ast> Visit<'ast> for Misplaced {
    fn visit_macro(&mut self, mac: &'ast Macro) {
        if is_yield_macro(mac) {
            self.report(mac.path.span(), "`yield_!`");
        } else {
            self.scan_tokens(&mac.tokens);
        }
    }

    fn visit_expr_yield(&mut self, y: &'ast syn::ExprYield) {
        self.report(y.yield_token.span, "`yield`");
    }
}

/// Whether `mac` is a call of `yield_!`, under any path (`yield_!`, `coroutine_runtime::yield_!`).
pub(crate) fn is_yield_macro(mac: &Macro) -> bool {
    mac.path
        .segments
        .last()
        .is_some_and(|s| s.ident == "yield_")
}

/// The value of a `yield_!(value)` call.
fn parse_yield_argument(mac: &Macro) -> syn::Result<Expr> {
    if mac.tokens.is_empty() {
        return Err(missing_value(mac.path.span()));
    }
    mac.parse_body::<Expr>().map_err(|error| {
        syn::Error::new(
            error.span(),
            format!("`yield_!` takes one expression to wait for: {error}"),
        )
    })
}

fn missing_value(span: Span) -> syn::Error {
    syn::Error::new(
        span,
        "a yield needs a value to wait for; write `yield_!(future)`, or `yield_!(moment)` to let other tasks run",
    )
}

fn macro_delimiter(group: &Group) -> syn::MacroDelimiter {
    let span = group.delim_span();
    match group.delimiter() {
        Delimiter::Brace => syn::MacroDelimiter::Brace(syn::token::Brace(span)),
        Delimiter::Bracket => syn::MacroDelimiter::Bracket(syn::token::Bracket(span)),
        _ => syn::MacroDelimiter::Paren(syn::token::Paren(span)),
    }
}

/// Unwraps `Return(v)` wherever it makes the coroutine's result: after `return`, and in tail
/// position of the body (through `if`, `match` and blocks).
///
/// ```text
/// Input:  return Return(categories);
/// Output: return ::coroutine_runtime::__private::unwrap_return(Return(categories));
/// ```
pub(crate) struct ReturnRewriter<'a> {
    pub(crate) krate: &'a Path,
}

impl ReturnRewriter<'_> {
    /// Rewrites the tail expression of `block`, and every `return` inside it.
    pub(crate) fn rewrite_body(&mut self, block: &mut syn::Block) {
        self.visit_block_mut(block);
        self.rewrite_tail_of_block(block);
    }

    fn rewrite_tail_of_block(&self, block: &mut syn::Block) {
        if let Some(Stmt::Expr(tail, None)) = block.stmts.last_mut() {
            self.rewrite_tail(tail);
        }
    }

    fn rewrite_tail(&self, expr: &mut Expr) {
        match expr {
            Expr::Block(b) => self.rewrite_tail_of_block(&mut b.block),
            Expr::Unsafe(b) => self.rewrite_tail_of_block(&mut b.block),
            Expr::If(i) => {
                self.rewrite_tail_of_block(&mut i.then_branch);
                if let Some((_, els)) = &mut i.else_branch {
                    self.rewrite_tail(els);
                }
            }
            Expr::Match(m) => {
                for arm in &mut m.arms {
                    self.rewrite_tail(&mut arm.body);
                }
            }
            Expr::Paren(p) => self.rewrite_tail(&mut p.expr),
            _ => self.unwrap_if_return(expr),
        }
    }

    fn unwrap_if_return(&self, expr: &mut Expr) {
        if is_return_call(expr) {
            let krate = self.krate;
            let span = expr.span();
            let call = std::mem::replace(expr, Expr::Verbatim(TokenStream::new()));
            *expr = syn::parse_quote_spanned! {span=>
                #krate::__private::unwrap_return(#call)
            };
        }
    }
}

impl VisitMut for ReturnRewriter<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            Expr::Return(r) => {
                if let Some(value) = &mut r.expr {
                    self.visit_expr_mut(value);
                    self.unwrap_if_return(value);
                }
            }
            // `return` inside these belongs to them, not to the coroutine.
            Expr::Closure(_) | Expr::Async(_) => {}
            _ => visit_mut::visit_expr_mut(self, expr),
        }
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {
        // A nested item's `return` is its own.
    }
}

/// Whether `expr` is a call `Return(v)` (under any path ending in `Return`).
fn is_return_call(expr: &Expr) -> bool {
    let Expr::Call(call) = expr else { return false };
    let Expr::Path(path) = &*call.func else {
        return false;
    };
    call.args.len() == 1
        && path
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "Return")
}
