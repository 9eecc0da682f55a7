//! The arguments of `#[coroutine(…)]`, and the argument-list parsing it shares with
//! `#[run_on_executor(…)]`.

use proc_macro2::Ident;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{Path, Token};

/// What `#[coroutine(…)]` was asked for.
pub(crate) struct Args {
    /// `lazy`: start on first poll instead of at the call, and skip the allocation.
    pub(crate) lazy: bool,
    /// `crate = path`: where `coroutine_runtime` is reachable from the user's crate.
    pub(crate) krate: Path,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            lazy: false,
            krate: runtime_path(),
        }
    }
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args::default();
        let mut seen_lazy = false;
        parse_list(input, &mut args.krate, |ident, _| {
            if ident != "lazy" {
                return Err(syn::Error::new_spanned(
                    &ident,
                    format!(
                        "unknown `coroutine` argument `{ident}`; expected `lazy` or `crate = path`"
                    ),
                ));
            }
            given_once(&mut seen_lazy, &ident)?;
            args.lazy = true;
            Ok(())
        })?;
        Ok(args)
    }
}

/// `::coroutine_runtime`, the runtime's path when no `crate = path` is given.
pub(crate) fn runtime_path() -> Path {
    syn::parse_quote!(::coroutine_runtime)
}

/// Parses a comma-separated argument list (a trailing comma allowed). `crate = path` is handled
/// here: given at most once, it is stored in `krate`. Every other argument is handed to
/// `argument` by its name, with `input` just after the name, to parse the rest of it.
pub(crate) fn parse_list(
    input: ParseStream<'_>,
    krate: &mut Path,
    mut argument: impl FnMut(Ident, ParseStream<'_>) -> syn::Result<()>,
) -> syn::Result<()> {
    let mut seen_crate = false;
    while !input.is_empty() {
        if input.peek(Token![crate]) {
            let token: Token![crate] = input.parse()?;
            given_once(&mut seen_crate, token)?;
            input.parse::<Token![=]>()?;
            *krate = input.call(Path::parse_mod_style)?;
        } else {
            let ident = input.call(Ident::parse_any)?;
            argument(ident, input)?;
        }
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    Ok(())
}

/// Records that the argument named by `name` was given; an error at `name` if it was already.
pub(crate) fn given_once(seen: &mut bool, name: impl ToTokens) -> syn::Result<()> {
    if std::mem::replace(seen, true) {
        let text = name.to_token_stream().to_string();
        return Err(syn::Error::new_spanned(
            name,
            format!("duplicate `{text}` argument; give it once"),
        ));
    }
    Ok(())
}
