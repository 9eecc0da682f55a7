//! The arguments of `#[coroutine(…)]`.

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
            krate: syn::parse_quote!(::coroutine_runtime),
        }
    }
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args::default();
        let mut seen_lazy = false;
        let mut seen_crate = false;
        while !input.is_empty() {
            if input.peek(Token![crate]) {
                let token: Token![crate] = input.parse()?;
                if seen_crate {
                    return Err(syn::Error::new_spanned(
                        token,
                        "duplicate `crate` argument; give it once",
                    ));
                }
                input.parse::<Token![=]>()?;
                args.krate = input.call(Path::parse_mod_style)?;
                seen_crate = true;
            } else {
                let ident: syn::Ident = input.call(syn::ext::IdentExt::parse_any)?;
                if ident != "lazy" {
                    return Err(syn::Error::new_spanned(
                        &ident,
                        format!(
                            "unknown `coroutine` argument `{ident}`; expected `lazy` or `crate = path`"
                        ),
                    ));
                }
                if seen_lazy {
                    return Err(syn::Error::new_spanned(
                        ident,
                        "duplicate `lazy` argument; give it once",
                    ));
                }
                args.lazy = true;
                seen_lazy = true;
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(args)
    }
}
