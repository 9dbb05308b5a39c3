package fakeveeam

import (
	"net/http"
	"strings"
	"time"
)

// Fault describes a failure to inject into matching requests.
type Fault struct {
	// Method matches the request method; empty matches any.
	Method string
	// Path matches requests whose path starts with it (for example
	// "/v8/Organization/LoggedInUser"); empty matches any.
	Path string
	// Delay waits before the fault (or before answering normally when no failure is set).
	Delay time.Duration
	// Status answers with this status and a RESTExceptionInfo body.
	Status    int
	ErrorCode string
	Message   string
	// Hang never answers; the request ends when the client gives up.
	Hang bool
	// Reset closes the connection without an answer.
	Reset bool
	// Garbage answers 200 with a body that is not JSON.
	Garbage bool
	// CutAfter answers normally but closes the connection once this many
	// bytes of the body are sent: a download that breaks part way.
	CutAfter int64
	// Times limits how many requests the fault hits; 0 means until removed.
	Times int
}

type faultEntry struct {
	Fault
	hits int
}

// Inject adds a fault and returns a function that removes it.
func (s *Server) Inject(f Fault) (remove func()) {
	e := &faultEntry{Fault: f}
	s.mu.Lock()
	s.faults = append(s.faults, e)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i, x := range s.faults {
			if x == e {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
				return
			}
		}
	}
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// applyFault answers r with the first matching fault, if any, and reports whether it did.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	var f *Fault
	for _, e := range s.faults {
		if (e.Method == "" || e.Method == r.Method) && strings.HasPrefix(r.URL.Path, e.Path) && (e.Times == 0 || e.hits < e.Times) {
			e.hits++
			copied := e.Fault
			f = &copied
			break
		}
	}
	s.mu.Unlock()
	if f == nil {
		return false
	}
	if f.Delay > 0 && !sleep(r.Context(), f.Delay) {
		return true
	}
	switch {
	case f.Hang:
		<-r.Context().Done()
	case f.Reset:
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
			return true
		}
		panic(http.ErrAbortHandler)
	case f.Garbage:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte("<html>Service Unavailable</html>\x00{"))
	case f.Status != 0:
		msg := f.Message
		if msg == "" {
			msg = http.StatusText(f.Status)
		}
		writeError(w, f.Status, f.ErrorCode, msg)
	case f.CutAfter > 0:
		if rec, ok := w.(*statusRecorder); ok {
			rec.cutAfter = f.CutAfter
		}
		return false
	default:
		return false // a pure delay: answer normally
	}
	return true
}
