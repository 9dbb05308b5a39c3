package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeveeam"
	"github.com/openrestore/portal/internal/balancer"
	"github.com/openrestore/portal/internal/pgtest"
	"github.com/openrestore/portal/internal/wait"
)

// replicaSet is two portal processes on one PostgreSQL database behind a
// round-robin proxy, with their session keys in one file.
type replicaSet struct {
	t        *testing.T
	s        *stack
	bin      string
	dsn      string
	keyFile  string
	proxy    *balancer.Balancer
	replicas []*portalProcess
}

func startReplicas(t *testing.T, o stackOptions) *replicaSet {
	t.Helper()
	pg := pgtest.Shared(t)
	dsn := pg.Database(t)
	dbURL, pwFile := pg.WithoutPassword(dsn)
	rs := &replicaSet{t: t, dsn: dsn, keyFile: filepath.Join(t.TempDir(), "session.key")}
	rs.writeKeys(newKey())
	// The replicas' public URL is the balancer's: its address comes first.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	front := "http://" + ln.Addr().String()
	o.env = merge(o.env, map[string]string{"PORTAL_DATABASE_URL": dbURL, "PORTAL_DATABASE_PASSWORD_FILE": pwFile,
		"PORTAL_SESSION_KEY_FILE": rs.keyFile, "PORTAL_PUBLIC_URL": front, "PORTAL_AUDITORS": demotenant.AuditorRole})
	rs.s = startFakes(t, o)
	rs.s.url = front
	rs.bin = buildPortal(t)
	var addrs []string
	for range 2 {
		p := rs.s.startProcess(rs.bin, t.TempDir(), false)
		rs.replicas = append(rs.replicas, p)
		addrs = append(addrs, p.addr)
	}
	rs.proxy = balancer.New(addrs...)
	srv := &http.Server{Handler: rs.proxy}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return rs
}

func merge(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func newKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// writeKeys replaces the key file: the current key first, then retired ones.
func (rs *replicaSet) writeKeys(keys ...string) {
	if err := os.WriteFile(rs.keyFile, []byte(strings.Join(keys, "\n")+"\n"), 0o600); err != nil {
		rs.t.Fatal(err)
	}
}

// replace starts a new process in replica i's place, as a rolling upgrade
// does: the old one stops first (unless it died), its address leaves the
// proxy, the new one's joins.
func (rs *replicaSet) replace(i int) {
	rs.t.Helper()
	rs.replicas[i].stop(rs.t)
	p := rs.s.startProcess(rs.bin, rs.t.TempDir(), false)
	rs.replicas[i] = p
	rs.proxy.Replace(i, p.addr)
}

// query reads one value from the database.
func (rs *replicaSet) query(q string, args ...any) string {
	rs.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, rs.dsn)
	if err != nil {
		rs.t.Fatal(err)
	}
	defer c.Close(ctx)
	var v string
	if err := c.QueryRow(ctx, q, args...).Scan(&v); err != nil {
		rs.t.Fatalf("%s: %v", q, err)
	}
	return v
}

// TestTwoReplicasOnOneDatabase: a person signs in through one replica and
// browses and restores through the other; two tabs fill the restore list
// at once through both and nothing is lost; the replica watching a restore
// dies in the middle of a look and the other records the end, once; the
// session key is rotated replica by replica without signing anyone out.
func TestTwoReplicasOnOneDatabase(t *testing.T) {
	t.Parallel()
	rs := startReplicas(t, stackOptions{veeam: fakeveeam.Options{RestoreItemDuration: 10 * time.Minute}})
	s := rs.s

	// Visitors leave nothing in the database.
	anon := s.browser()
	anon.get("/")
	anon.get("/auth/login?return_to=/restores")
	if n := rs.query(`SELECT (SELECT count(*) FROM sessions) + (SELECT count(*) FROM sign_ins)`); n != "0" {
		t.Errorf("visitors left %s rows", n)
	}

	rs.proxy.Pin(0)
	b := s.signedIn(adele)
	rs.proxy.Pin(1)
	before := rs.proxy.Served(1)
	sid, _ := b.explore("exchange")
	m := b.openMailbox(sid, "Adele Vance")
	rows := rowsOf(t, m.page)
	if len(rows) < 13 {
		t.Fatalf("%d items in the Inbox", len(rows))
	}
	id := restoreID(t, b.attemptRestore(m.base, url.Values{"scope": {"selected"}, "item": {rows[0].key}},
		url.Values{"target": {"original"}, "changed": {"1"}}))
	if rs.proxy.Served(0) == 0 || rs.proxy.Served(1)-before < 5 {
		t.Errorf("replica A served %d requests, B %d", rs.proxy.Served(0), rs.proxy.Served(1)-before)
	}

	// Two tabs add to the restore list at once, through both replicas.
	rs.proxy.Pin(-1)
	var wg sync.WaitGroup
	for _, r := range rows[1:13] {
		wg.Go(func() {
			if resp := b.post(m.base+"/restore-list", url.Values{"item": {r.key}}); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("add %s: %d", r.subject, resp.StatusCode)
			}
		})
	}
	wg.Wait()
	if n := b.get("/restore-list").doc(t).Find(`input[name="remove"]`).Length(); n != 12 {
		t.Errorf("%d of 12 items on the list", n)
	}

	// The replica looking at the restore hangs in the look, holding it, and dies.
	session := rs.query(`SELECT session_id FROM restore_records WHERE id = $1`, id)
	lookPath := "/v8/RestoreSessions/" + session
	s.veeam.Inject(fakeveeam.Fault{Method: http.MethodGet, Path: lookPath, Hang: true, Times: 1})
	wait.For(t, "a replica to look at the restore", func() bool { return s.veeam.InFlight(http.MethodGet, lookPath) == 1 })
	owner := rs.query(`SELECT lease_owner FROM restore_records WHERE id = $1`, id)
	dead, alive := -1, -1
	for i, p := range rs.replicas {
		if p.replica == owner {
			dead, alive = i, 1-i
		}
	}
	if dead < 0 {
		t.Fatalf("the restore is held by %q, which is no replica", owner)
	}
	rs.replicas[dead].kill(t)
	rs.proxy.Pin(alive)
	s.clock.Advance(15 * time.Minute) // the restore's one item is done
	wait.For(t, "the other replica to record the end", func() bool {
		return rs.query(`SELECT state FROM restore_records WHERE id = $1`, id) == "ended"
	})
	if n := rs.query(`SELECT count(*) FROM audit_events WHERE restore_id = $1 AND outcome = 'succeeded'`, id); n != "1" {
		t.Errorf("the end is in the trail %s times", n)
	}
	if n := strings.Count(rs.replicas[alive].logs.String(), `"msg":"restore_ended"`); n != 1 {
		t.Errorf("the live replica recorded %d ends", n)
	}
	if strings.Contains(rs.replicas[dead].logs.String(), `"msg":"restore_ended"`) {
		t.Error("the dead replica recorded the end")
	}
	if st := b.get("/restores/" + id).doc(t).Find(".status").Text(); !strings.Contains(st, "Finished") {
		t.Errorf("the restore's page says %q", st)
	}

	// A new key, rolled out replica by replica: nobody is signed out.
	rs.replace(dead)
	rs.proxy.Pin(-1)
	old := strings.TrimSpace(readFile(t, rs.keyFile))
	rs.writeKeys(newKey(), old)
	for i := range rs.replicas {
		rs.replace(i)
		for range 2 {
			if r := b.get("/restore-list"); r.StatusCode != http.StatusOK {
				t.Fatalf("after replacing replica %d: %d", i, r.StatusCode)
			}
		}
	}
	if n := b.get("/restore-list").doc(t).Find(`input[name="remove"]`).Length(); n != 12 {
		t.Errorf("%d items on the list after the rotation", n)
	}
	// The old key retired: sessions sealed with it end, new ones work.
	rs.writeKeys(strings.Split(readFile(t, rs.keyFile), "\n")[0])
	for i := range rs.replicas {
		rs.replace(i)
	}
	if r := b.get("/restore-list"); r.StatusCode == http.StatusOK {
		t.Error("a session sealed with a retired key still works")
	}
	s.signedIn(megan)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAReplicaRefusesToStartWithoutSharedKeys: with PostgreSQL, a replica
// does not make keys of its own.
func TestAReplicaRefusesToStartWithoutSharedKeys(t *testing.T) {
	t.Parallel()
	pg := pgtest.Shared(t)
	dbURL, pwFile := pg.WithoutPassword(pg.Database(t))
	var out strings.Builder
	for _, env := range []map[string]string{
		{},
		{"PORTAL_SESSION_KEY_FILE": filepath.Join(t.TempDir(), "missing.key")},
	} {
		out.Reset()
		env = merge(env, map[string]string{"PORTAL_ADDR": "127.0.0.1:0", "PORTAL_VEEAM_URL": "http://127.0.0.1:1",
			"PORTAL_CLIENT_SECRET": "s", "PORTAL_DATA_DIR": t.TempDir(), "PORTAL_DATABASE_URL": dbURL, "PORTAL_DATABASE_PASSWORD_FILE": pwFile})
		err := run(t.Context(), nil, func(k string) string { return env[k] }, &out, time.Now)
		if err == nil || !strings.Contains(err.Error(), "PORTAL_SESSION_KEY_FILE") {
			t.Errorf("%v: %v", env["PORTAL_SESSION_KEY_FILE"], err)
		}
		if strings.Contains(err.Error(), pgtest.Role+":") {
			t.Errorf("the error shows credentials: %v", err)
		}
	}
}

func TestMain(m *testing.M) {
	if target := os.Getenv(proxyTargetEnv); target != "" {
		os.Exit(runProxy(target)) // the side-by-side benchmarks' reverse proxy
	}
	os.Exit(pgtest.Main(m))
}

// TestReadinessFollowsTheDatabase: a replica that cannot reach its
// database says it is not ready, and ready again once it can.
func TestReadinessFollowsTheDatabase(t *testing.T) {
	t.Parallel()
	rs := startReplicas(t, stackOptions{})
	pg := pgtest.Shared(t)
	db := pgtest.DatabaseName(rs.dsn)
	ready := func() int { return rs.s.browser().get("http://" + rs.replicas[0].addr + "/readyz").StatusCode }
	wait.For(t, "the replica to be ready", func() bool { return ready() == http.StatusOK })
	pg.Admin(t, "postgres", `ALTER DATABASE `+db+` CONNECTION LIMIT 0`)
	pg.Admin(t, "postgres", `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '`+db+`'`)
	wait.For(t, "the replica to say it is not ready", func() bool { return ready() == http.StatusServiceUnavailable })
	pg.Admin(t, "postgres", `ALTER DATABASE `+db+` CONNECTION LIMIT -1`)
	wait.For(t, "the replica to be ready again", func() bool { return ready() == http.StatusOK })
}
