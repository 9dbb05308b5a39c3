package fakeentra

import (
	"html/template"
	"net/http"
	"net/url"
)

// logout is the end-session endpoint. Like Entra, it returns the browser to
// post_logout_redirect_uri only when that address is one the application may
// use; otherwise it shows its own "signed out" page.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, http.StatusBadRequest, 900144, "The request could not be read.")
		return
	}
	target := r.Form.Get("post_logout_redirect_uri")
	s.mu.Lock()
	s.logouts = append(s.logouts, Logout{
		ClientID: r.Form.Get("client_id"), PostLogoutRedirectURI: target,
		LogoutHint: r.Form.Get("logout_hint"), IDTokenHint: r.Form.Get("id_token_hint") != "",
	})
	s.mu.Unlock()
	if target != "" && s.redirectAllowed(target) {
		params := url.Values{}
		if st := r.Form.Get("state"); st != "" {
			params.Set("state", st)
		}
		redirectWith(w, r, target, params)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	signedOutTemplate.Execute(w, nil)
}

var signedOutTemplate = template.Must(template.New("signedout").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign out</title>
<style>` + pageStyle + `</style>
</head>
<body>
<main>
<h1>You signed out of your account</h1>
<p class="note">It's a good idea to close all browser windows.</p>
</main>
</body>
</html>
`))
