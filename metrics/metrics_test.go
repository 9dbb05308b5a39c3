package metrics

import "testing"

func TestOperation(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/v8/RestoreSessions/5f0e0c2a-6c1e-4a55-8a36-9a1f0f3f0b1e/Organization/Mailboxes/AAMkAGI2TG93AAA=/Items": "/v8/RestoreSessions/{id}/Organization/Mailboxes/{id}/Items",
		"/v8/Organization/LoggedInUser/EffectiveScope":                                                           "/v8/Organization/LoggedInUser/EffectiveScope",
		"/v8/token": "/v8/token",
		"/api/v8.1/virtualMachines/0b1c3f5e-3c0a-4a8e-9d6f-5b2e7a1c9d40/restorePoints":    "/api/v8.1/virtualMachines/{id}/restorePoints",
		"/api/v8.1/flr/sessions/abc123/browse":                                            "/api/v8.1/flr/sessions/{id}/browse",
		"/v8/RestoreSessions/x/Organization/Sites/QUJDREVGR0hJSktMTU5PUFFSU1RVVldY/Lists": "/v8/RestoreSessions/x/Organization/Sites/{id}/Lists",
		"/v8/RestoreSessions/x/Organization/Mailboxes/ABCDEFGHIJ/Items":                   "/v8/RestoreSessions/x/Organization/Mailboxes/{id}/Items",
		"/v8/Jobs/Adele%20Vance/Action":                                                   "/v8/Jobs/{id}/Action",
	} {
		if got := Operation(in); got != want {
			t.Errorf("Operation(%q) = %q, want %q", in, got, want)
		}
	}
}
