//! Finds the yield points of a coroutine body and rewrites them into awaits.
//!
//! ```text
//! Input:  let r = yield_!(client.fetch(url))?;
//! Output: let r = yield_!(@__coroutine_yield client.fetch(url))?;
//!         which `yield_!` expands to
//!         `::coroutine_runtime::Yieldable::into_yielded(client.fetch(url)).await`
//! ```
//!
//! The user's `yield_!` path is kept (only a marker is added), so the import that brought
//! `yield_!` into scope counts as used. A bare `yield expr` (nightly `coroutines` feature, or
//! inside `coroutines! { … }`) has no path to keep:
//!
//! ```text
//! Input:  let r = yield client.fetch(url);
//! Output: let r = ::coroutine_runtime::__yield_site!(client.fetch(url));
//!         which expands to `::coroutine_runtime::Yieldable::into_yielded(client.fetch(url)).await`
//!         (with the runtime's `introspect` feature, to a wrapper that records the yield's site)
//! ```
//!
//! [`YieldRewriter`] stops at closures, `async` blocks and nested items: a yield there would not
//! suspend the coroutine, so [`Misplaced`] reports it and puts a stand-in of the same type in
//! its place, so that the code emitted beside the error type-checks as the fixed code will.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::parse::ParseStream;
use syn::punctuated::Punctuated;

use crate::expand::respanned;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Attribute, Expr, Macro, Path, Stmt, Token};

/// Rewrites every yield point of a coroutine body into an `.await` on the yielded value.
pub(crate) struct YieldRewriter<'a> {
    /// Where `coroutine_runtime` is reachable from the user's crate.
    krate: &'a Path,
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

    /// `yield_!(value)` becomes `yield_!(@__coroutine_yield value)`, yields inside `value`
    /// rewritten too.
    fn rewrite_yield_macro(&mut self, mac: &mut Macro) {
        mac.tokens = match parse_yield_argument(mac) {
            Ok(mut value) => {
                self.visit_expr_mut(&mut value);
                self.convert_tuple_elements(&mut value);
                quote!(@__coroutine_yield #value)
            }
            Err(error) => {
                self.errors.push(error);
                quote!(@__coroutine_malformed)
            }
        };
    }

    /// Converts each element of a yielded tuple literal into its future on its own, so a value
    /// that cannot be yielded is reported at the element, not as the whole tuple's type. The
    /// tuple's own conversion would make the same calls.
    ///
    /// ```text
    /// Input:  yield_!((fetch(a), "text"))
    /// Output: yield_!(@__coroutine_yield (yielded(fetch(a)), yielded("text")))
    ///         error: `&str` cannot be yielded from a coroutine, at "text"
    /// ```
    fn convert_tuple_elements(&self, value: &mut Expr) {
        let Expr::Tuple(tuple) = value else { return };
        for element in &mut tuple.elems {
            if matches!(element, Expr::Tuple(_)) {
                self.convert_tuple_elements(element);
            } else {
                let span = element.span();
                // The runtime's path too, or rustc would point at the attribute.
                let krate = respanned(self.krate.to_token_stream(), span);
                let original = std::mem::replace(element, Expr::Verbatim(TokenStream::new()));
                *element = syn::parse_quote_spanned! {span=>
                    #krate::__private::yielded(#original)
                };
            }
        }
    }

    /// Rewrites the yields in the arguments of another macro's invocation (`vec![…]`,
    /// `format!(…)`, `assert!(…)`). Arguments that parse as expressions or statements are
    /// visited as such, so a closure or an `async` block among them is seen for what it is;
    /// other tokens are scanned for `yield_!` calls.
    fn rewrite_macro_arguments(&mut self, mac: &mut Macro) {
        if !mentions_yield(mac.tokens.clone()) {
            return;
        }
        let as_list =
            |input: ParseStream<'_>| Punctuated::<Expr, Token![,]>::parse_terminated(input);
        let as_repeat = |input: ParseStream<'_>| {
            Ok((
                input.parse::<Expr>()?,
                input.parse::<Token![;]>()?,
                input.parse::<Expr>()?,
            ))
        };
        if let Ok(mut list) = mac.parse_body_with(as_list) {
            for expr in &mut list {
                self.visit_expr_mut(expr);
            }
            mac.tokens = list.into_token_stream();
        } else if let Ok((mut value, semi, mut count)) = mac.parse_body_with(as_repeat) {
            // `vec![value; count]`: the count is a run-time value.
            self.visit_expr_mut(&mut value);
            self.visit_expr_mut(&mut count);
            mac.tokens = quote!(#value #semi #count);
        } else if let Ok(mut stmts) = mac.parse_body_with(syn::Block::parse_within) {
            for stmt in &mut stmts {
                self.visit_stmt_mut(stmt);
            }
            mac.tokens = quote!(#(#stmts)*);
        } else {
            let tokens = std::mem::take(&mut mac.tokens);
            mac.tokens = map_yield_groups(tokens, &mut |mac| self.rewrite_yield_macro(mac));
        }
    }
}

impl VisitMut for YieldRewriter<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            Expr::Yield(y) => {
                let Some(mut value) = y.expr.take() else {
                    self.errors.push(missing_value(y.yield_token.span));
                    *expr = syn::parse_quote!(());
                    return;
                };
                self.visit_expr_mut(&mut value);
                self.convert_tuple_elements(&mut value);
                // All on the `yield` keyword, so that the runtime's `line!()` is the user's.
                let span = y.yield_token.span;
                let krate = respanned(self.krate.to_token_stream(), span);
                *expr = syn::parse_quote_spanned! {span=>
                    #krate::__yield_site!(#value)
                };
            }
            // A yield inside a closure would belong to the closure, which is not a coroutine.
            Expr::Closure(c) => Misplaced::check(&mut *c.body, "a closure", self),
            // An `async` block is its own future: `.await` works there, a yield does not.
            Expr::Async(a) => Misplaced::check(&mut a.block, "an `async` block", self),
            // Evaluated at compile time, long before the coroutine runs.
            Expr::Const(c) => Misplaced::check(&mut c.block, "a `const` block", self),
            Expr::Repeat(r) => {
                self.visit_expr_mut(&mut r.expr);
                Misplaced::check(&mut *r.len, "an array length", self);
            }
            _ => visit_mut::visit_expr_mut(self, expr),
        }
    }

    // A type's array lengths are constants, evaluated at compile time.
    fn visit_type_mut(&mut self, ty: &mut syn::Type) {
        Misplaced::check(ty, "a type", self);
    }

    // So are const generic arguments.
    fn visit_generic_argument_mut(&mut self, argument: &mut syn::GenericArgument) {
        Misplaced::check(argument, "a generic argument", self);
    }

    fn visit_macro_mut(&mut self, mac: &mut Macro) {
        if is_yield_macro(mac) {
            self.rewrite_yield_macro(mac);
        } else if !is_coroutines_macro(mac) {
            // (A nested `coroutines! { … }` rewrites its own yields.)
            self.rewrite_macro_arguments(mac);
        }
    }

    // A nested fn (or any item) has its own body, outside the coroutine.
    fn visit_item_mut(&mut self, item: &mut syn::Item) {
        Misplaced::check(item, "a nested item", self);
    }
}

/// Reports every yield point inside a scope that is not the coroutine's own body, and replaces
/// it with a stand-in that has the yield's type.
///
/// ```text
/// Input:  let f = || yield_!(fetch());
/// Output: let f = || yield_!(@__coroutine_misplaced fetch());
///         which `yield_!` expands to `::coroutine_runtime::__private::misplaced(fetch())`,
///         plus the error
/// ```
pub(crate) struct Misplaced<'a> {
    /// The scope, in words: "a closure", "an `async` block"…
    scope: &'static str,
    krate: &'a Path,
    errors: Vec<syn::Error>,
}

impl Misplaced<'_> {
    /// Checks `node`, a scope described by `scope`, and adds its errors to `rewriter`'s.
    pub(crate) fn check<T: MisplacedNode + ?Sized>(
        node: &mut T,
        scope: &'static str,
        rewriter: &mut YieldRewriter<'_>,
    ) {
        let mut finder = Misplaced {
            scope,
            krate: rewriter.krate,
            errors: Vec::new(),
        };
        node.visit_with(&mut finder);
        rewriter.errors.extend(finder.errors);
    }

    /// Whether the scope is evaluated at compile time: a `const` block, an array length, a type
    /// or a generic argument.
    fn is_constant(&self) -> bool {
        CONSTANT_SCOPES.contains(&self.scope)
    }

    /// Whether the scope is an array length (in an expression or a type): its stand-in is `0`,
    /// which rustc evaluates without a second error.
    fn is_length(&self) -> bool {
        self.scope == "an array length" || self.scope == "a type"
    }

    fn report(&mut self, span: Span, what: &str) {
        let fix = if self.scope == "an `async` block" {
            "use `.await` there, or move the yield to the coroutine's own body"
        } else if self.is_constant() {
            "it is evaluated at compile time, before any coroutine runs"
        } else {
            "move it to the coroutine's own body"
        };
        self.errors.push(syn::Error::new(
            span,
            format!("{what} cannot be used inside {}; {fix}", self.scope),
        ));
    }

    /// `yield_!(value)` becomes `yield_!(@__coroutine_misplaced value)`, with an error. In a
    /// constant, the value goes too (it is no constant), and the stand-in is a `const fn`.
    fn replace_yield_macro(&mut self, mac: &mut Macro) {
        self.report(yield_macro_span(mac), "`yield_!`");
        mac.tokens = if self.is_length() {
            quote!(@__coroutine_length)
        } else if self.is_constant() {
            quote!(@__coroutine_constant)
        } else if let Ok(mut value) = parse_yield_argument(mac) {
            self.visit_expr_mut(&mut value);
            quote!(@__coroutine_misplaced #value)
        } else {
            quote!(@__coroutine_malformed)
        };
    }
}

/// The scopes [`YieldRewriter`] hands to [`Misplaced`] that are evaluated at compile time.
const CONSTANT_SCOPES: [&str; 4] = [
    "a `const` block",
    "an array length",
    "a type",
    "a generic argument",
];

/// A syntax node that [`Misplaced`] can search.
pub(crate) trait MisplacedNode {
    fn visit_with(&mut self, finder: &mut Misplaced<'_>);
}

impl MisplacedNode for Expr {
    fn visit_with(&mut self, finder: &mut Misplaced<'_>) {
        finder.visit_expr_mut(self);
    }
}

impl MisplacedNode for syn::Block {
    fn visit_with(&mut self, finder: &mut Misplaced<'_>) {
        finder.visit_block_mut(self);
    }
}

impl MisplacedNode for syn::Type {
    fn visit_with(&mut self, finder: &mut Misplaced<'_>) {
        finder.visit_type_mut(self);
    }
}

impl MisplacedNode for syn::GenericArgument {
    fn visit_with(&mut self, finder: &mut Misplaced<'_>) {
        finder.visit_generic_argument_mut(self);
    }
}

impl MisplacedNode for syn::Item {
    fn visit_with(&mut self, finder: &mut Misplaced<'_>) {
        finder.visit_item_mut(self);
    }
}

impl VisitMut for Misplaced<'_> {
    fn visit_macro_mut(&mut self, mac: &mut Macro) {
        if is_yield_macro(mac) {
            self.replace_yield_macro(mac);
        } else if !is_coroutines_macro(mac) {
            let tokens = std::mem::take(&mut mac.tokens);
            mac.tokens = map_yield_groups(tokens, &mut |mac| self.replace_yield_macro(mac));
        }
    }

    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Expr::Yield(y) = expr {
            self.report(y.yield_token.span, "`yield`");
            let krate = self.krate;
            *expr = match y.expr.take() {
                Some(_) if self.is_length() => syn::parse_quote!(0),
                Some(_) if self.is_constant() => syn::parse_quote_spanned! {y.yield_token.span=>
                    #krate::__private::constant()
                },
                Some(mut value) => {
                    self.visit_expr_mut(&mut value);
                    syn::parse_quote_spanned! {value.span()=>
                        #krate::__private::misplaced(#value)
                    }
                }
                None => syn::parse_quote!(()),
            };
        } else {
            visit_mut::visit_expr_mut(self, expr);
        }
    }

    // A nested coroutine is a coroutine of its own: its yields are in place.
    fn visit_item_fn_mut(&mut self, function: &mut syn::ItemFn) {
        if !has_coroutine_attribute(&function.attrs) {
            visit_mut::visit_item_fn_mut(self, function);
        }
    }

    fn visit_impl_item_fn_mut(&mut self, method: &mut syn::ImplItemFn) {
        if !has_coroutine_attribute(&method.attrs) {
            visit_mut::visit_impl_item_fn_mut(self, method);
        }
    }

    fn visit_trait_item_fn_mut(&mut self, method: &mut syn::TraitItemFn) {
        if !has_coroutine_attribute(&method.attrs) {
            visit_mut::visit_trait_item_fn_mut(self, method);
        }
    }
}

/// Calls `rewrite` on every `yield_!(…)` call found in `tokens` (at any depth), and puts the
/// rewritten arguments back in place, keeping the delimiters and their spans.
fn map_yield_groups(tokens: TokenStream, rewrite: &mut dyn FnMut(&mut Macro)) -> TokenStream {
    let mut out = Vec::new();
    let mut iter = tokens.into_iter().peekable();
    while let Some(tree) = iter.next() {
        match tree {
            TokenTree::Ident(ident) if ident == "yield_" => {
                let is_call =
                    matches!(iter.peek(), Some(TokenTree::Punct(p)) if p.as_char() == '!');
                out.push(TokenTree::Ident(ident.clone()));
                if !is_call {
                    continue;
                }
                let bang = iter.next().expect("peeked above");
                let bang_span = bang.span();
                out.push(bang);
                match iter.next() {
                    Some(TokenTree::Group(group)) => {
                        let mut mac = Macro {
                            path: ident.into(),
                            bang_token: syn::token::Not(bang_span),
                            delimiter: macro_delimiter(&group),
                            tokens: group.stream(),
                        };
                        rewrite(&mut mac);
                        let mut rewritten = Group::new(group.delimiter(), mac.tokens);
                        rewritten.set_span(group.span());
                        out.push(TokenTree::Group(rewritten));
                    }
                    other => out.extend(other),
                }
            }
            TokenTree::Group(group) => {
                let mut rewritten =
                    Group::new(group.delimiter(), map_yield_groups(group.stream(), rewrite));
                rewritten.set_span(group.span());
                out.push(TokenTree::Group(rewritten));
            }
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

/// Whether `tokens` hold a `yield_` or `yield` at any depth: only then may a macro's arguments
/// need rewriting.
fn mentions_yield(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|tree| match tree {
        TokenTree::Ident(ident) => ident == "yield_" || ident == "yield",
        TokenTree::Group(group) => mentions_yield(group.stream()),
        _ => false,
    })
}

/// Whether `mac` is a call of `yield_!`, under any path (`yield_!`, `coroutine_runtime::yield_!`).
pub(crate) fn is_yield_macro(mac: &Macro) -> bool {
    ends_with(&mac.path, "yield_")
}

/// Whether `mac` is a nested `coroutines! { … }` block.
fn is_coroutines_macro(mac: &Macro) -> bool {
    ends_with(&mac.path, "coroutines")
}

/// Whether `attrs` hold a `#[coroutine]` attribute (under any path).
pub(crate) fn has_coroutine_attribute(attrs: &[Attribute]) -> bool {
    attrs.iter().any(is_coroutine_attribute)
}

/// Whether `attr` is `#[coroutine]` or `#[coroutine(…)]`, under any path.
pub(crate) fn is_coroutine_attribute(attr: &Attribute) -> bool {
    ends_with(attr.path(), "coroutine")
}

/// Whether the last segment of `path` is `name`: how the macros recognise their own names and
/// `Return` whatever path the user reached them by.
fn ends_with(path: &Path, name: &str) -> bool {
    path.segments.last().is_some_and(|s| s.ident == name)
}

/// Where to point at a `yield_!` call: its last path segment, the `yield_` the user wrote.
fn yield_macro_span(mac: &Macro) -> Span {
    mac.path
        .segments
        .last()
        .map_or_else(|| mac.path.span(), |s| s.ident.span())
}

/// The value of a `yield_!(value)` call.
fn parse_yield_argument(mac: &Macro) -> syn::Result<Expr> {
    if mac.tokens.is_empty() {
        return Err(missing_value(yield_macro_span(mac)));
    }
    mac.parse_body::<Expr>().map_err(|error| {
        syn::Error::new(
            error.span(),
            format!("`yield_!` takes one expression to wait for; {error}"),
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

    // A nested item's `return` is its own.
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// Whether `expr` is a call `Return(v)` (under any path ending in `Return`).
fn is_return_call(expr: &Expr) -> bool {
    let Expr::Call(call) = expr else { return false };
    let Expr::Path(path) = &*call.func else {
        return false;
    };
    call.args.len() == 1 && ends_with(&path.path, "Return")
}
