// Per-destination Request-URI user rewriting: siplb's `strip=` and `prefix=` attributes, for
// carriers that want a technical prefix or no national prefix (DISPATCHER.md, Attributes). Kamailio
// has no equivalent in the dispatcher; its scripts do it with strip()/prefix() after selection, in
// that order, which is the order here.

/** A destination (its attrs), or just the two values, e.g. from a route target. */
export type UserRewrite =
  | { readonly attrs: { readonly strip: number; readonly prefix: string | undefined } }
  | { readonly strip: number; readonly prefix?: string | undefined };

function parts(dest: UserRewrite): { strip: number; prefix: string } {
  const a = 'attrs' in dest ? dest.attrs : dest;
  return { strip: a.strip, prefix: a.prefix ?? '' };
}

/**
 * The Request-URI user for `dest`: the first `strip` characters removed, then `prefix` put in
 * front. A URI without a user stays without one (there is no number to prefix).
 */
export function rewriteUser(user: string | undefined, dest: UserRewrite): string | undefined {
  if (user === undefined) return undefined;
  const { strip, prefix } = parts(dest);
  return prefix + (strip > 0 ? user.slice(strip) : user);
}

/** True when rewriteUser can change anything for `dest`: lets the proxy skip the URI rebuild. */
export function rewritesUser(dest: UserRewrite): boolean {
  const { strip, prefix } = parts(dest);
  return strip > 0 || prefix !== '';
}
