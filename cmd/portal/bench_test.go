package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openrestore/portal/fakeentra"
	"github.com/openrestore/portal/fakeveeam"
	"github.com/openrestore/portal/internal/pgtest"
)

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// union is how long at least one of the requests was being answered
// (overlapping requests count once).
func union(reqs []fakeveeam.Request) time.Duration {
	slices.SortFunc(reqs, func(a, b fakeveeam.Request) int { return a.Start.Compare(b.Start) })
	var total time.Duration
	var start, end time.Time
	for i, r := range reqs {
		switch {
		case i == 0:
			start, end = r.Start, r.End
		case r.Start.After(end):
			total += end.Sub(start)
			start, end = r.Start, r.End
		case r.End.After(end):
			end = r.End
		}
	}
	if len(reqs) > 0 {
		total += end.Sub(start)
	}
	return total
}

// BenchmarkPortalOverhead measures a mail folder page (100 items), a mail
// search page, a OneDrive folder page, a library page (100 documents) and a
// OneDrive search page and a Teams channel's posts end to end, from an HTTP client on loopback to the portal running as
// its own process, and subtracts the fake VB365 server's own time answering
// the portal's calls for the page: what is left is the portal's overhead
// (sessions, decoding, templates, logging, its hops on loopback). Reported
// per page: overhead and the fake's time, at p50 and p99.
func BenchmarkPortalOverhead(b *testing.B) {
	// Keep this process's collector (the fakes' and the client's garbage)
	// from delaying the fake's answers, which would count as the portal's time.
	defer debug.SetGCPercent(debug.SetGCPercent(2000))
	s, pages := benchPages(b)
	for _, page := range pages {
		b.Run(page.name, func(b *testing.B) { measureOverhead(b, s, page.as, page.path) })
	}
}

// benchPage is a page the benchmarks ask for, and who asks for it.
type benchPage struct {
	name, path string
	as         *browser
}

// benchPages starts the portal (its own process on core 0), signs in Adele
// and Lee and finds the pages the benchmarks measure: Adele's Inbox (100
// messages), a search of her mailbox, a OneDrive folder and search, a
// 100-document library page and a Teams channel's posts (as Lee).
func benchPages(b *testing.B) (*stack, []benchPage) {
	s := startPortalProcess(b, fakeveeam.Options{LargeLibrarySite: "Sales Proposals", LargeLibraryDocs: 5_000})
	adeleB := s.signedIn(adele)
	sid, _ := adeleB.explore("exchange")
	m := adeleB.openMailbox(sid, "Adele Vance")
	odID, _ := adeleB.explore("onedrive")
	od := adeleB.openDocs(odID, "Adele Vance")
	leeB := s.signedIn(lee)
	spID, _ := leeB.explore("sharepoint")
	library := leeB.openDocs(spID, "Sales Proposals").open(fakeveeam.LargeLibraryName)
	teamsID, _ := leeB.explore("teams")
	team := leeB.openTeam(teamsID, "Sales and Marketing")
	return s, []benchPage{
		{"folder", m.page.Request.URL.Path, adeleB},
		{"search", m.base + "/search?" + url.Values{"q": {"plan"}, "after": {"2026-01-01"}}.Encode(), adeleB},
		{"onedrive-folder", od.open("Documents").Request.URL.Path, adeleB},
		{"library-100", library.Request.URL.Path, leeB},
		{"onedrive-search", od.base + "/search?" + url.Values{"q": {"report"}, "after": {"2026-01-01"}}.Encode(), adeleB},
		{"channel-posts", linkNamed(b, team, "table.channel-items a", "General"), leeB},
	}
}

// measureOverhead asks for a page b.N times and reports the portal's
// overhead (the client's wait less the fake's own time) and the fake's
// time, at p50, p90 and p99.
func measureOverhead(b *testing.B, s *stack, as *browser, path string) {
	var overhead, upstream []time.Duration
	cpuBefore := processCPU(b, s.pid)
	for b.Loop() {
		s.veeam.ResetRequests()
		start := time.Now()
		r := as.get(path)
		total := time.Since(start)
		if r.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d", path, r.StatusCode)
		}
		up := union(s.veeam.Requests())
		overhead, upstream = append(overhead, total-up), append(upstream, up)
	}
	b.ReportMetric(ms(percentile(overhead, .5)), "overhead-p50-ms")
	b.ReportMetric(ms(percentile(overhead, .99)), "overhead-p99-ms")
	b.ReportMetric(ms(percentile(overhead, .90)), "overhead-p90-ms")
	b.ReportMetric(ms(percentile(upstream, .5)), "fake-p50-ms")
	b.ReportMetric(ms(percentile(upstream, .99)), "fake-p99-ms")
	// The portal's own CPU per page (user and system time of its process):
	// the figure to compare with a bare reverse proxy's for the same calls.
	b.ReportMetric(ms(processCPU(b, s.pid)-cpuBefore)/float64(b.N), "portal-cpu-ms/page")
}

// processCPU is the CPU time (user and system) a process has used, from
// /proc/<pid>/stat (counted in ticks of 10 ms).
func processCPU(b testing.TB, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The command name may hold spaces: the fields start after its closing parenthesis.
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * (time.Second / 100) // USER_HZ is 100 on Linux
}

// BenchmarkFolderPageByStore measures the mail folder page's overhead as
// BenchmarkPortalOverhead does, once with the embedded SQLite store and
// once with PostgreSQL (a throwaway server on this machine, on the cores
// the fakes use, as a database server of its own would be), side by side.
func BenchmarkFolderPageByStore(b *testing.B) {
	defer debug.SetGCPercent(debug.SetGCPercent(2000))
	for _, store := range []string{"sqlite", "postgres"} {
		b.Run(store, func(b *testing.B) {
			env := map[string]string{}
			if store == "postgres" {
				pg := pgtest.Shared(b)
				dbURL, pwFile := pg.WithoutPassword(pg.Database(b))
				keyFile := filepath.Join(b.TempDir(), "session.key")
				if err := os.WriteFile(keyFile, []byte(newKey()+"\n"), 0o600); err != nil {
					b.Fatal(err)
				}
				env = map[string]string{"PORTAL_DATABASE_URL": dbURL, "PORTAL_DATABASE_PASSWORD_FILE": pwFile, "PORTAL_SESSION_KEY_FILE": keyFile}
			}
			for _, listed := range []int{0, 1000} {
				b.Run(fmt.Sprintf("restore-list-%d", listed), func(b *testing.B) {
					s := startPortalProcess(b, fakeveeam.Options{LargeMailbox: adele, LargeFolderItems: 1000}, env)
					br := s.signedIn(adele)
					sid, _ := br.explore("exchange")
					m := br.openMailbox(sid, "Adele Vance")
					fillRestoreList(b, br, m, listed)
					measureOverhead(b, s, br, m.page.Request.URL.Path)
				})
			}
		})
	}
}

// fillRestoreList puts n messages of the large folder on the restore list,
// a page of a hundred at a time: what a list of that size costs every
// other page is then measured.
func fillRestoreList(b *testing.B, br *browser, m *mailbox, n int) {
	folder := m.folder("Inbox/Notifications").Request.URL.Path
	for offset := 0; offset < n; offset += 100 {
		var keys []string
		for _, r := range rowsOf(b, br.get(fmt.Sprintf("%s?offset=%d", folder, offset))) {
			keys = append(keys, r.key)
		}
		if r := br.post(m.base+"/restore-list", url.Values{"item": keys}); r.StatusCode >= 400 {
			b.Fatalf("adding to the restore list: %d", r.StatusCode)
		}
	}
	if got := len(br.get("/restore-list").doc(b).Find(`input[name="remove"]`).Nodes); got < n {
		b.Fatalf("the restore list holds %d items, not %d", got, n)
	}
}

// startPortalProcess builds the portal and runs it as its own process, as
// in production, against both fakes in this process, with env added to
// its environment.
func startPortalProcess(b *testing.B, vo fakeveeam.Options, env ...map[string]string) *stack {
	c := testClock(b)
	entra, err := fakeentra.Start("127.0.0.1:0", fakeentra.Options{Now: c.Now})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { entra.Close() })
	vo.EntraAuthority, vo.Now = entra.Authority(), c.Now
	veeam, err := fakeveeam.Start("127.0.0.1:0", vo)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { veeam.Close() })
	s := &stack{t: b, clock: c, entra: entra, veeam: veeam, env: merge(env...)}
	// On a machine with cores to spare, the portal gets a core of its own and
	// this process (the fakes and the client) the others, as when VB365 runs
	// on its own server; otherwise their work would count as the portal's.
	pin := runtime.NumCPU() >= 2
	if pin {
		pinOthers(b, runtime.NumCPU())
	}
	p := s.startProcess(buildPortal(b), b.TempDir(), pin)
	s.url, s.pid = p.url, p.cmd.Process.Pid
	return s
}

// BenchmarkDownloadMemory streams a 1 GiB PST export through the portal,
// run as its own process, and samples the process's resident memory while
// the bytes flow. Reported: the peak above the resident memory when idle
// (just before the download), and the throughput.
func BenchmarkDownloadMemory(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads /proc")
	}
	const size = 1 << 30
	s, br, export := pstExport(b, size)
	downloadMemory(b, s, br, export, size, 1)
}

// BenchmarkDownloadMemory8 streams eight 256 MiB PST exports at once.
func BenchmarkDownloadMemory8(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads /proc")
	}
	const size = 256 << 20
	s, br, export := pstExport(b, size)
	downloadMemory(b, s, br, export, size, 8)
}

// pstExport starts the portal (its own process) with Adele's PST exports
// size bytes larger, signs her in and returns the path that exports her Inbox.
func pstExport(b *testing.B, size int64) (*stack, *browser, string) {
	s := startPortalProcess(b, fakeveeam.Options{ExportPadding: size})
	br := s.signedIn(adele)
	sid, _ := br.explore("exchange")
	m := br.openMailbox(sid, "Adele Vance")
	return s, br, m.page.doc(b).Find(`form[action$="/export"]`).AttrOr("action", "")
}

// BenchmarkDocumentDownloadMemory streams the 200 MiB recording of a
// OneDrive, as BenchmarkDownloadMemory streams a PST.
func BenchmarkDocumentDownloadMemory(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads /proc")
	}
	s := startPortalProcess(b, fakeveeam.Options{})
	br := s.signedIn(adele)
	sid, _ := br.explore("onedrive")
	od := br.openDocs(sid, "Adele Vance")
	video := findDoc(b, od.open("Videos"), path.Base(fakeveeam.StoryLargeDoc))
	downloadMemory(b, s, br, video.href+"/download", fakeveeam.StoryLargeDocSize, 1)
}

// downloadMemory posts to a download path, parallel times at once, and
// samples the portal's resident memory while the bytes flow. Reported: the
// peak above the resident memory when idle (just before the downloads),
// and the throughput of them all.
func downloadMemory(b *testing.B, s *stack, br *browser, target string, size int64, parallel int) {
	form := url.Values{"csrf_token": {br.csrf()}}.Encode()
	var peakAbove, mbps float64
	for b.Loop() {
		runtime.GC()
		time.Sleep(200 * time.Millisecond)
		idle := rss(b, s.pid)
		var peak atomic.Int64
		peak.Store(idle)
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			t := time.NewTicker(5 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					if v := rss(b, s.pid); v > peak.Load() {
						peak.Store(v)
					}
				}
			}
		}()
		start := time.Now()
		var total atomic.Int64
		var wg sync.WaitGroup
		for range parallel {
			wg.Go(func() {
				n, err := postDownload(br, s.url+target, form)
				if err != nil || n < size {
					b.Errorf("downloaded %d bytes: %v", n, err)
				}
				total.Add(n)
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		close(stop)
		<-sampled
		if b.Failed() {
			b.FailNow()
		}
		n := total.Load()
		peakAbove = float64(peak.Load()-idle) / (1 << 20)
		mbps = float64(n) / (1 << 20) / elapsed.Seconds()
	}
	b.ReportMetric(peakAbove, "peak-rss-above-idle-MiB")
	b.ReportMetric(mbps, "MiB/s")
}

// postDownload posts a download form (the encoded form, with its CSRF
// token) as the portal's pages do, reads the answer to its end and returns
// how many bytes it held.
func postDownload(br *browser, target, form string) (int64, error) {
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := br.c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %d", resp.StatusCode)
	}
	return n, err
}

// rss reads a process's resident memory in bytes.
func rss(b testing.TB, pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

// pinOthers keeps this process off core 0, the portal's.
func pinOthers(b *testing.B, cpus int) {
	out, err := exec.Command("taskset", "-a", "-p", "-c", fmt.Sprintf("1-%d", cpus-1), strconv.Itoa(os.Getpid())).CombinedOutput()
	if err != nil {
		b.Logf("taskset: %v %s", err, out)
		return
	}
	b.Cleanup(func() {
		exec.Command("taskset", "-a", "-p", "-c", fmt.Sprintf("0-%d", cpus-1), strconv.Itoa(os.Getpid())).Run()
	})
}
