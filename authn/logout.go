package authn

import (
	"context"
	"net/url"
)

// SignOut ends the session: the VB365 token pair is revoked (best effort,
// with a timeout) and the session destroyed. It returns where to send the
// browser: Entra's end-session endpoint, which returns it to the configured
// post-logout address; no request parameter can change either.
func (a *Authenticator) SignOut(ctx context.Context) string {
	st := a.load(ctx)
	if st.User != nil {
		a.log.InfoContext(ctx, "session_logout", "oid", st.User.OID, "tid", st.User.TenantID)
	}
	a.end(ctx, st)
	p, err := a.provider(ctx)
	if err != nil || p.endSession == "" {
		return a.cfg.PostLogoutRedirectURL
	}
	u, err := url.Parse(p.endSession)
	if err != nil {
		return a.cfg.PostLogoutRedirectURL
	}
	q := u.Query()
	q.Set("client_id", p.clientID)
	q.Set("post_logout_redirect_uri", a.cfg.PostLogoutRedirectURL)
	if st.LoginHint != "" {
		q.Set("logout_hint", st.LoginHint) // Entra signs this account out without asking which
	}
	u.RawQuery = q.Encode()
	return u.String()
}
