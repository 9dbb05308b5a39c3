package fakevbazure

import "time"

// What tests (and the demo's checks) see of the VMs and their sessions,
// beyond the API.

// LiveFile is the file or folder at path on a VM now, and whether there is one.
func (s *Server) LiveFile(vm, path string) (File, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(s.opts.Now())
	v := s.vmByName(vm)
	if v == nil || v.live == nil {
		return File{}, false
	}
	e, err := v.live.get(path)
	if err != nil {
		return File{}, false
	}
	return File{Path: path, Size: e.size, Modified: e.modified, Folder: e.folder, Locked: e.locked}, true
}

// LiveNames are the names in a folder of a VM now, in listing order.
func (s *Server) LiveNames(vm, dir string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(s.opts.Now())
	v := s.vmByName(vm)
	if v == nil || v.live == nil {
		return nil
	}
	e, err := v.live.get(dir)
	if err != nil || !e.folder {
		return nil
	}
	var out []string
	for _, c := range e.list() {
		out = append(out, c.name)
	}
	return out
}

// RemoveLive deletes a file or folder from a VM, as someone on the VM would.
func (s *Server) RemoveLive(vm, path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v := s.vmByName(vm); v != nil && v.live != nil {
		if names, err := v.live.split(path); err == nil {
			v.live.remove(names)
		}
	}
}

// FLRSession is a file-level restore session as the fake sees it.
type FLRSession struct {
	ID, VM, Initiator, Reason, Status string
	Point                             time.Time
	Running, Ready                    bool
	Started, Stopped                  time.Time
}

// FLRSessions are the file-level restore sessions started since the
// fake started (the seeded failures included), oldest first.
func (s *Server) FLRSessions() []FLRSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	s.advance(now)
	var out []FLRSession
	for _, j := range s.jobs {
		if j.typ != "FileLevelRestore" {
			continue
		}
		x := FLRSession{ID: j.id, VM: j.vm.seed.Name, Initiator: j.initiator, Reason: j.reason, Status: j.status, Running: j.running(),
			Ready: j.ready(now), Started: j.started, Stopped: j.stopped}
		if j.point != nil {
			x.Point = j.point.time
		}
		out = append(out, x)
	}
	return out
}

func (s *Server) vmByName(name string) *azVM {
	for _, v := range s.vms {
		if v.seed.Name == name {
			return v
		}
	}
	return nil
}
