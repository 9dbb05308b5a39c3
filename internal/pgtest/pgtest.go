// Package pgtest runs a throwaway PostgreSQL server for a test binary: a
// new cluster in a temporary directory, on a free port of 127.0.0.1, run
// by an unprivileged user (postgres refuses root), stopped and removed when
// the tests end. Each test gets an empty database of its own, owned by an
// ordinary role with a password, as the portal's would be.
//
// Tests that need it skip when PostgreSQL is not installed, unless
// PG_REQUIRED=1 (make test sets it, after installing Debian's postgresql).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openrestore/portal/internal/wait"
)

// Role is the ordinary role that owns the test databases.
const Role = "portal"

// Server is a running throwaway cluster.
type Server struct {
	dir      string
	port     int
	cmd      *exec.Cmd
	exited   chan struct{}
	admin    string // the superuser's password
	password string // Role's
	pwFile   string // a file holding Role's password, readable by the tests
}

var (
	mu      sync.Mutex
	shared  *Server
	tried   bool
	failure error
)

// Shared returns the test binary's server, starting it on first use. It
// skips the test when PostgreSQL is not installed, and fails it instead
// when PG_REQUIRED=1.
func Shared(t testing.TB) *Server {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if !tried {
		tried = true
		shared, failure = start()
	}
	switch {
	case errors.Is(failure, errNotInstalled) && os.Getenv("PG_REQUIRED") != "1":
		t.Skipf("%v; make test installs it", failure)
	case failure != nil:
		t.Fatalf("pgtest: %v", failure)
	}
	return shared
}

// Main runs the tests, then stops the server if one was started. Use it
// in TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	if shared != nil {
		shared.stop()
		shared = nil
	}
	return code
}

var errNotInstalled = errors.New("PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin or on PATH)")

// binDir finds the newest installed server's programs.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errNotInstalled
}

// runAs is who runs the server: the current user, or when that is root
// (which postgres refuses), the postgres user the package made, or nobody.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root, and there is no postgres or nobody user to run the server as")
}

func secret() string {
	b := make([]byte, 18)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func start() (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, admin: secret(), password: secret(), exited: make(chan struct{})}
	fail := func(err error) (*Server, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	adminFile := filepath.Join(dir, "admin.pw")
	if err := os.WriteFile(adminFile, []byte(s.admin+"\n"), 0o600); err != nil {
		return fail(err)
	}
	s.pwFile = filepath.Join(dir, "portal.pw")
	if err := os.WriteFile(s.pwFile, []byte(s.password+"\n"), 0o600); err != nil {
		return fail(err)
	}
	if cred != nil {
		for _, p := range []string{dir, adminFile} {
			if err := os.Chown(p, int(cred.Uid), int(cred.Gid)); err != nil {
				return fail(err)
			}
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--pwfile", adminFile,
		"--auth", "scram-sha-256", "-E", "UTF8", "--no-locale", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %v\n%s", err, out))
	}
	for attempt := 0; ; attempt++ {
		err := s.run(bin, data, cred)
		if err == nil {
			break
		}
		if attempt == 2 {
			return fail(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, s.url("postgres", s.admin, "postgres"))
	if err != nil {
		s.stop()
		return nil, err
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, fmt.Sprintf(`CREATE ROLE %s LOGIN PASSWORD '%s'`, Role, s.password)); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// run starts postgres on a free port and waits until it answers.
func (s *Server) run(bin, data string, cred *syscall.Credential) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	// Durability is not what a test is for: no fsync, no full pages.
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(s.port), "-k", s.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300", "-c", "shared_buffers=64MB", "-c", "log_min_messages=fatal")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	cmd.Dir = s.dir
	log, err := os.Create(filepath.Join(s.dir, "server.log"))
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); log.Close(); close(exited) }()
	ready := wait.Until(time.Minute, func() bool {
		select {
		case <-exited:
			return true
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, s.url("postgres", s.admin, "postgres"))
		if err != nil {
			return false
		}
		c.Close(ctx)
		return true
	})
	select {
	case <-exited:
		out, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
		return fmt.Errorf("postgres stopped at start:\n%s", out)
	default:
	}
	if !ready {
		cmd.Process.Kill()
		<-exited
		return errors.New("postgres did not answer within a minute")
	}
	s.cmd, s.exited = cmd, exited
	return nil
}

// stop shuts the server down (fast: open sessions are ended) and removes it.
func (s *Server) stop() {
	if s.cmd != nil {
		s.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.exited:
		case <-time.After(30 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
		}
	}
	os.RemoveAll(s.dir)
}

func (s *Server) url(role, password, db string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(role, password), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)),
		Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// Database creates an empty database owned by Role, dropped when the test
// ends, and returns its URL, password included.
func (s *Server) Database(t testing.TB) string {
	t.Helper()
	name := "t_" + secret()[:16]
	s.Admin(t, "postgres", fmt.Sprintf(`CREATE DATABASE %s OWNER %s`, name, Role))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, s.url("postgres", s.admin, "postgres")); err == nil {
			c.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name))
			c.Close(ctx)
		}
	})
	return s.url(Role, s.password, name)
}

// WithoutPassword is a database URL without its password, and a file that
// holds it: how the portal is told in production (PORTAL_DATABASE_URL and
// PORTAL_DATABASE_PASSWORD_FILE).
func (s *Server) WithoutPassword(dsn string) (string, string) {
	u, err := url.Parse(dsn)
	if err != nil {
		panic(err)
	}
	u.User = url.User(u.User.Username())
	return u.String(), s.pwFile
}

// Admin runs a statement as the superuser in database db.
func (s *Server) Admin(t testing.TB, db, statement string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, s.url("postgres", s.admin, db))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, statement); err != nil {
		t.Fatalf("%s: %v", statement, err)
	}
}

// DatabaseName is the database of a URL Database returned.
func DatabaseName(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return ""
	}
	return u.Path[1:]
}
