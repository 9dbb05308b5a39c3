package main

import (
	"cmp"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/openrestore/portal/authn"
	"github.com/openrestore/portal/directory"
	"github.com/openrestore/portal/handlers"
	"github.com/openrestore/portal/internal/clock"
	"github.com/openrestore/portal/internal/totp"
	"github.com/openrestore/portal/restore"
	"github.com/openrestore/portal/vbazure"
	"github.com/openrestore/portal/veeamapi"
	"github.com/openrestore/portal/vmaccess"
)

// config is the portal's configuration: flags, each with a PORTAL_*
// environment variable as its default. Only this file reads either.
type config struct {
	Addr             string
	PublicURL        string
	VeeamURL         string
	VeeamCAFile      string
	VBAzureURL       string
	VBAzureCAFile    string
	VBAzureVersion   string
	VBAzureAccount   string
	VBAzurePassword  string // from PORTAL_VBAZURE_PASSWORD only: a flag would show in ps
	VBAzurePassFile  string
	VBAzureTOTP      string // from PORTAL_VBAZURE_TOTP_SECRET only
	VBAzureTOTPFile  string
	VMRulesFile      string
	FLRIdle          time.Duration
	FLRSweep         time.Duration
	GraphURL         string
	ClientID         string
	Authority        string
	ClientSecret     string // from PORTAL_CLIENT_SECRET only: a flag would show in ps
	ClientSecretFile string
	ClientCertFile   string
	ClientKeyFile    string
	APIScope         string
	DataDir          string
	DatabaseURL      string
	DatabasePassFile string
	SessionKeyFile   string
	IdleTimeout      time.Duration
	SessionLifetime  time.Duration
	TrustedProxies   string
	RestoreReason    string
	Auditors         string
	Admins           string
	LogFormat        string
	LogLevel         string
	ShutdownGrace    time.Duration
	DrainDelay       time.Duration
	MetricsAddr      string
	BreakerFailures  int
	BreakerCooldown  time.Duration
	RateSignIn       string
	RateSearch       string
	RateDownload     string
	RateRestore      string
	Demo             bool
	ClockStart       string
	PrintConfig      bool

	// Filled in by validate.
	publicURL   *url.URL
	veeamCAs    *x509.CertPool
	vbazureCAs  *x509.CertPool
	proxies     []netip.Prefix
	secretFrom  string
	databaseDSN string // the PostgreSQL URL with its password, from the file
	clockStart  time.Time
	reason      restore.Policy
	vmRules     []vmaccess.Rule
	limits      handlers.Limits
	otlpTraces  string // where spans go, from OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT; "" for nowhere
	serviceName string // OTEL_SERVICE_NAME
}

// parseConfig reads flags over environment defaults. Problems with values
// are collected for validate to report together.
func parseConfig(args []string, getenv func(string) string, out io.Writer) (*config, []string, error) {
	fs := flag.NewFlagSet("portal", flag.ContinueOnError)
	fs.SetOutput(out)
	var problems []string
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	duration := func(name string, def time.Duration) time.Duration {
		v := getenv(name)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s=%q is not a duration such as 30m or 8h", name, v))
			return def
		}
		return d
	}
	integer := func(name string, def int) int {
		v := getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s=%q is not a whole number", name, v))
			return def
		}
		return n
	}
	boolean := func(name string) bool {
		v := getenv(name)
		if v == "" {
			return false
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s=%q is not true or false", name, v))
		}
		return b
	}
	c := &config{ClientSecret: getenv("PORTAL_CLIENT_SECRET"), VBAzurePassword: getenv("PORTAL_VBAZURE_PASSWORD"),
		VBAzureTOTP: getenv("PORTAL_VBAZURE_TOTP_SECRET"), otlpTraces: otlpTracesURL(getenv), serviceName: getenv("OTEL_SERVICE_NAME")}
	fs.StringVar(&c.Addr, "addr", env("PORTAL_ADDR", "127.0.0.1:8080"), "listen address [PORTAL_ADDR]")
	fs.StringVar(&c.PublicURL, "public-url", env("PORTAL_PUBLIC_URL", ""), "the portal's address as browsers see it; default http://<addr> on a loopback address [PORTAL_PUBLIC_URL]")
	fs.StringVar(&c.VeeamURL, "veeam-url", env("PORTAL_VEEAM_URL", ""), "VB365 REST API server, e.g. https://vb365.example.com:4443 [PORTAL_VEEAM_URL]")
	fs.StringVar(&c.VeeamCAFile, "veeam-ca-file", env("PORTAL_VEEAM_CA_FILE", ""), "PEM bundle of CAs that sign the VB365 server's certificate; default the system roots [PORTAL_VEEAM_CA_FILE]")
	fs.StringVar(&c.VBAzureURL, "vbazure-url", env("PORTAL_VBAZURE_URL", ""), "Veeam Backup for Microsoft Azure server, e.g. https://vbazure.example.com; without it the portal serves VB365 only [PORTAL_VBAZURE_URL]")
	fs.StringVar(&c.VBAzureCAFile, "vbazure-ca-file", env("PORTAL_VBAZURE_CA_FILE", ""), "PEM bundle of CAs that sign the VBAzure server's certificate; default the system roots [PORTAL_VBAZURE_CA_FILE]")
	fs.StringVar(&c.VBAzureVersion, "vbazure-api-version", env("PORTAL_VBAZURE_API_VERSION", vbazure.DefaultVersion), "VBAzure REST API version: v8.1 or v8 [PORTAL_VBAZURE_API_VERSION]")
	fs.StringVar(&c.VBAzureAccount, "vbazure-account", env("PORTAL_VBAZURE_ACCOUNT", ""), "the VBAzure user (a Restore Operator) the portal restores Azure VMs' files with; without it there are no Azure VM restores [PORTAL_VBAZURE_ACCOUNT]")
	fs.StringVar(&c.VBAzurePassFile, "vbazure-password-file", env("PORTAL_VBAZURE_PASSWORD_FILE", ""), "file holding that account's password; or set PORTAL_VBAZURE_PASSWORD [PORTAL_VBAZURE_PASSWORD_FILE]")
	fs.StringVar(&c.VBAzureTOTPFile, "vbazure-totp-secret-file", env("PORTAL_VBAZURE_TOTP_SECRET_FILE", ""), "file holding the base32 secret of that account's MFA, from which the portal computes its codes; or set PORTAL_VBAZURE_TOTP_SECRET [PORTAL_VBAZURE_TOTP_SECRET_FILE]")
	fs.StringVar(&c.VMRulesFile, "vm-rules-file", env("PORTAL_VM_RULES_FILE", ""), "JSON file of rules of who may restore which Azure VM, applied at every start (administrators add more on the rules page) [PORTAL_VM_RULES_FILE]")
	fs.DurationVar(&c.FLRIdle, "flr-idle", duration("PORTAL_FLR_IDLE", 30*time.Minute), "stop an Azure VM's file-level restore session (and its worker VM) after this long without use [PORTAL_FLR_IDLE]")
	fs.DurationVar(&c.FLRSweep, "flr-sweep", duration("PORTAL_FLR_SWEEP", 30*time.Second), "how often the portal looks for file-level restore sessions to stop [PORTAL_FLR_SWEEP]")
	fs.StringVar(&c.GraphURL, "graph-url", env("PORTAL_GRAPH_URL", directory.DefaultURL), "Microsoft Graph, where administrators look people up to add them to VBAzure [PORTAL_GRAPH_URL]")
	fs.StringVar(&c.ClientID, "client-id", env("PORTAL_CLIENT_ID", ""), "Entra application id; default from VB365's Restore Portal settings [PORTAL_CLIENT_ID]")
	fs.StringVar(&c.Authority, "authority", env("PORTAL_AUTHORITY", ""), "Entra authority https://login.microsoftonline.com/<tenant id>; default from VB365's Restore Portal settings [PORTAL_AUTHORITY]")
	fs.StringVar(&c.ClientCertFile, "client-cert-file", env("PORTAL_CLIENT_CERT_FILE", ""), "PEM certificate the Entra application trusts, to sign in with instead of a client secret (private_key_jwt) [PORTAL_CLIENT_CERT_FILE]")
	fs.StringVar(&c.ClientKeyFile, "client-key-file", env("PORTAL_CLIENT_KEY_FILE", ""), "the certificate's PEM private key (RSA); default: in the certificate's file [PORTAL_CLIENT_KEY_FILE]")
	fs.StringVar(&c.APIScope, "api-scope", env("PORTAL_API_SCOPE", ""), "the scope of VB365's API the portal asks Entra for; default api://<application id>/access_as_user, for an application whose ID URI is another [PORTAL_API_SCOPE]")
	fs.StringVar(&c.ClientSecretFile, "client-secret-file", env("PORTAL_CLIENT_SECRET_FILE", ""), "file holding the Entra application's client secret; or set PORTAL_CLIENT_SECRET [PORTAL_CLIENT_SECRET_FILE]")
	fs.StringVar(&c.DataDir, "data-dir", env("PORTAL_DATA_DIR", "data"), "directory for the database (sessions, restore history) and the session key [PORTAL_DATA_DIR]")
	fs.StringVar(&c.DatabaseURL, "database-url", env("PORTAL_DATABASE_URL", ""), "PostgreSQL database several replicas share, postgres://user@host:5432/portal?sslmode=verify-full; default SQLite in the data directory (one replica) [PORTAL_DATABASE_URL]")
	fs.StringVar(&c.DatabasePassFile, "database-password-file", env("PORTAL_DATABASE_PASSWORD_FILE", ""), "file holding the database user's password, kept out of the URL [PORTAL_DATABASE_PASSWORD_FILE]")
	fs.StringVar(&c.SessionKeyFile, "session-key-file", env("PORTAL_SESSION_KEY_FILE", ""), "file of base64 session keys, current first; default <data-dir>/session.key, created if missing (required with PostgreSQL: every replica reads the same keys) [PORTAL_SESSION_KEY_FILE]")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", duration("PORTAL_IDLE_TIMEOUT", 30*time.Minute), "sign out after this long without use [PORTAL_IDLE_TIMEOUT]")
	fs.DurationVar(&c.SessionLifetime, "session-lifetime", duration("PORTAL_SESSION_LIFETIME", 8*time.Hour), "sign out this long after sign-in [PORTAL_SESSION_LIFETIME]")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", env("PORTAL_TRUSTED_PROXIES", ""), "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed [PORTAL_TRUSTED_PROXIES]")
	fs.StringVar(&c.RestoreReason, "restore-reason", env("PORTAL_RESTORE_REASON", "optional"), "when a restore needs a reason: always (or required), others (when restoring someone else's data), or never (optional) [PORTAL_RESTORE_REASON]")
	fs.StringVar(&c.Auditors, "auditors", env("PORTAL_AUDITORS", ""), "comma-separated Entra app roles (values) or group object ids whose members may read the audit trail; the demo uses Portal.Auditor [PORTAL_AUDITORS]")
	fs.StringVar(&c.Admins, "admins", env("PORTAL_ADMINS", ""), "comma-separated Entra app roles (values) or group object ids of the portal's administrators, who manage VBAzure's users; the demo uses Portal.Admin [PORTAL_ADMINS]")
	fs.StringVar(&c.LogFormat, "log-format", env("PORTAL_LOG_FORMAT", ""), "json or text; default json, text in demo mode [PORTAL_LOG_FORMAT]")
	fs.StringVar(&c.LogLevel, "log-level", env("PORTAL_LOG_LEVEL", "info"), "debug, info, warn or error [PORTAL_LOG_LEVEL]")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", duration("PORTAL_SHUTDOWN_GRACE", 15*time.Second), "how long in-flight requests may finish on shutdown [PORTAL_SHUTDOWN_GRACE]")
	fs.DurationVar(&c.DrainDelay, "drain-delay", duration("PORTAL_DRAIN_DELAY", defaultDrainDelay), "how long /readyz fails before shutdown starts, so that load balancers (which probe every few seconds) stop sending requests first; 0 in demo mode [PORTAL_DRAIN_DELAY]")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", env("PORTAL_METRICS_ADDR", ""), "serve Prometheus metrics at /metrics on this address (e.g. 0.0.0.0:9090) instead of on the portal's own [PORTAL_METRICS_ADDR]")
	fs.IntVar(&c.BreakerFailures, "breaker-failures", integer("PORTAL_BREAKER_FAILURES", 5), "failures in a row (no answer, timeouts, 502/503/504) after which calls to a backup server are refused at once [PORTAL_BREAKER_FAILURES]")
	fs.DurationVar(&c.BreakerCooldown, "breaker-cooldown", duration("PORTAL_BREAKER_COOLDOWN", 30*time.Second), "how long calls are refused before one probes whether the server is back [PORTAL_BREAKER_COOLDOWN]")
	fs.StringVar(&c.RateSignIn, "rate-signin", env("PORTAL_RATE_SIGNIN", "120/1m"), "requests per client address to the sign-in routes and pages before signing in, as COUNT/PERIOD, or off [PORTAL_RATE_SIGNIN]")
	fs.StringVar(&c.RateSearch, "rate-search", env("PORTAL_RATE_SEARCH", "60/1m"), "searches per person [PORTAL_RATE_SEARCH]")
	fs.StringVar(&c.RateDownload, "rate-download", env("PORTAL_RATE_DOWNLOAD", "30/1m"), "downloads and exports per person [PORTAL_RATE_DOWNLOAD]")
	fs.StringVar(&c.RateRestore, "rate-restore", env("PORTAL_RATE_RESTORE", "20/1m"), "restores started per person (a restore list run counts once) [PORTAL_RATE_RESTORE]")
	fs.BoolVar(&c.Demo, "demo", boolean("PORTAL_DEMO"), "run the demo stack: in-process fake Entra ID and fake VB365 [PORTAL_DEMO]")
	fs.StringVar(&c.ClockStart, "clock-start", env("PORTAL_CLOCK_START", ""), "for tests and demonstrations against the fakes: run as if the time were this RFC 3339 instant at start; refused with a VB365 server beyond loopback [PORTAL_CLOCK_START]")
	fs.BoolVar(&c.PrintConfig, "print-config", false, "print the configuration (secrets redacted) and exit")
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if c.Demo && getenv("PORTAL_DRAIN_DELAY") == "" && !flagSet(fs, "drain-delay") {
		c.DrainDelay = 0 // nothing balances the demo's load
	}
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Sprintf("unexpected arguments: %s", strings.Join(fs.Args(), " ")))
	}
	if getenv("PORTAL_SESSION_STORE") != "" {
		problems = append(problems, "PORTAL_SESSION_STORE is no longer read: sessions live in the database with everything else (SQLite in the data directory, or PostgreSQL with PORTAL_DATABASE_URL); remove it")
	}
	return c, problems, nil
}

var guid = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// validate checks everything and returns every problem, not just the first.
// It reads the secret and CA files and creates the data directory.
func (c *config) validate() []string {
	var p []string
	if host, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
		p = append(p, fmt.Sprintf("PORTAL_ADDR %q is not host:port", c.Addr))
	} else if c.PublicURL == "" && !veeamapi.IsLoopback(host) {
		p = append(p, "PORTAL_PUBLIC_URL is required when the portal listens beyond loopback (it is the address browsers use, e.g. https://restore.example.com)")
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			p = append(p, fmt.Sprintf("PORTAL_PUBLIC_URL %q must be an absolute URL such as https://restore.example.com", c.PublicURL))
		case u.Scheme == "http" && !veeamapi.IsLoopback(u.Hostname()):
			p = append(p, fmt.Sprintf("PORTAL_PUBLIC_URL %q must use https (http is accepted for loopback addresses only): the sign-in redirect and secure cookies need it", c.PublicURL))
		case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
			p = append(p, fmt.Sprintf("PORTAL_PUBLIC_URL %q must be scheme://host[:port] only: the portal serves from the root", c.PublicURL))
		default:
			u.Path = ""
			c.publicURL = u
		}
	}
	if c.VeeamURL == "" {
		p = append(p, "PORTAL_VEEAM_URL is required: the VB365 REST API server, e.g. https://vb365.example.com:4443")
	} else if _, err := veeamapi.CheckBaseURL(c.VeeamURL); err != nil {
		p = append(p, fmt.Sprintf("PORTAL_VEEAM_URL %q %v", c.VeeamURL, err))
	}
	if c.VeeamCAFile != "" {
		pem, err := os.ReadFile(c.VeeamCAFile)
		pool := x509.NewCertPool()
		switch {
		case err != nil:
			p = append(p, fmt.Sprintf("PORTAL_VEEAM_CA_FILE: %v", err))
		case !pool.AppendCertsFromPEM(pem):
			p = append(p, fmt.Sprintf("PORTAL_VEEAM_CA_FILE %s holds no PEM certificate", c.VeeamCAFile))
		default:
			c.veeamCAs = pool
		}
	}
	p = append(p, c.validateVBAzure()...)
	switch {
	case c.ClientCertFile != "" && (c.ClientSecret != "" || c.ClientSecretFile != ""):
		p = append(p, "set a client secret (PORTAL_CLIENT_SECRET_FILE or PORTAL_CLIENT_SECRET) or a certificate (PORTAL_CLIENT_CERT_FILE), not both")
	case c.ClientCertFile != "":
		if _, _, err := readCertificate(c.ClientCertFile, c.ClientKeyFile); err != nil {
			p = append(p, fmt.Sprintf("PORTAL_CLIENT_CERT_FILE: %v", err))
		}
		c.secretFrom = c.ClientCertFile
	case c.ClientKeyFile != "":
		p = append(p, "PORTAL_CLIENT_KEY_FILE is set without PORTAL_CLIENT_CERT_FILE")
	case c.ClientSecret != "" && c.ClientSecretFile != "":
		p = append(p, "set PORTAL_CLIENT_SECRET or PORTAL_CLIENT_SECRET_FILE, not both")
	case c.ClientSecretFile != "":
		b, err := os.ReadFile(c.ClientSecretFile)
		if err != nil {
			p = append(p, fmt.Sprintf("PORTAL_CLIENT_SECRET_FILE: %v", err))
		} else if c.ClientSecret = strings.TrimSpace(string(b)); c.ClientSecret == "" {
			p = append(p, fmt.Sprintf("PORTAL_CLIENT_SECRET_FILE %s is empty", c.ClientSecretFile))
		}
		c.secretFrom = c.ClientSecretFile
	case c.ClientSecret == "":
		p = append(p, "the Entra application's credential is required: set PORTAL_CLIENT_SECRET_FILE (or PORTAL_CLIENT_SECRET), or PORTAL_CLIENT_CERT_FILE")
	default:
		c.secretFrom = "PORTAL_CLIENT_SECRET"
	}
	if c.ClientID != "" && !guid.MatchString(c.ClientID) {
		p = append(p, fmt.Sprintf("PORTAL_CLIENT_ID %q is not an application id (a GUID)", c.ClientID))
	}
	if c.Authority != "" {
		if _, err := authn.CheckAuthority(c.Authority); err != nil {
			p = append(p, "PORTAL_AUTHORITY: "+err.Error())
		}
		c.Authority = authn.NormalizeAuthority(c.Authority)
	}
	if c.APIScope != "" {
		if err := authn.CheckAPIScope(c.APIScope); err != nil {
			p = append(p, "PORTAL_API_SCOPE: "+err.Error())
		}
	}
	p = append(p, c.validateDatabase()...)
	if c.DataDir == "" {
		p = append(p, "PORTAL_DATA_DIR must not be empty")
	} else if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		p = append(p, fmt.Sprintf("PORTAL_DATA_DIR: %v", err))
	}
	if c.IdleTimeout < time.Minute {
		p = append(p, fmt.Sprintf("PORTAL_IDLE_TIMEOUT %s is shorter than a minute", c.IdleTimeout))
	}
	if c.BreakerFailures < 1 {
		p = append(p, fmt.Sprintf("PORTAL_BREAKER_FAILURES %d must be at least 1", c.BreakerFailures))
	}
	if c.BreakerCooldown < time.Second {
		p = append(p, fmt.Sprintf("PORTAL_BREAKER_COOLDOWN %s is shorter than a second", c.BreakerCooldown))
	}
	for _, l := range []struct {
		name, value string
		into        *handlers.Limit
	}{{"PORTAL_RATE_SIGNIN", c.RateSignIn, &c.limits.SignIn}, {"PORTAL_RATE_SEARCH", c.RateSearch, &c.limits.Search},
		{"PORTAL_RATE_DOWNLOAD", c.RateDownload, &c.limits.Download}, {"PORTAL_RATE_RESTORE", c.RateRestore, &c.limits.Restore}} {
		limit, err := handlers.ParseLimit(l.value)
		if err != nil {
			p = append(p, fmt.Sprintf("%s: %v", l.name, err))
		}
		*l.into = limit
	}
	if c.SessionLifetime < c.IdleTimeout {
		p = append(p, fmt.Sprintf("PORTAL_SESSION_LIFETIME %s is shorter than PORTAL_IDLE_TIMEOUT %s", c.SessionLifetime, c.IdleTimeout))
	}
	for _, s := range strings.Split(c.TrustedProxies, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(s)
		if err != nil {
			p = append(p, fmt.Sprintf("PORTAL_TRUSTED_PROXIES: %q is not a CIDR such as 10.0.0.0/8", s))
			continue
		}
		c.proxies = append(c.proxies, prefix)
	}
	for _, l := range []struct{ name, value string }{{"PORTAL_AUDITORS", c.Auditors}, {"PORTAL_ADMINS", c.Admins}} {
		for _, a := range splitList(l.value) {
			if strings.ContainsFunc(a, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
				p = append(p, fmt.Sprintf("%s: %q is not an app role value or a group object id", l.name, a))
			}
		}
	}
	if policy, err := restore.ParsePolicy(c.RestoreReason); err != nil {
		p = append(p, "PORTAL_RESTORE_REASON "+err.Error())
	} else {
		c.reason = policy
	}
	switch c.LogFormat {
	case "", "json", "text":
	default:
		p = append(p, fmt.Sprintf("PORTAL_LOG_FORMAT %q must be json or text", c.LogFormat))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		p = append(p, fmt.Sprintf("PORTAL_LOG_LEVEL %q must be debug, info, warn or error", c.LogLevel))
	}
	if c.ShutdownGrace <= 0 {
		p = append(p, "PORTAL_SHUTDOWN_GRACE must be positive")
	}
	if t, err := clock.ParseStart(c.ClockStart); err != nil {
		p = append(p, "PORTAL_CLOCK_START: "+err.Error())
	} else if !t.IsZero() {
		if u, err := veeamapi.CheckBaseURL(c.VeeamURL); err == nil && !veeamapi.IsLoopback(u.Hostname()) {
			p = append(p, "PORTAL_CLOCK_START is for tests and demonstrations: it is refused with a VB365 server beyond loopback")
		}
		if u, err := vbazure.CheckBaseURL(c.VBAzureURL); err == nil && c.VBAzureURL != "" && !veeamapi.IsLoopback(u.Hostname()) {
			p = append(p, "PORTAL_CLOCK_START is for tests and demonstrations: it is refused with a VBAzure server beyond loopback")
		}
		c.clockStart = t
	}
	return p
}

// validateDatabase checks the database settings: none (SQLite in the data
// directory), or a PostgreSQL URL whose password is in a file or the URL,
// and then session keys every replica reads from one file.
func (c *config) validateDatabase() []string {
	var p []string
	if c.DatabaseURL == "" {
		if c.DatabasePassFile != "" {
			p = append(p, "PORTAL_DATABASE_PASSWORD_FILE is set without PORTAL_DATABASE_URL")
		}
		return p
	}
	u, err := url.Parse(c.DatabaseURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" || u.Path == "" || u.Path == "/" {
		return append(p, fmt.Sprintf("PORTAL_DATABASE_URL %q must be a PostgreSQL URL such as postgres://portal@db.example.com:5432/portal?sslmode=verify-full", c.databaseShown()))
	}
	_, inURL := u.User.Password()
	switch {
	case c.DatabasePassFile != "" && inURL:
		p = append(p, "the database password is both in PORTAL_DATABASE_URL and in PORTAL_DATABASE_PASSWORD_FILE: keep it in the file only")
	case c.DatabasePassFile != "":
		b, err := os.ReadFile(c.DatabasePassFile)
		pw := strings.TrimRight(string(b), "\r\n")
		switch {
		case err != nil:
			p = append(p, fmt.Sprintf("PORTAL_DATABASE_PASSWORD_FILE: %v", err))
		case pw == "":
			p = append(p, fmt.Sprintf("PORTAL_DATABASE_PASSWORD_FILE %s is empty", c.DatabasePassFile))
		default:
			name := "portal"
			if u.User != nil {
				name = u.User.Username()
			}
			u.User = url.UserPassword(name, pw)
			c.databaseDSN = u.String()
		}
	default:
		c.databaseDSN = c.DatabaseURL
	}
	if c.SessionKeyFile == "" {
		p = append(p, "PORTAL_SESSION_KEY_FILE is required with PostgreSQL: every replica must seal sessions with the same keys, so they come from one file (make one with: head -c 32 /dev/urandom | base64)")
	} else if _, err := os.Stat(c.SessionKeyFile); err != nil {
		p = append(p, fmt.Sprintf("PORTAL_SESSION_KEY_FILE: %v (with PostgreSQL the portal does not create keys: every replica must read the same ones)", err))
	}
	return p
}

// databaseShown is the database setting without its password.
func (c *config) databaseShown() string {
	if c.DatabaseURL == "" {
		return "sqlite: " + filepath.Join(c.DataDir, "portal.db")
	}
	u, err := url.Parse(c.DatabaseURL)
	if err != nil {
		return "(unreadable URL)"
	}
	return u.Redacted()
}

// auditors lists PORTAL_AUDITORS.
func (c *config) auditors() []string { return splitList(c.Auditors) }

// admins lists PORTAL_ADMINS.
func (c *config) admins() []string { return splitList(c.Admins) }

// splitList reads a comma-separated list.
func splitList(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// validateVBAzure checks the Veeam Backup for Microsoft Azure settings and
// the Graph address administrators look people up at.
func (c *config) validateVBAzure() []string {
	var p []string
	if c.VBAzureURL != "" {
		if _, err := vbazure.CheckBaseURL(c.VBAzureURL); err != nil {
			p = append(p, fmt.Sprintf("PORTAL_VBAZURE_URL %q %v", c.VBAzureURL, err))
		}
	} else if c.VBAzureCAFile != "" {
		p = append(p, "PORTAL_VBAZURE_CA_FILE is set without PORTAL_VBAZURE_URL")
	}
	if c.VBAzureCAFile != "" {
		pem, err := os.ReadFile(c.VBAzureCAFile)
		pool := x509.NewCertPool()
		switch {
		case err != nil:
			p = append(p, fmt.Sprintf("PORTAL_VBAZURE_CA_FILE: %v", err))
		case !pool.AppendCertsFromPEM(pem):
			p = append(p, fmt.Sprintf("PORTAL_VBAZURE_CA_FILE %s holds no PEM certificate", c.VBAzureCAFile))
		default:
			c.vbazureCAs = pool
		}
	}
	if !slices.Contains(vbazure.Versions, c.VBAzureVersion) {
		p = append(p, fmt.Sprintf("PORTAL_VBAZURE_API_VERSION %q must be one of %s", c.VBAzureVersion, strings.Join(vbazure.Versions, ", ")))
	}
	if _, err := directory.New(c.GraphURL, nil); err != nil {
		p = append(p, fmt.Sprintf("PORTAL_GRAPH_URL: %v", err))
	}
	return append(p, c.validateVMRestores()...)
}

// validateVMRestores checks the service account Azure VMs' files are
// restored with, and the rules file.
func (c *config) validateVMRestores() []string {
	var p []string
	fromFile := func(value *string, file, name string) {
		switch {
		case *value != "" && file != "":
			p = append(p, fmt.Sprintf("set %s or %s_FILE, not both", name, name))
		case file != "":
			b, err := os.ReadFile(file)
			if err != nil {
				p = append(p, fmt.Sprintf("%s_FILE: %v", name, err))
			} else if *value = strings.TrimRight(string(b), "\r\n"); *value == "" {
				p = append(p, fmt.Sprintf("%s_FILE %s is empty", name, file))
			}
		}
	}
	fromFile(&c.VBAzurePassword, c.VBAzurePassFile, "PORTAL_VBAZURE_PASSWORD")
	fromFile(&c.VBAzureTOTP, c.VBAzureTOTPFile, "PORTAL_VBAZURE_TOTP_SECRET")
	switch {
	case c.VBAzureAccount == "":
		if c.VBAzurePassword != "" || c.VBAzureTOTP != "" || c.VMRulesFile != "" {
			p = append(p, "PORTAL_VBAZURE_ACCOUNT is required with a VBAzure password, MFA secret or rules file: the account the portal restores Azure VMs' files with")
		}
		return p
	case c.VBAzureURL == "":
		p = append(p, "PORTAL_VBAZURE_ACCOUNT is set without PORTAL_VBAZURE_URL")
	case c.VBAzurePassword == "":
		p = append(p, "the VBAzure account's password is required: set PORTAL_VBAZURE_PASSWORD_FILE (or PORTAL_VBAZURE_PASSWORD)")
	}
	if c.VBAzureTOTP != "" {
		if _, err := totp.Key(c.VBAzureTOTP); err != nil {
			p = append(p, "PORTAL_VBAZURE_TOTP_SECRET: the secret is not base32 of at least 16 characters, as VBAzure shows it when MFA is set up")
		}
	}
	if c.FLRIdle < time.Minute || c.FLRIdle > 24*time.Hour {
		p = append(p, fmt.Sprintf("PORTAL_FLR_IDLE %s must be between a minute and a day", c.FLRIdle))
	}
	if c.FLRSweep <= 0 || c.FLRSweep > c.FLRIdle {
		p = append(p, fmt.Sprintf("PORTAL_FLR_SWEEP %s must be positive and no longer than PORTAL_FLR_IDLE", c.FLRSweep))
	}
	if c.VMRulesFile != "" {
		b, err := os.ReadFile(c.VMRulesFile)
		if err == nil {
			c.vmRules, err = vmaccess.ParseFile(b)
		}
		if err != nil {
			p = append(p, fmt.Sprintf("PORTAL_VM_RULES_FILE %s: %v", c.VMRulesFile, err))
		}
	}
	return p
}

// sessionKeyFile is where the session keys live.
func (c *config) sessionKeyFile() string {
	if c.SessionKeyFile != "" {
		return c.SessionKeyFile
	}
	return filepath.Join(c.DataDir, "session.key")
}

// print writes the configuration with the secret redacted.
func (c *config) print(w io.Writer) {
	secret := redacted(c.ClientSecret)
	rows := [][2]string{
		{"addr", c.Addr}, {"public-url", c.PublicURL}, {"veeam-url", c.VeeamURL}, {"veeam-ca-file", c.VeeamCAFile},
		{"vbazure-url", c.VBAzureURL}, {"vbazure-ca-file", c.VBAzureCAFile}, {"vbazure-api-version", c.VBAzureVersion},
		{"vbazure-account", c.VBAzureAccount}, {"vbazure-password", redacted(c.VBAzurePassword)},
		{"vbazure-password-file", c.VBAzurePassFile}, {"vbazure-totp-secret", redacted(c.VBAzureTOTP)},
		{"vbazure-totp-secret-file", c.VBAzureTOTPFile}, {"vm-rules-file", c.VMRulesFile}, {"flr-idle", c.FLRIdle.String()}, {"flr-sweep", c.FLRSweep.String()},
		{"graph-url", c.GraphURL}, {"admins", c.Admins},
		{"client-id", c.ClientID}, {"authority", c.Authority}, {"api-scope", c.APIScope}, {"client-secret", secret},
		{"client-secret-file", c.ClientSecretFile}, {"client-cert-file", c.ClientCertFile}, {"client-key-file", c.ClientKeyFile}, {"data-dir", c.DataDir}, {"database", c.databaseShown()},
		{"database-password-file", c.DatabasePassFile},
		{"session-key-file", c.sessionKeyFile()}, {"idle-timeout", c.IdleTimeout.String()},
		{"session-lifetime", c.SessionLifetime.String()}, {"trusted-proxies", c.TrustedProxies},
		{"restore-reason", c.RestoreReason}, {"auditors", c.Auditors},
		{"log-format", c.LogFormat}, {"log-level", c.LogLevel}, {"shutdown-grace", c.ShutdownGrace.String()},
		{"drain-delay", c.DrainDelay.String()}, {"metrics-addr", c.MetricsAddr}, {"breaker-failures", strconv.Itoa(c.BreakerFailures)},
		{"breaker-cooldown", c.BreakerCooldown.String()}, {"rate-signin", c.RateSignIn}, {"rate-search", c.RateSearch},
		{"rate-download", c.RateDownload}, {"rate-restore", c.RateRestore}, {"otlp-traces", cmp.Or(c.otlpTraces, "(off)")},
		{"demo", strconv.FormatBool(c.Demo)}, {"clock-start", c.ClockStart},
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%-20s %s\n", r[0], r[1])
	}
}

// redacted says whether a secret is set, never what it is.
func redacted(secret string) string {
	if secret == "" {
		return "(not set)"
	}
	return "(set, redacted)"
}

// errConfig reports invalid configuration, every problem on its own line.
type errConfig []string

func (e errConfig) Error() string {
	return "invalid configuration:\n  - " + strings.Join(e, "\n  - ")
}

// defaultDrainDelay outlasts two failed probes of a load balancer that
// probes /readyz every five seconds (Kubernetes probes every ten, and
// acts on the first failure with failureThreshold 1).
const defaultDrainDelay = 10 * time.Second

// flagSet reports whether the command line set the named flag.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
