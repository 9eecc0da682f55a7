//! `#[run_on_executor]`: a method whose body runs on the thread pool held in a field of `self`,
//! and whose call returns a future of the body's result (Tornado's
//! `tornado.concurrent.run_on_executor`).
//!
//! ```text
//! Input:
//!     #[run_on_executor]
//!     fn checksum(&self, path: PathBuf) -> u64 {
//!         self.hash(&std::fs::read(path).unwrap())
//!     }
//!
//! Output:
//!     fn checksum(&self, path: PathBuf) -> ::coroutine_runtime::Submitted<u64> {
//!         let __coroutine_executor = Clone::clone(&self.executor);
//!         let __coroutine_self = Clone::clone(self);     // `self` by value: `= self;`
//!         ThreadPoolExecutor::submit(&__coroutine_executor, move || -> u64 {
//!             __coroutine_self.hash(&std::fs::read(path).unwrap())
//!         })
//!     }
//! ```
//!
//! `self` cannot be bound by a closure, so every `self` of the body (also in closures, `async`
//! blocks and macro arguments, not in nested items) is renamed to the hygienic
//! `__coroutine_self`, which keeps the user's span for error messages.

use proc_macro2::{Group, Ident, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Block, Item, ItemFn, Path, Receiver, Token, Type};

use crate::expand::{combine, mentions_impl_trait, result_type};
use crate::{args, fallback, valid};

/// `#[run_on_executor(args)] item`.
pub(crate) fn run_on_executor(args: TokenStream, input: TokenStream) -> TokenStream {
    let item: Item = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(error) => return fallback::with_errors(input, Some(error)),
    };
    let (args, args_error) = match syn::parse2::<Args>(args) {
        Ok(args) => (args, None),
        Err(error) => (Args::default(), Some(error)),
    };
    match validate(&item) {
        Ok(method) => fallback::with_errors(expand(&method, &args), args_error),
        // The input as it was, plus the errors: the user's method keeps working for its callers.
        Err(error) => fallback::with_errors(
            input,
            combine([Some(error), args_error].into_iter().flatten()),
        ),
    }
}

/// What `#[run_on_executor(…)]` was asked for.
struct Args {
    /// `executor = field`: the field of `self` that holds the pool.
    executor: Ident,
    /// `crate = path`: where `coroutine_runtime` is reachable from the user's crate.
    krate: Path,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            executor: Ident::new("executor", Span::call_site()),
            krate: args::runtime_path(),
        }
    }
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args::default();
        let mut seen_executor = false;
        args::parse_list(input, &mut args.krate, |ident, input| {
            if ident != "executor" {
                return Err(syn::Error::new_spanned(
                    &ident,
                    format!(
                        "unknown `run_on_executor` argument `{ident}`; expected \
                         `executor = field` or `crate = path`"
                    ),
                ));
            }
            args::given_once(&mut seen_executor, &ident)?;
            input.parse::<Token![=]>()?;
            args.executor = input.call(syn::ext::IdentExt::parse_any)?;
            Ok(())
        })?;
        Ok(args)
    }
}

/// How the method takes `self`.
enum SelfKind {
    /// `&self` or `self: &T`: the job gets a clone.
    Borrowed,
    /// `self`, `mut self` or `self: T`: the job gets `self` itself.
    Owned,
}

/// A method that `#[run_on_executor]` can rewrite.
struct Method<'a> {
    /// The fn under the attribute.
    function: &'a ItemFn,
    /// Its receiver.
    receiver: &'a Receiver,
    /// How the receiver reaches the job.
    kind: SelfKind,
}

/// The method under the attribute, or errors pointing at what makes it unusable (all of them).
fn validate(item: &Item) -> syn::Result<Method<'_>> {
    let Item::Fn(function) = item else {
        return Err(syn::Error::new(
            first_token_span(item),
            "`#[run_on_executor]` can only be applied to a method taking `&self` or `self`",
        ));
    };
    let sig = &function.sig;
    let mut errors: Vec<_> = [
        valid::error_at(
            sig.asyncness.as_ref(),
            "`#[run_on_executor]` cannot be applied to an `async fn`; remove `async`: the body \
             runs on a thread of the pool, and the call already returns a future of its result",
        ),
        valid::error_at(
            sig.constness.as_ref(),
            "`#[run_on_executor]` cannot be applied to a `const fn`; remove `const`",
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    let receiver = sig.receiver();
    let mut kind = SelfKind::Owned;
    match receiver {
        None => errors.push(syn::Error::new_spanned(
            &sig.ident,
            format!(
                "`#[run_on_executor]` can only be applied to a method; `{}` takes no `self`, \
                 and the body runs on the pool in a field of `self`",
                sig.ident
            ),
        )),
        Some(receiver) => match &*receiver.ty {
            Type::Reference(reference) if reference.mutability.is_some() => {
                errors.push(syn::Error::new_spanned(
                    receiver,
                    "`#[run_on_executor]` cannot be applied to a method taking `&mut self`; take \
                     `&self`: the body runs on another thread, on a clone of `self`",
                ));
            }
            Type::Reference(_) => kind = SelfKind::Borrowed,
            _ => {}
        },
    }
    if let Some(error) = combine(errors) {
        return Err(error);
    }
    Ok(Method {
        function,
        receiver: receiver.expect("checked above"),
        kind,
    })
}

/// The span of an item's first token (its keyword or visibility), for "not a method" errors.
fn first_token_span(item: &Item) -> Span {
    item.to_token_stream()
        .into_iter()
        .find(|token| !matches!(token, TokenTree::Punct(p) if p.as_char() == '#'))
        .map_or_else(|| item.span(), |token| token.span())
}

/// The rewritten method. Cannot fail.
fn expand(method: &Method<'_>, args: &Args) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
        ..
    } = method.function;
    let krate = &args.krate;
    let field = &args.executor;
    let this = format_ident!("__coroutine_self", span = Span::mixed_site());
    let executor = format_ident!("__coroutine_executor", span = Span::mixed_site());

    let output = result_type(&sig.output);
    let mut new_sig = sig.clone();
    new_sig.output = syn::parse_quote!(-> #krate::Submitted<#output>);

    let mut body: Block = (**block).clone();
    SelfRenamer.visit_block_mut(&mut body);
    // A closure cannot declare `-> impl Trait`; the method's return type still fixes the type.
    let closure_output = if mentions_impl_trait(&output) {
        quote!()
    } else {
        quote!(-> #output)
    };

    let self_token = &method.receiver.self_token;
    let bind_self = match method.kind {
        SelfKind::Borrowed => {
            let span = method.receiver.span();
            quote_spanned!(span=> let #this = ::core::clone::Clone::clone(#self_token);)
        }
        SelfKind::Owned if method.receiver.mutability.is_some() => {
            quote!(#[allow(unused_mut)] let mut #this = #self_token;)
        }
        SelfKind::Owned => quote!(let #this = #self_token;),
    };
    let clone_executor = quote_spanned! {field.span()=>
        let #executor = ::core::clone::Clone::clone(&#self_token.#field);
    };
    let submit = quote_spanned! {field.span()=>
        #krate::ThreadPoolExecutor::submit(&#executor, move || #closure_output #body)
    };
    quote! {
        #(#attrs)*
        #vis #new_sig {
            #clone_executor
            #bind_self
            #submit
        }
    }
}

/// Renames `self` to `__coroutine_self` in a body, except in nested items (their `self` is
/// their own). Paths such as `self::module::f` are left alone.
struct SelfRenamer;

impl SelfRenamer {
    /// The replacement of one `self` token: the user's location, the macro's hygiene.
    fn renamed(original: Span) -> Ident {
        Ident::new("__coroutine_self", original.resolved_at(Span::mixed_site()))
    }

    /// Renames `self` tokens inside a macro's arguments, except before `::`.
    fn rename_tokens(tokens: TokenStream) -> TokenStream {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let mut out = Vec::with_capacity(tokens.len());
        for (i, token) in tokens.iter().enumerate() {
            let token = match token {
                TokenTree::Ident(ident) if ident == "self" && !followed_by_path_sep(&tokens, i) => {
                    TokenTree::Ident(Self::renamed(ident.span()))
                }
                TokenTree::Group(group) => {
                    let mut renamed =
                        Group::new(group.delimiter(), Self::rename_tokens(group.stream()));
                    renamed.set_span(group.span());
                    TokenTree::Group(renamed)
                }
                other => other.clone(),
            };
            out.push(token);
        }
        out.into_iter().collect()
    }
}

/// Whether `tokens[i]` is followed by `::`.
fn followed_by_path_sep(tokens: &[TokenTree], i: usize) -> bool {
    matches!(
        (tokens.get(i + 1), tokens.get(i + 2)),
        (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
            if a.as_char() == ':' && b.as_char() == ':'
    )
}

impl VisitMut for SelfRenamer {
    fn visit_expr_path_mut(&mut self, expr: &mut syn::ExprPath) {
        if expr.qself.is_none() && expr.path.is_ident("self") {
            let segment = &mut expr.path.segments[0];
            segment.ident = Self::renamed(segment.ident.span());
        }
    }

    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        mac.tokens = Self::rename_tokens(std::mem::take(&mut mac.tokens));
    }

    fn visit_item_mut(&mut self, _: &mut Item) {
        // A nested fn or impl has its own `self`.
    }
}
