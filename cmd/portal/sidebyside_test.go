package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openrestore/portal/fakeveeam"
	"github.com/openrestore/portal/internal/wait"
)

// proxyTargetEnv, set in the environment of this test binary, makes it the
// bare reverse proxy of the side-by-side benchmarks instead of running tests
// (see TestMain): httputil.ReverseProxy to that URL and nothing else.
const proxyTargetEnv = "PORTAL_BENCH_PROXY_TARGET"

// runProxy serves a bare httputil.ReverseProxy to target on a free loopback
// port until interrupted, and says where on its standard output.
func runProxy(target string) int {
	u, err := url.Parse(target)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	p := httputil.NewSingleHostReverseProxy(u)
	// Keep a connection to VB365 per concurrent request, as the portal does.
	p.Transport = &http.Transport{MaxIdleConnsPerHost: 64}
	srv := &http.Server{Handler: p}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	go func() { <-stop; srv.Close() }()
	fmt.Printf("proxy listening on http://%s\n", ln.Addr())
	srv.Serve(ln)
	return 0
}

// proxyProcess is the bare reverse proxy, run as its own process on the
// portal's core.
type proxyProcess struct {
	url string
	pid int
}

func startProxyProcess(b *testing.B, target string) *proxyProcess {
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^$")
	if taskset, err := exec.LookPath("taskset"); err == nil {
		cmd = exec.Command(taskset, "-c", "0", self, "-test.run=^$")
	}
	cmd.Env = append(os.Environ(), proxyTargetEnv+"="+target)
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	b.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(wait.Deadline):
			cmd.Process.Kill()
		}
	})
	lines := bufio.NewScanner(out)
	if !lines.Scan() {
		b.Fatalf("the proxy did not start: %v", lines.Err())
	}
	go func() { io.Copy(io.Discard, out); cmd.Wait(); close(done) }()
	addr, ok := strings.CutPrefix(lines.Text(), "proxy listening on ")
	if !ok {
		b.Fatalf("the proxy says %q", lines.Text())
	}
	return &proxyProcess{url: addr, pid: cmd.Process.Pid}
}

// recordCalls asks for a page once and returns the VB365 calls it made,
// in the order they started: not the one-item probes of a search for a
// list's end, which runs in the background after a list's first page.
func recordCalls(b *testing.B, s *stack, as *browser, path string) []fakeveeam.Request {
	s.veeam.ResetRequests()
	if r := as.get(path); r.StatusCode != http.StatusOK {
		b.Fatalf("%s: %d", path, r.StatusCode)
	}
	calls := slices.DeleteFunc(s.veeam.Requests(), func(r fakeveeam.Request) bool {
		q, _ := url.ParseQuery(r.RawQuery)
		return q.Get("limit") == "1"
	})
	slices.SortFunc(calls, func(a, b fakeveeam.Request) int { return a.Start.Compare(b.Start) })
	if len(calls) == 0 {
		b.Fatalf("%s made no VB365 call", path)
	}
	return calls
}

// replay makes the recorded calls again, one after the other, against base
// (the fake itself or a proxy in front of it), with the headers and bodies
// the portal sent, reads every answer whole and returns how many bytes the
// answers held.
func replay(c *http.Client, base string, calls []fakeveeam.Request) (int64, error) {
	var read int64
	for _, call := range calls {
		target := base + call.RawPath
		if call.RawQuery != "" {
			target += "?" + call.RawQuery
		}
		req, err := http.NewRequest(call.Method, target, bytes.NewReader(call.Body))
		if err != nil {
			return read, err
		}
		req.Header = call.Header.Clone()
		resp, err := c.Do(req)
		if err != nil {
			return read, err
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if read += n; err != nil {
			return read, err
		}
		if resp.StatusCode != call.Status {
			return read, fmt.Errorf("%s %s: %d, the portal got %d", call.Method, call.Path, resp.StatusCode, call.Status)
		}
	}
	return read, nil
}

// sideBySidePages starts the portal and finds the four pages the
// performance targets name: the Inbox, a search, a library page and a
// channel's posts.
func sideBySidePages(b *testing.B) (*stack, []benchPage) {
	s, pages := benchPages(b)
	return s, slices.DeleteFunc(pages, func(p benchPage) bool { return strings.HasPrefix(p.name, "onedrive-") })
}

// BenchmarkSideBySide measures the portal's CPU per page against a bare
// httputil.ReverseProxy's for the same VB365 calls: the page's calls are
// recorded once, then, three times over and interleaved, the portal serves
// the page b.N times (to a client that does not take gzip, then to one
// that does) and the proxy, on the same core, passes the recorded calls
// b.N times. Reported: the CPU of each per page (medians) and the ratio
// portal/proxy (min, median, max of the three rounds).
func BenchmarkSideBySide(b *testing.B) {
	s, pages := sideBySidePages(b)
	proxy := startProxyProcess(b, s.veeam.URL())
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
	for _, page := range pages {
		b.Run(page.name, func(b *testing.B) {
			page.as.get(page.path) // caches filled, as for anyone browsing
			calls := recordCalls(b, s, page.as, page.path)
			var portal, gzipped, bare []float64
			for range 3 {
				portal = append(portal, cpuPerPage(b, s.pid, func() {
					if r := page.as.get(page.path, "Accept-Encoding: identity"); r.StatusCode != http.StatusOK {
						b.Fatalf("%s: %d", page.path, r.StatusCode)
					}
				}))
				gzipped = append(gzipped, cpuPerPage(b, s.pid, func() { page.as.get(page.path) }))
				bare = append(bare, cpuPerPage(b, proxy.pid, func() {
					if _, err := replay(client, proxy.url, calls); err != nil {
						b.Fatal(err)
					}
				}))
			}
			ratio, gzipRatio := make([]float64, 3), make([]float64, 3)
			for i := range 3 {
				ratio[i], gzipRatio[i] = portal[i]/bare[i], gzipped[i]/bare[i]
			}
			b.ReportMetric(float64(len(calls)), "vb365-calls/page")
			b.ReportMetric(median(portal), "portal-cpu-ms/page")
			b.ReportMetric(median(gzipped), "portal-gzip-cpu-ms/page")
			b.ReportMetric(median(bare), "proxy-cpu-ms/page")
			reportRatio(b, ratio)
			b.ReportMetric(median(gzipRatio), "gzip-ratio-median")
		})
	}
}

// cpuPerPage runs page b.N times and returns the CPU the process pid
// used, per page, in milliseconds.
func cpuPerPage(b *testing.B, pid int, page func()) float64 {
	before := processCPU(b, pid)
	for range b.N {
		page()
	}
	return ms(processCPU(b, pid)-before) / float64(b.N)
}

// reportRatio reports the least, the median and the greatest of the rounds' ratios.
func reportRatio(b *testing.B, ratio []float64) {
	b.ReportMetric(slices.Min(ratio), "ratio-min")
	b.ReportMetric(median(ratio), "ratio-median")
	b.ReportMetric(slices.Max(ratio), "ratio-max")
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkThroughput measures pages per second at saturation: c clients
// (8, then 32) ask for a page b.N times in all through the portal, then the
// same number of times make the page's recorded VB365 calls to the fake
// alone; three rounds, interleaved. Reported: both rates (medians) and the
// ratio portal/fake (min, median, max).
func BenchmarkThroughput(b *testing.B) {
	s, pages := sideBySidePages(b)
	for _, page := range pages {
		for _, c := range []int{8, 32} {
			b.Run(fmt.Sprintf("%s/c=%d", page.name, c), func(b *testing.B) {
				page.as.get(page.path)
				calls := recordCalls(b, s, page.as, page.path)
				// A connection per client, kept, to the portal and to the fake.
				as := &browser{s: s, c: &http.Client{Jar: page.as.c.Jar, Timeout: page.as.c.Timeout,
					Transport: &http.Transport{MaxIdleConnsPerHost: c}, CheckRedirect: page.as.c.CheckRedirect}}
				direct := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c, DisableCompression: true}}
				var portal, fake, ratio []float64
				for range 3 {
					p := pagesPerSecond(b, c, func() {
						if r := as.get(page.path); r.StatusCode != http.StatusOK {
							b.Errorf("%s: %d", page.path, r.StatusCode)
						}
					})
					f := pagesPerSecond(b, c, func() {
						if _, err := replay(direct, s.veeam.URL(), calls); err != nil {
							b.Error(err)
						}
					})
					portal, fake, ratio = append(portal, p), append(fake, f), append(ratio, p/f)
				}
				b.ReportMetric(median(portal), "portal-pages/s")
				b.ReportMetric(median(fake), "fake-alone-pages/s")
				reportRatio(b, ratio)
			})
		}
	}
}

// pagesPerSecond runs page b.N times from c goroutines at once and returns
// the rate.
func pagesPerSecond(b *testing.B, c int, page func()) float64 {
	var left atomic.Int64
	left.Store(int64(b.N))
	start := time.Now()
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				page()
			}
		})
	}
	wg.Wait()
	return float64(b.N) / time.Since(start).Seconds()
}

// BenchmarkDownloadSideBySide streams a 256 MiB PST export through the
// portal and, side by side, its recorded VB365 calls through a bare
// httputil.ReverseProxy on the same core: one download at a time, then
// eight at once; three rounds, interleaved. Reported: both throughputs and
// CPU per GiB (medians) and the throughput ratio portal/proxy (min, median,
// max).
func BenchmarkDownloadSideBySide(b *testing.B) {
	const size = 256 << 20
	s, br, path := pstExport(b, size)
	proxy := startProxyProcess(b, s.veeam.URL())
	export := s.url + path
	form := url.Values{"csrf_token": {br.csrf()}}.Encode()
	s.veeam.ResetRequests()
	if n, err := postDownload(br, export, form); err != nil || n < size {
		b.Fatalf("downloaded %d bytes: %v", n, err)
	}
	calls := s.veeam.Requests()
	slices.SortFunc(calls, func(a, b fakeveeam.Request) int { return a.Start.Compare(b.Start) })
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
	for _, parallel := range []int{1, 8} {
		b.Run(fmt.Sprintf("parallel=%d", parallel), func(b *testing.B) {
			var portal, bare, ratio, portalCPU, bareCPU []float64
			gib := float64(b.N*parallel) * size / (1 << 30)
			for range 3 {
				before := processCPU(b, s.pid)
				p := mibPerSecond(b, parallel, func() (int64, error) { return postDownload(br, export, form) })
				portalCPU = append(portalCPU, ms(processCPU(b, s.pid)-before)/gib)
				before = processCPU(b, proxy.pid)
				x := mibPerSecond(b, parallel, func() (int64, error) { return replay(client, proxy.url, calls) })
				bareCPU = append(bareCPU, ms(processCPU(b, proxy.pid)-before)/gib)
				portal, bare, ratio = append(portal, p), append(bare, x), append(ratio, p/x)
			}
			b.ReportMetric(float64(len(calls)), "vb365-calls/download")
			b.ReportMetric(median(portal), "portal-MiB/s")
			b.ReportMetric(median(bare), "proxy-MiB/s")
			b.ReportMetric(median(portalCPU), "portal-cpu-ms/GiB")
			b.ReportMetric(median(bareCPU), "proxy-cpu-ms/GiB")
			reportRatio(b, ratio)
		})
	}
}

// mibPerSecond runs download b.N times in each of parallel goroutines at
// once and returns the bytes read per second of them all, in MiB.
func mibPerSecond(b *testing.B, parallel int, download func() (int64, error)) float64 {
	var total atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range parallel {
		wg.Go(func() {
			for range b.N {
				n, err := download()
				if err != nil {
					b.Error(err)
					return
				}
				total.Add(n)
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	return float64(total.Load()) / (1 << 20) / time.Since(start).Seconds()
}
